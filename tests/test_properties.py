"""Properties of the text that names configurations, checked on generated values (hypothesis):
canonical values and their formatting, component and cell ids, and command-line selectors.

Deterministic (``derandomize``: the same examples on every run, no example database) and fast.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from genbench.contracts import Sampler
from genbench.errors import GenbenchError
from genbench.params import canonical, format_value, param, validate_params, values_equal
from genbench.results.schema import Cell, component_id
from genbench.spec.selectors import parse_selector

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=100)

# -0.0 and NaN are left out where values are compared: format_value writes -0.0 as "-0" though
# it equals 0.0, and NaN is not equal to itself (canonical(nan) != canonical(nan)).
finite = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != 0 or math.copysign(1, x) > 0)
any_float = st.floats(allow_nan=True, allow_infinity=True)
ints = st.integers(min_value=-(2**70), max_value=2**70)
words = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
scalars = st.one_of(st.none(), st.booleans(), ints, any_float, words)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner), max_leaves=8)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,10}", fullmatch=True)
keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)

#: One strategy per parameter type: a component's parameter always has one type.
TYPED = {"int": ints, "float": finite, "bool": st.booleans(), "str": words, "none": st.none()}


#: Relative changes of a float around the 12 significant digits that format_value keeps.
NOISE = [1e-16, 1e-14, 1e-13, 3e-13, 1e-12, 1e-11, 1e-9, 1e-6, 1e-3]


def _near(draw: st.DrawFn, t: str, a: Any) -> Any:
    """A value of type ``t``: ``a`` itself, one near it (float noise, an integer ±1), or any other."""
    if t == "float":
        nearby = st.sampled_from(NOISE).map(lambda d: a * (1 + d)).filter(math.isfinite)
        return draw(st.one_of(st.just(a), nearby, TYPED[t]))
    if t == "int":
        return draw(st.one_of(st.just(a), st.sampled_from([a - 1, a + 1]), TYPED[t]))
    return draw(st.one_of(st.just(a), TYPED[t]))


@st.composite
def float_pairs(draw: st.DrawFn) -> tuple[float, float]:
    a = draw(finite)
    return a, _near(draw, "float", a)


@st.composite
def configs_pair(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two configurations of one component: the same keys, each key's values of one type, often close."""
    schema = draw(st.dictionaries(keys, st.sampled_from(sorted(TYPED)), max_size=5))
    a = {k: draw(TYPED[t]) for k, t in schema.items()}
    b = {k: _near(draw, t, a[k]) for k, t in schema.items()}
    return a, b


# ----------------------------------------------------------------------------- canonical values


@SETTINGS
@given(values)
def test_canonical_is_idempotent_and_keeps_the_text(value: Any) -> None:
    """canonical(v) formats exactly as v does, and canonicalising twice changes nothing."""
    once = canonical(value)
    assert format_value(once) == format_value(value)
    assert format_value(canonical(once)) == format_value(once)
    assert values_equal(canonical(once), once)


@SETTINGS
@given(float_pairs())
def test_equal_text_exactly_when_equal_canonical_floats(pair: tuple[float, float]) -> None:
    """For floats, format_value agrees with canonical's equality (0.1 + 0.2 and 0.3 are one value)."""
    a, b = pair
    assert (format_value(a) == format_value(b)) == (canonical(a) == canonical(b))


@SETTINGS
@given(finite.filter(lambda x: sys.float_info.min <= abs(x) < sys.float_info.max))
def test_float_noise_below_twelve_digits_is_invisible(x: float) -> None:
    """The text of a float reads back as its canonical value, and rounding noise (one unit in the
    last place either side of it) does not change that text."""
    text = format_value(x)
    value = float(text)
    assert value == canonical(x)
    assert format_value(math.nextafter(value, math.inf)) == text
    assert format_value(math.nextafter(value, -math.inf)) == text


# ----------------------------------------------------------------------------- component and cell ids


@SETTINGS
@given(names, st.dictionaries(keys, values, max_size=5), st.randoms(use_true_random=False))
def test_component_id_is_deterministic_and_ignores_key_order(name: str, params: dict, rnd: Any) -> None:
    items = list(params.items())
    rnd.shuffle(items)
    assert component_id(name, dict(items)) == component_id(name, params)
    assert component_id(name, canonical(params)) == component_id(name, params)


