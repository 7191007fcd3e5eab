"""The one parameter model: parameters declared once (annotation + range), one validation path for
construction, suites, selectors, ``set_params`` and ``check_params``, with one-line errors."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pytest

import genbench
from genbench.errors import GenbenchError
from genbench.params import Range, param, validate_params


class Declared(genbench.Sampler):
    name = "declared"
    checking_params: ClassVar[dict] = {"eps": 0.5}
    eps: float = param(0.01, gt=0)
    noise: Literal["isotropic", "data_aware"] = "data_aware"
    chains: int | None = param(200, gt=0)
    beta: float = param(0.0, le=0, note="seed 000, eq. 21")
    start: Literal["data", "mean"] | list[float] = "data"

    def fit(self, X, *, rng):
        self.X_ = np.asarray(X)
        return self

    def sample(self, n, *, rng):
        return self.X_[rng.integers(len(self.X_), size=n)]


class Child(Declared):
    name = "child"
    eps: float = param(0.05, gt=0)  # another default
    weight: float = param(0.5, gt=0, lt=1)

    def check_params(self) -> None:  # only what relates parameters
        super().check_params()
        if self.weight > 10 * self.eps:
            raise ValueError(f"weight must not exceed 10·eps, got {self.weight!r} > 10·{self.eps!r}")


class HandWritten(genbench.Sampler):
    """A sampler written the scikit-learn way: its own __init__; annotated attributes stay its own."""

    name = "handwritten"
    threshold: float = 3.0

    def __init__(self, scale: float = 0.1) -> None:
        self.scale = scale


def test_declared_parameters_become_init_and_params():
    s = Declared(eps=0.1)
    assert s.get_params() == {"beta": 0.0, "chains": 200, "eps": 0.1, "noise": "data_aware", "start": "data"}
    assert Declared.param_defaults()["eps"] == 0.01 and Declared.eps == 0.01
    assert Declared.param_annotations()["noise"] == Literal["isotropic", "data_aware"]
    assert repr(s) == "Declared(eps=0.1)"
    with pytest.raises(TypeError, match="unexpected keyword argument 'epz'"):
        Declared(epz=1)


def test_subclasses_inherit_and_redeclare():
    c = Child()
    assert c.eps == 0.05 and c.weight == 0.5 and c.noise == "data_aware"
    assert set(Child.param_defaults()) == {"beta", "chains", "eps", "noise", "start", "weight"}
    assert Declared().eps == 0.01  # the base keeps its own default


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"eps": -1}, "eps must be positive, got -1"),
        ({"eps": "x"}, "eps must be a number, got 'x'"),
        ({"noise": "iso"}, "noise must be 'isotropic' or 'data_aware', got 'iso'"),
        ({"chains": 0}, "chains must be positive, got 0"),
        ({"chains": 2.5}, "chains must be an integer or none, got 2.5"),
        ({"beta": 1.0}, r"beta must be ≤ 0 \(seed 000, eq. 21\), got 1.0"),
        ({"weight": 1.0}, r"weight must be in \(0, 1\), got 1.0"),
        ({"weight": 0.9, "eps": 0.01}, "weight must not exceed 10·eps"),
    ],
)
def test_check_params_checks_types_ranges_and_relations(params, message):
    with pytest.raises(ValueError, match="^" + message):
        Child(**params).check_params()


def test_valid_values_pass_including_none_lists_and_numpy_numbers():
    Child(chains=None, start=[1.0, 0.0], eps=np.float64(0.5), weight=0.5).check_params()


def test_set_params_checks_and_leaves_parameters_unchanged_on_error():
    s = Child()
    assert s.set_params(eps=0.2) is s and s.eps == 0.2
    with pytest.raises(ValueError, match="eps must be positive"):
        s.set_params(eps=-1, weight=0.1)
    assert s.eps == 0.2 and s.weight == 0.5
    with pytest.raises(ValueError, match="has no parameter 'nope'"):
        s.set_params(nope=1)


def test_validate_params_is_one_line_and_names_where():
    with pytest.raises(GenbenchError, match=r"^suite s.toml: samplers.declared: unknown parameter 'ep' — did you mean"):
        validate_params(Declared, {"ep": 1}, "suite s.toml: samplers.declared")
    with pytest.raises(GenbenchError, match=r"^suite s.toml: samplers.declared.eps must be a number or a list of them"):
        validate_params(Declared, {"eps": [0.1, "x"]}, "suite s.toml: samplers.declared", axes=True)
    with pytest.raises(GenbenchError, match=r"lists 0\.1 more than once"):
        validate_params(Declared, {"eps": [0.1, 0.1]}, "where", axes=True)
    assert validate_params(Declared, {"eps": [0.1, 0.2]}, "where", axes=True) == {"eps": [0.1, 0.2]}


def test_a_hand_written_init_is_left_alone_but_cannot_mix_with_param():
    assert HandWritten.param_defaults() == {"scale": 0.1}
    assert HandWritten().threshold == 3.0
    with pytest.raises(TypeError, match="declare parameters with param\\(\\) or write __init__, not both"):

        class Both(genbench.Sampler):
            eps: float = param(0.1, gt=0)

            def __init__(self, eps: float = 0.1) -> None:
                self.eps = eps


def test_range_descriptions():
    assert Range(gt=0).describe() == "positive"
    assert Range(ge=0).describe() == "non-negative"
    assert Range(ge=0, lt=1).describe() == "in [0, 1)"
    assert Range(ge=1).describe() == "≥ 1"
    assert not Range(gt=0).contains(float("nan"))
    assert Range(gt=0).contains("scott") and Range(gt=0).contains(None)


def test_declared_sampler_passes_the_conformance_checks():
    from genbench.conformance.checks import iter_checks

    failures = []
    for check in iter_checks(Declared):
        try:
            check(Declared)
        except Exception as exc:
            failures.append(f"{check.name}: {exc}")
    assert failures == []


def test_a_sampler_may_call_a_parameter_score_a_dataset_may_not():
    """``score`` is a dataset's exact-score method, so never a dataset parameter; a sampler's
    ``score`` ("kde" or "exact", as ula's) is an ordinary parameter."""

    class ScoreSampler(genbench.Sampler):
        score: Literal["kde", "exact"] = "kde"

    class ScoreDataset(genbench.Dataset):
        n_train: int = param(10, gt=0)
        score: object = None  # annotated, still the exact-score slot (not available here)

    assert ScoreSampler.param_defaults() == {"score": "kde"}
    assert ScoreDataset.param_defaults() == {"n_train": 10}


def test_a_new_default_alone_keeps_the_base_range():
    class Redeclared(Child):
        eps: float = 0.3

    assert Redeclared().eps == 0.3
    with pytest.raises(ValueError, match="eps must be positive"):
        Redeclared(eps=-1).check_params()
