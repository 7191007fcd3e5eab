"""The three contracts every component follows: :class:`Sampler`, :class:`Dataset`, :class:`Metric`.

They follow scikit-learn's estimator conventions: ``__init__`` only stores its keyword
parameters under the same names (every one has a default), learned state ends with ``_``,
randomness always comes in as a :class:`numpy.random.Generator`, and :meth:`get_params`
is what grids, cell ids and the results table read. Parameters are declared once, as annotated
class attributes (:func:`genbench.params.param` adds a range); ``__init__`` is then written for
the component (see :mod:`genbench.params`).
"""

from __future__ import annotations

import inspect
import math
import sys
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .params import Param, Range, check_values, values_equal

if TYPE_CHECKING:
    import numpy as np

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
elif TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # Python 3.10 at run time: the decorator only informs type checkers

    def dataclass_transform(**kwargs: Any) -> Callable[[type], type]:
        return lambda cls: cls


__all__ = [
    "Component",
    "Dataset",
    "Metric",
    "NaNWithReason",
    "Param",
    "Sampler",
    "nan_with_reason",
]

# Capabilities a dataset can offer and a sampler can require.
CAPABILITIES = ("log_prob", "score", "support_distance", "conditional")


# Type checkers see the ``__init__`` that ``__init_subclass__`` writes as a dataclass's: one keyword per
# annotated class attribute with a value (``param(...)`` or a plain default), so ``Bridge(epz=1)`` is
# flagged. ``param`` is deliberately not a field specifier (PEP 681 reads a default only from a
# ``default=`` keyword): to a type checker ``x: float = param(0.01, gt=0)`` is a field with a default.
@dataclass_transform(eq_default=False)
class Component:
    """Common base: named, parameterised by its ``__init__`` keywords."""

    #: Registered name: what suites, selectors and ``make_*`` use.
    name: ClassVar[str] = ""

    #: Slow imports worth doing once in the worker forkserver rather than in every cell:
    #: ``"module"`` or ``"module:function"`` (called with no arguments), e.g. ``("torch",)``.
    preload: ClassVar[tuple[str, ...]] = ()

    #: Importable modules the component needs beyond genbench's core (e.g. ``("torch",)``).
    #: Where one is missing the component is still listed, with the reason, and its cells are
    #: ``skipped``; import such modules inside methods, never at the top of the plugin module.
    requires_packages: ClassVar[tuple[str, ...]] = ()

    #: The genbench extra that installs :attr:`requires_packages` (named in the skip reason).
    extra: ClassVar[str] = ""

    #: Declared parameters of this class and its bases (filled in by ``__init_subclass__``).
    _declared: ClassVar[dict[str, Param]] = {}

    #: The ``__init__`` written for the class that last declared parameters (set with ``_declared``).
    _generated_init: ClassVar[Callable[..., None]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Collect the parameters declared on ``cls`` (annotated class attributes; see
        :mod:`genbench.params`) and write its ``__init__`` when it declares any."""
        super().__init_subclass__(**kwargs)
        own = _own_declarations(cls)
        if not own:
            return
        inherited = _inherited_declarations(cls)
        for key, spec in own.items():  # a new default alone keeps the base's range
            if spec.range is None and key in inherited and inherited[key].range is not None:
                own[key] = Param(spec.default, inherited[key].range)
        declared = {**inherited, **own}
        for key, spec in own.items():
            setattr(cls, key, spec.default)  # the class attribute reads as the default
        cls._declared = declared
        cls.__init__ = _declared_init(cls, declared)  # type: ignore[method-assign]

    @classmethod
    def _init_signature(cls) -> inspect.Signature:
        init = cls.__init__
        if init is object.__init__:
            return inspect.Signature()
        return inspect.signature(init)

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Parameter names and defaults, read from ``__init__`` (sorted by name)."""
        out: dict[str, Any] = {}
        for p in cls._init_signature().parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            out[p.name] = None if p.default is p.empty else p.default
        return dict(sorted(out.items()))

    @classmethod
    def param_annotations(cls) -> dict[str, Any]:
        """Resolved type hints of the parameters ({} for those that cannot be resolved)."""
        if cls._declared and inspect.unwrap(cls.__init__) is getattr(cls, "_generated_init", None):
            return _declared_annotations(cls)
        try:
            hints = typing.get_type_hints(cls.__init__)
        except Exception:
            return {}
        hints.pop("return", None)
        return hints

    @classmethod
    def param_ranges(cls) -> dict[str, Range]:
        """The declared numeric ranges of the parameters that have one."""
        return {k: p.range for k, p in cls._declared.items() if p.range is not None}

    def get_params(self) -> dict[str, Any]:
        """Current parameter values, as ``__init__`` stored them."""
        return {k: getattr(self, k, v) for k, v in self.param_defaults().items()}

    def set_params(self, **params: Any) -> Component:
        """Set parameters and check them as :meth:`check_params` does; returns ``self``. An unknown
        name or a bad value raises :class:`ValueError` and leaves the parameters as they were."""
        known = self.param_defaults()
        for k in params:
            if k not in known:
                raise ValueError(f"{type(self).__name__} has no parameter {k!r} (has: {', '.join(known)})")
        before = {k: getattr(self, k, known[k]) for k in params}
        for k, v in params.items():
            setattr(self, k, v)
        try:
            self.check_params()
        except Exception:
            for k, v in before.items():
                setattr(self, k, v)
            raise
        return self

    def check_params(self) -> None:
        """Raise :class:`ValueError` naming the parameter when a value has the wrong type or lies
        outside its declared range (:mod:`genbench.params`; numeric parameters named ``n_*``,
        ``dim``, ``steps``, ``chains``, ``iterations`` or ``epochs`` must be positive unless declared
        otherwise). Components add rules that relate parameters by overriding (and calling ``super()``).
        """
        check_values(type(self), self.get_params())

    def __repr__(self) -> str:
        defaults = self.param_defaults()
        changed = {k: v for k, v in self.get_params().items() if not values_equal(defaults.get(k), v)}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"


def _contract_names(cls: type) -> set[str]:
    """Attributes the contracts define for ``cls`` (``name``, ``requires``, a dataset's ``score``…):
    never parameters, even when annotated. A sampler may still call a parameter ``score``."""
    return {k for base in cls.__mro__ if base.__module__ == __name__ for k in vars(base)}


def _own_declarations(cls: type) -> dict[str, Param]:
    """Parameters ``cls`` itself declares: its annotated class attributes with a value (a plain
    default or :func:`~genbench.params.param`), except ``ClassVar``, private and the contracts' own
    names (:func:`_contract_names`). A class that writes its own ``__init__`` declares nothing this way (its annotated
    attributes are its own business), but may not use :func:`~genbench.params.param`."""
    if "__init__" in vars(cls):
        if any(isinstance(v, Param) for v in vars(cls).values()):
            raise TypeError(f"{cls.__qualname__}: declare parameters with param() or write __init__, not both")
        return {}
    annotations = vars(cls).get("__annotations__", {})
    reserved = _contract_names(cls)
    out: dict[str, Param] = {}
    for key, ann in annotations.items():
        if key.startswith("_") or key in reserved or "ClassVar" in str(ann) or key not in vars(cls):
            continue
        value = vars(cls)[key]
        if isinstance(value, (classmethod, staticmethod, property)) or (
            callable(value) and not isinstance(value, Param)
        ):
            continue
        out[key] = value if isinstance(value, Param) else Param(value)
    return out


def _inherited_declarations(cls: type) -> dict[str, Param]:
    out: dict[str, Param] = {}
    for base in reversed(cls.__mro__[1:]):
        out.update(getattr(base, "_declared", None) or {})
    return out


def _declared_init(cls: type[Component], declared: dict[str, Param]) -> Callable[..., None]:
    names = list(declared)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} parameters, got {len(args)} positional")
        for key, value in zip(names, args, strict=False):
            if key in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for parameter {key!r}")
            kwargs[key] = value
        for key in kwargs:
            if key not in declared:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {key!r}")
        for key, spec in declared.items():
            setattr(self, key, kwargs.get(key, spec.default))

    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [
        inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for k, p in declared.items()
    ]
    __init__.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"Store the parameters of {cls.__qualname__} under their own names."
    cls._generated_init = __init__
    return __init__