@SETTINGS
@given(names, configs_pair())
def test_distinct_configurations_get_distinct_ids(name: str, pair: tuple[dict, dict]) -> None:
    """Ids are equal exactly when the configurations are (each parameter keeping one type)."""
    a, b = pair
    same = all(values_equal(canonical(a[k]), canonical(b[k])) for k in a)
    assert (component_id(name, a) == component_id(name, b)) == same


cells = st.builds(
    Cell,
    suite=names,
    dataset=names,
    dataset_params=st.dictionaries(keys, scalars, max_size=3),
    sampler=names,
    sampler_params=st.dictionaries(keys, scalars, max_size=3),
    rep=st.integers(0, 50),
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(1, 10**6),
    n_reference=st.integers(1, 10**6),
    metrics=st.just([]),
    timeout=st.just(60.0),
)


@SETTINGS
@given(cells)
def test_cell_id_splits_back_into_its_parts(cell: Cell) -> None:
    """``dataset_id/sampler_id/rep=N``: what the results table and `genbench log` split on."""
    dataset_id, sampler_id, rep = cell.cell_id.split("/")
    assert dataset_id == component_id(cell.dataset, cell.dataset_params) == cell.dataset_id
    assert sampler_id == component_id(cell.sampler, cell.sampler_params)
    assert rep == f"rep={cell.rep}"
    assert cell.base_id == f"{dataset_id}/{sampler_id}"


@SETTINGS
@given(cells, st.integers(0, 50))
def test_cells_differing_in_repetition_differ_in_id_and_seeds(cell: Cell, rep: int) -> None:
    other = dataclasses.replace(cell, rep=rep)
    assert (other.cell_id == cell.cell_id) == (rep == cell.rep)
    assert other.cell_id == dataclasses.replace(cell, rep=rep).cell_id  # deterministic
    for seeds in (Cell.sampler_seed, Cell.data_seed):
        same_state = seeds(other).generate_state(4).tolist() == seeds(cell).generate_state(4).tolist()
        assert same_state == (rep == cell.rep)


# ----------------------------------------------------------------------------- selectors

selector_values = st.one_of(st.none(), st.booleans(), ints, any_float, words)


@SETTINGS
@given(names, st.dictionaries(keys, selector_values, max_size=4))
def test_a_selector_written_as_an_id_matches_its_configuration(name: str, params: dict) -> None:
    """``--sampler 'kde[bandwidth=0.1]'``: the id of a configuration, read as a selector, selects it."""
    sel = parse_selector("sampler", component_id(name, params))
    assert sel.name == name
    assert sorted(sel.params) == sorted(params)
    assert sel.matches(name, params)
    assert not sel.matches(name + "x", params)


@SETTINGS
@given(st.text(max_size=40))
def test_any_selector_text_parses_or_gives_a_genbench_error(text: str) -> None:
    try:
        sel = parse_selector("dataset", text)
    except GenbenchError as exc:  # one line, naming the option
        assert str(exc).startswith("--dataset ")
        assert "\n" not in str(exc)
    else:
        assert sel.name and sel.kind == "dataset"


class _Probe(Sampler):
    name = "probe"
    eps: float = param(0.1, gt=0)
    steps: int = param(10, ge=1)
    noise: str = "iso"
    flag: bool = False


@SETTINGS
@given(
    st.from_regex(r"probe\[[a-z=,.\-+0-9\[\] \"']{0,30}\]", fullmatch=True)
    | st.builds(lambda k, v: f"probe[{k}={v}]", st.sampled_from(["eps", "steps", "noise", "flag", "epz"]), st.text())
)
def test_selector_parameters_validate_or_give_a_genbench_error(text: str) -> None:
    """What `genbench run --sampler` does with a selector's parameters: a Genbench error, never another."""
    try:
        sel = parse_selector("sampler", text)
        validate_params(_Probe, sel.params, f"--sampler {text}")
    except GenbenchError:
        pass
