"""The one parameter model: how a component declares its parameters, and the one path that
validates them (``make_sampler``, suites, selectors, claims, ``set_params`` and ``check_params``).

A component declares each parameter once, as a class attribute with its annotation and an
optional range (in the spirit of scikit-learn's ``_parameter_constraints``)::

    class Bridge(genbench.Sampler):
        eps: float = param(0.01, gt=0)
        noise: Literal["isotropic", "data_aware"] = "data_aware"   # a plain default: no range
        beta: float = param(0.0, le=0, note="seed 000, eq. 21")

:class:`genbench.contracts.Component` turns those into ``__init__`` (storing each under its own
name, nothing else) and checks them: the annotation gives the type (``Literal`` the choices),
:func:`param` the range. What no declaration can say — one parameter against another — stays in
the component's ``check_params``. A component may still write its own ``__init__`` as scikit-learn
estimators do; its annotations are then read from ``__init__``.

Also here: canonical formatting, comparison and short display of values (numpy is used only when
a value is an array). This module imports nothing of genbench but its errors.
"""

from __future__ import annotations

import copy
import math
import numbers
import sys
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import GenbenchError, did_you_mean

if TYPE_CHECKING:
    from .contracts import Component

Scalar = bool | int | float | str

#: Parameters that must be positive when numeric unless a component declares otherwise
#: (names starting ``n_`` and these): the convention every component shares.
POSITIVE_BY_NAME = frozenset({"dim", "steps", "chains", "iterations", "epochs"})


def _num(x: float) -> str:
    return format(x, "g")


@dataclass(frozen=True)
class Range:
    """A numeric range: ``gt``/``ge`` below, ``lt``/``le`` above (``None``: unbounded). It applies to
    numbers only (``None``, strings and lists pass), so ``chains: int | None`` may be ``None``."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    note: str = ""

    def contains(self, value: Any) -> bool:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return True
        if math.isnan(value):
            return False
        x = typing.cast(float, value)  # any Real compares with a float; typeshed's Real does not say so
        return not (
            (self.gt is not None and not x > self.gt)
            or (self.ge is not None and not x >= self.ge)
            or (self.lt is not None and not x < self.lt)
            or (self.le is not None and not x <= self.le)
        )

    def describe(self) -> str:
        """``positive``, ``non-negative``, ``≤ 0``, ``in (0, 1]``, …"""
        low = ("(", self.gt) if self.gt is not None else ("[", self.ge) if self.ge is not None else None
        high = (")", self.lt) if self.lt is not None else ("]", self.le) if self.le is not None else None
        if low and high:
            text = f"in {low[0]}{_num(low[1])}, {_num(high[1])}{high[0]}"
        elif low == ("(", 0):
            text = "positive"
        elif low == ("[", 0):
            text = "non-negative"
        elif low:
            text = f"{'>' if low[0] == '(' else '≥'} {_num(low[1])}"
        elif high:
            text = f"{'<' if high[0] == ')' else '≤'} {_num(high[1])}"
        else:
            text = "a number"
        return f"{text} ({self.note})" if self.note else text


class Param:
    """A declared parameter: its default and range (see :func:`param`)."""

    __slots__ = ("default", "range")

    def __init__(self, default: Any, range: Range | None = None) -> None:
        self.default = default
        self.range = range

    def __repr__(self) -> str:
        return f"param({self.default!r}{', ' + self.range.describe() if self.range else ''})"


def param(
    default: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    note: str = "",
) -> Any:
    """Declare a parameter with a default and a numeric range (``gt`` ``ge`` ``lt`` ``le``);
    ``note`` is cited in the error (``"seed 000, eq. 21"``). A plain class default declares a
    parameter with no range."""
    bounds = (gt, ge, lt, le)
    rng = Range(gt, ge, lt, le, note) if any(b is not None for b in bounds) else None
    return Param(default, rng)


def range_error(cls: type[Component], key: str, value: Any) -> str | None:
    """``None`` when ``value`` lies in parameter ``key``'s declared range (or the name's convention,
    :data:`POSITIVE_BY_NAME`); else the one-line message."""
    rng = cls.param_ranges().get(key)
    if rng is None and (key.startswith("n_") or key in POSITIVE_BY_NAME):
        rng = Range(gt=0)
    if rng is None or rng.contains(value):
        return None
    return f"{key} must be {rng.describe()}, got {value!r}"


def format_value(value: Any) -> str:
    """Canonical text of a parameter value, stable across float formatting noise.

    ``0.1``, ``1e-1`` and ``0.1 + 1e-17`` all give ``0.1``; ``2`` and ``2.0`` give ``2``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return format(value, ".12g")
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(format_value(v) for v in value) + ")"
    return str(value)


def canonical(value: Any) -> Any:
    """A JSON-friendly value whose equality matches :func:`format_value`'s."""
    if isinstance(value, float) and math.isfinite(value):
        return float(format(value, ".12g"))
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    return value


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "none"
    names = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return True
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if tp in (bool, str):
        return isinstance(value, tp)
    if origin in (list, tuple) or tp in (list, tuple):
        return isinstance(value, (list, tuple))
    return True  # an annotation we do not understand: accept