def _declared_annotations(cls: type[Component]) -> dict[str, Any]:
    """The annotations of the declared parameters, resolved in the module that declares each."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations = vars(klass).get("__annotations__", {})
        namespace = vars(sys.modules[klass.__module__]) if klass.__module__ in sys.modules else {}
        for key in cls._declared:
            if key not in annotations:
                continue
            ann = annotations[key]
            if isinstance(ann, str):
                try:
                    ann = eval(ann, dict(namespace), dict(vars(klass)))
                except Exception:
                    continue
            out[key] = ann
    return out


class Sampler(Component):
    """A generative sampler: learns from training points, then draws new ones.

    Subclasses implement :meth:`fit` and :meth:`sample`. A sampler that needs something
    from the dataset beyond its training points (an exact score, a conditioning split)
    lists it in :attr:`requires` (or overrides :meth:`required_capabilities` when it
    depends on a parameter) and accepts a ``dataset=`` keyword in :meth:`fit`.

    After :meth:`fit`, a sampler may report where it computed in ``device_`` (``"cpu"``,
    ``"cuda:0"``, …) and ``backend_`` (``"numpy"``, ``"jax"``, ``"torch"``); each result row
    records them (``device`` is ``cpu`` when the sampler says nothing). A sampler that can use
    a GPU follows the run's ``--device`` through :func:`genbench.devices.requested_device`.
    """

    #: Small parameter values that make the conformance checks (``genbench test``,
    #: :func:`genbench.testing.parametrize_with_checks`) run in seconds — fewer epochs, steps or
    #: chains (scikit-learn's ``_set_checking_parameters``). The checks build ``cls(**checking_params)``.
    checking_params: ClassVar[dict[str, Any]] = {}

    #: Parameters that set a training budget (``("steps",)``): a configuration that sets one below
    #: its default is marked ``budget-limited`` on the leaderboard (a reduced profile, not the
    #: sampler's converged result).
    budget_params: ClassVar[tuple[str, ...]] = ()

    #: Capabilities the dataset must offer (subset of ``log_prob``, ``score``,
    #: ``support_distance``, ``conditional``); cells lacking one are ``skipped``.
    requires: ClassVar[frozenset[str]] = frozenset()

    def required_capabilities(self) -> frozenset[str]:
        """Capabilities needed with the current parameters (default: :attr:`requires`)."""
        return frozenset(self.requires)

    def fit(self, X: np.ndarray, *, rng: np.random.Generator) -> Sampler:
        """Learn from training points ``X`` of shape ``(M, d)``; return ``self``."""
        raise NotImplementedError

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` new points, an array of shape ``(n, d)``."""
        raise NotImplementedError