def expected_type(cls: type[Component], key: str) -> Any:
    """The type a parameter should have: its annotation, else its default's type."""
    ann = cls.param_annotations().get(key)
    if ann is not None:
        return ann
    default = cls.param_defaults().get(key)
    return Any if default is None else type(default)


def check_type(cls: type[Component], key: str, value: Any) -> str | None:
    """``None`` when ``value`` suits parameter ``key`` of ``cls``; else what was expected."""
    tp = expected_type(cls, key)
    if _matches(value, tp):
        return None
    return _type_name(tp)


def check_values(cls: type[Component], params: dict[str, Any]) -> None:
    """Raise :class:`ValueError` for the first value of ``params`` whose type or declared range is
    wrong: ``eps must be positive, got -1``. What :meth:`Component.check_params` runs first."""
    for key, value in params.items():
        expected = check_type(cls, key, value)
        if expected is not None:
            raise ValueError(f"{key} must be {expected}, got {short_repr(value)}")
        message = range_error(cls, key, value)
        if message:
            raise ValueError(message)


def validate_params(
    cls: type[Component], params: dict[str, Any], where: str, *, axes: bool = False, sep: str = "."
) -> dict[str, Any]:
    """The one validation path: names, types and ranges of a parameter table; returns it
    canonicalised. With ``axes`` a list value is a grid axis (each value checked). Errors are one
    line, starting with ``where`` (``suite s.toml: samplers.kde``, ``sampler 'kde'``, ``--sampler
    kde[…]``) joined to the key by ``sep``. Checks that relate parameters run per combination in
    :func:`build` (the component's own ``check_params``)."""
    defaults = cls.param_defaults()
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in defaults:
            raise GenbenchError(f"{where}: unknown parameter {key!r}{did_you_mean(key, defaults)}")
        is_axis = axes and isinstance(value, list)
        if is_axis and not value:
            raise GenbenchError(f"{where}{sep}{key}: an axis needs at least one value, got []")
        for v in value if is_axis else [value]:
            expected = check_type(cls, key, v)
            if expected is not None:
                axis = " or a list of them" if axes else ""
                raise GenbenchError(f"{where}{sep}{key} must be {expected}{axis}, got {short_repr(v)}")
        if is_axis:
            shown = [format_value(v) for v in value]
            twice = sorted({s for s in shown if shown.count(s) > 1})
            if twice:
                raise GenbenchError(f"{where}{sep}{key} lists {', '.join(twice)} more than once")
            out[key] = [canonical(v) for v in value]
        else:
            out[key] = canonical(value)
    return out


def build(cls: type[Component], params: dict[str, Any], where: str) -> Component | None:
    """``cls(**params)`` with its ``check_params`` run: the instance, or a one-line
    :class:`GenbenchError` naming ``where`` and the parameters. ``None`` for a component so broken
    that it cannot even be built or checked (its cells then record the error; the run goes on)."""
    try:
        obj = cls(**params)
        obj.check_params()
    except (TypeError, ValueError) as exc:
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in sorted(params.items()))
        raise GenbenchError(f"{where} [{shown}]: {exc}") from None
    except Exception:
        return None
    return obj


def short_repr(value: Any, width: int = 60) -> str:
    """``repr`` of a value, cut to ``width`` characters (arrays summarised); never raises."""
    np = sys.modules.get("numpy")  # no numpy loaded: no arrays to summarise
    try:
        if np is not None and isinstance(value, np.ndarray):
            text = np.array2string(value, threshold=6, edgeitems=2, precision=4, separator=", ")
            text = f"array({text})".replace("\n", "")
        else:
            text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= width else text[: width - 1] + "…"


def values_equal(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal: arrays elementwise, NaN equal to NaN, containers
    recursively, numbers by value (``1 == 1.0``); never raises."""
    if a is b:
        return True
    np = sys.modules.get("numpy")  # no numpy loaded: no arrays to compare
    if np is not None and (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):
        try:
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                return False
            try:
                return bool(np.array_equal(a, b, equal_nan=True))
            except TypeError:  # equal_nan needs a numeric dtype
                return bool(np.array_equal(a, b))
        except Exception:
            return False
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        if isinstance(a, bool) != isinstance(b, bool):
            return False
        try:
            if isinstance(a, numbers.Real) and isinstance(b, numbers.Real) and math.isnan(a) and math.isnan(b):
                return True
        except (TypeError, ValueError):
            pass
        return bool(a == b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # an array-like whose == is elementwise (a tensor, a data frame)
        try:
            import numpy

            return values_equal(numpy.asarray(a), numpy.asarray(b))
        except Exception:
            return False


def snapshot(value: Any) -> Any:
    """A deep copy of ``value`` to compare with later (``value`` itself when a copy would not
    compare equal to it, e.g. an object without ``__eq__``: then only replacing it is seen)."""
    try:
        clone = copy.deepcopy(value)
    except Exception:
        return value
    return clone if values_equal(clone, value) else value