class Dataset(Component):
    """A target distribution π: draws fresh samples and, where known, its density.

    Subclasses implement :meth:`sample`; they may add exact ``log_prob(x)``, ``score(x)``
    (∇ log π) and ``support_distance(x)`` (Euclidean distance to the support), and set
    :attr:`conditioning` (indices of the conditioning coordinates) for conditional tasks.
    Parameters conventionally include ``n_train`` (training-set size M) and ``dim``.
    """

    #: Indices of the coordinates a conditional task conditions on (``None``: not conditional).
    conditioning: ClassVar[tuple[int, ...] | None] = None

    # ``n_train`` is declared by each dataset that has it (not here: a type checker would then ask
    # every dataset's constructor for one).

    def sample(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` fresh samples from π, an array of shape ``(n, d)``."""
        raise NotImplementedError

    def sample_train(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """The training set of size ``n`` (what the runner fits a sampler on): ``n`` fresh
        draws from :meth:`sample` unless a dataset fixes its training points (seed 004's
        8-point circle, ``circle_grid``). Reference points always come from :meth:`sample`."""
        return self.sample(n, rng=rng)

    def generate(self, sampler: Sampler, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """The ``n`` points a fitted ``sampler`` is scored on: ``sampler.sample(n)``.

        A dataset whose task is not plain sampling overrides this — seed 000 eq. (29) scores a
        closure by rolling out a surrogate model whose subgrid term the sampler draws
        conditionally (``lorenz63_closure(surrogate=True)``). Raise :class:`TypeError` for a
        sampler the task cannot use; the cell then fails with that message.
        """
        return sampler.sample(n, rng=rng)

    def capabilities(self) -> frozenset[str]:
        """What this dataset offers beyond :meth:`sample` (methods it overrides)."""
        caps = {cap for cap in ("log_prob", "score", "support_distance") if getattr(type(self), cap, None) is not None}
        if self.conditioning is not None:
            caps.add("conditional")
        return frozenset(caps)

    # Optional exact quantities; ``None`` means "not available".
    log_prob: ClassVar[Any] = None
    score: ClassVar[Any] = None
    support_distance: ClassVar[Any] = None


class NaNWithReason(float):
    """A NaN that says why: what a metric returns when it does not apply."""

    reason: str

    def __new__(cls, reason: str) -> NaNWithReason:
        obj = super().__new__(cls, math.nan)
        obj.reason = reason
        return obj

    def __repr__(self) -> str:
        return f"nan_with_reason({self.reason!r})"


def nan_with_reason(reason: str) -> float:
    """Return a float NaN carrying ``reason`` (the runner stores the reason beside the value)."""
    return NaNWithReason(reason)


class Metric(Component):
    """A score comparing generated points with fresh reference points from π.

    ``__call__(generated, reference, *, train=None, dataset=None, rng=None) -> float``.
    ``train`` is the cell's training set (for copying detection); ``dataset`` may be
    ``None`` for metrics that need only the point sets. A metric that does not apply
    returns :func:`nan_with_reason` rather than raising.
    """

    #: Direction: ``False`` for distances (lower is better); ``None`` for a descriptive
    #: quantity with no better direction (e.g. a raw rate compared with the reference's).
    higher_is_better: ClassVar[bool | None] = False

    def __call__(
        self,
        generated: np.ndarray,
        reference: np.ndarray,
        *,
        train: np.ndarray | None = None,
        dataset: Dataset | None = None,
        rng: np.random.Generator | None = None,
    ) -> float:
        raise NotImplementedError
