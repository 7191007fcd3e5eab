"""Suites expand into the right grid, cell ids are stable, bad suites fail in one line."""

from __future__ import annotations

import pytest

from genbench.errors import GenbenchError
from genbench.plugins import get_registry
from genbench.spec.grid import component_id, expand
from genbench.spec.suite import load_suite, parse_suite, suite_cells


def _suite(raw: dict):
    return parse_suite(raw, get_registry(), where="t.toml", default_name="t")


BASE = {
    "seed": 3,
    "repetitions": 2,
    "n_samples": 50,
    "metrics": ["sliced_w2"],
    "datasets": {"arc": {"n_train": [100, 200]}, "gmm": {"n_train": 50}},
    "samplers": {"kde": {"bandwidth": [0.1, 0.2, "scott"]}},
}


def test_grid_is_the_product_per_dataset_and_sampler():
    cells = suite_cells(_suite(BASE), get_registry())
    assert len(cells) == (2 + 1) * 3 * 2
    assert len({c.cell_id for c in cells}) == len(cells)
    assert cells[0].cell_id == "arc[n_train=100]/kde[bandwidth=0.1]/rep=0"


def test_cell_id_ignores_key_order_and_float_noise():
    a = component_id("kde", {"bandwidth": 0.1 + 0.2, "x": 1})
    b = component_id("kde", {"x": 1.0, "bandwidth": 0.3})
    assert a == b == "kde[bandwidth=0.3,x=1]"
    assert component_id("arc", {}) == "arc"


def test_expand_keeps_scalars_fixed():
    assert expand({"a": [1, 2], "b": "x"}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_equal_configurations_get_equal_seeds():
    """Writing a default explicitly changes the readable id, not the numbers."""
    reg = get_registry()
    implicit = suite_cells(_suite({**BASE, "samplers": {"kde": {}}}), reg)[0]
    explicit = suite_cells(_suite({**BASE, "samplers": {"kde": {"bandwidth": "scott"}}}), reg)[0]
    assert implicit.cell_id != explicit.cell_id
    assert implicit.config_hash() == explicit.config_hash()
    state = lambda cell: tuple(cell.sampler_seed().generate_state(4))  # noqa: E731
    assert state(implicit) == state(explicit)


def test_seeds_are_shared_across_samplers_but_not_repetitions():
    cells = suite_cells(_suite(BASE), get_registry())
    by_id = {c.cell_id: c for c in cells}
    a = by_id["arc[n_train=100]/kde[bandwidth=0.1]/rep=0"]
    b = by_id["arc[n_train=100]/kde[bandwidth=0.2]/rep=0"]
    c = by_id["arc[n_train=100]/kde[bandwidth=0.1]/rep=1"]
    state = lambda ss: tuple(ss.generate_state(4))  # noqa: E731
    assert state(a.data_seed()) == state(b.data_seed())  # same training set for every sampler
    assert state(a.data_seed()) != state(c.data_seed())
    assert state(a.sampler_seed()) != state(b.sampler_seed())


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"datasets": {"arcc": {}}}, "unknown dataset 'arcc' — did you mean 'arc'?"),
        (
            {"samplers": {"kde": {"bandwith": 0.1}}},
            "unknown parameter 'bandwith' — did you mean 'bandwidth'?",
        ),
        ({"samplers": {"kde": {"bandwidth": "0.1x"}}}, "samplers.kde.bandwidth must be a number or 'scott'"),
        ({"samplers": {"kde": {"bandwidth": -1.0}}}, "[bandwidth=-1]: bandwidth must be"),
        ({"samplers": {"kde": {"bandwidth": [0.1, 0.1000000000000001]}}}, "lists 0.1 more than once"),
        ({"metrics": ["energy", "energy"]}, "metrics lists energy more than once"),
        ({"datasets": {"arc": {"n_train": [100, -5]}}}, "n_train must be positive, got -5"),
        ({"datasets": {"arc": {"n_train": 1.5}}}, "datasets.arc.n_train must be an integer"),
        ({"n_samples": -1}, "n_samples must be a positive integer, got -1"),
        ({"repetitions": "2"}, "repetitions must be a positive integer"),
        ({"metrics": ["sliced_w3"]}, "did you mean 'sliced_w2'?"),
        ({"seeed": 1}, "unknown key 'seeed' — did you mean 'seed'?"),
        ({"samplers": {}}, "needs a [samplers.NAME] table"),
    ],
)
def test_bad_suites_give_one_line_errors(patch, message):
    raw = {**BASE, **patch}
    with pytest.raises(GenbenchError) as info:
        _suite(raw)
    text = str(info.value)
    assert message in text
    assert "\n" not in text and text.startswith("suite t.toml")


def test_shipped_suite_found_by_name_and_unknown_name_suggests():
    reg = get_registry()
    assert load_suite("smoke", reg).name == "smoke"
    with pytest.raises(GenbenchError, match="did you mean 'smoke'"):
        load_suite("smok", reg)


def test_invalid_toml_is_reported_with_file_name(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = 'x\n")
    with pytest.raises(GenbenchError, match=r"suite broken\.toml: not valid TOML"):
        load_suite(path, get_registry())


def test_code_version_names_the_commit_or_release(monkeypatch):
    from genbench.results import versions

    monkeypatch.delenv("GENBENCH_CODE_VERSION")
    versions.code_version.cache_clear()
    try:
        v = versions.code_version()
    finally:
        versions.code_version.cache_clear()
    assert v.startswith("genbench 0.1.0+") and len(v) == len("genbench 0.1.0+") + 12
    assert "numpy" in versions.package_versions()


def test_make_functions_validate_names_and_parameters():
    import genbench

    assert genbench.make_sampler("kde").get_params() == {"bandwidth": "scott"}
    assert genbench.make_dataset("arc", n_train=10).n_train == 10
    with pytest.raises(ValueError, match="unknown sampler 'kd' — did you mean 'kde'"):
        genbench.make_sampler("kd")
    with pytest.raises(ValueError, match="sampler 'kde': unknown parameter 'bandwith' — did you mean 'bandwidth'"):
        genbench.make_sampler("kde", bandwith=0.1)
    with pytest.raises(ValueError, match="bandwidth must be a number or 'scott' or 'silverman'"):
        genbench.make_sampler("kde", bandwidth="wide")
    with pytest.raises(ValueError, match="n_train must be positive"):
        genbench.make_dataset("arc", n_train=0)


PROFILED = """
name = "prof"
repetitions = 3
metrics = ["sliced_w2"]
[datasets.arc]
n_train = [100, 200, 400]
[samplers.kde]
bandwidth = [0.1, 0.2]
[profiles.quick]
repetitions = 1
[profiles.quick.datasets.arc]
n_train = 100
"""


def test_profile_overrides_settings_and_axes(tmp_path):
    path = tmp_path / "prof.toml"
    path.write_text(PROFILED)
    reg = get_registry()
    full, quick = load_suite(path, reg), load_suite(path, reg, "quick")
    assert (full.name, len(suite_cells(full, reg))) == ("prof", 3 * 2 * 3)
    assert (quick.name, len(suite_cells(quick, reg))) == ("prof:quick", 1 * 2 * 1)
    with pytest.raises(GenbenchError, match="unknown profile 'quik' — did you mean 'quick'"):
        load_suite(path, reg, "quik")


def test_every_profile_is_validated_even_unused(tmp_path):
    path = tmp_path / "prof.toml"
    path.write_text(PROFILED + "[profiles.bad]\nrepetitions = -1\n")
    with pytest.raises(GenbenchError, match=r"\[profiles.bad\]: repetitions must be a positive integer"):
        load_suite(path, get_registry())


def test_planning_builds_and_checks_each_configuration_once(monkeypatch, tmp_path):
    """A suite expands its grid once and builds (and checks) each sampler configuration once; the
    plan reuses those instances instead of building the sampler again per cell."""
    import functools

    from genbench.api import plan_run

    kde = get_registry().get("sampler", "kde")
    built, checked = [], []

    def counting(method, calls):
        @functools.wraps(method)  # the signature stays the parameters'
        def wrapper(self, *args, **kwargs):
            calls.append(kwargs)
            return method(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(kde, "__init__", counting(kde.__init__, built))
    monkeypatch.setattr(kde, "check_params", counting(kde.check_params, checked))
    path = tmp_path / "s.toml"
    path.write_text(
        'metrics = ["sliced_w2"]\nrepetitions = 3\n[datasets.arc]\nn_train = [100, 200]\n'
        "[samplers.kde]\nbandwidth = [0.1, 0.2]\n"
    )
    plan = plan_run(path)
    assert len(plan.cells) == 2 * 2 * 3
    assert len(built) == 2 and len(checked) == 2  # one per configuration, not per cell (12)


def test_a_suite_max_seconds_beyond_its_timeout_is_refused(write_suite):
    """A wall-clock cap the suite sets (max_seconds) that the hard timeout would cut short is a
    one-line error naming both; a cap below the timeout is accepted."""
    from genbench.api import plan_run

    text = 'metrics = ["sliced_w2"]\ntimeout = {t}\n[datasets.arc]\n[samplers.ou_sgm]\nmax_seconds = 600\n'
    with pytest.raises(GenbenchError, match=r"timeout = 300 s kills ou_sgm.*max_seconds = 600 s"):
        plan_run(write_suite(text.format(t=300)))
    assert plan_run(write_suite(text.format(t=900), name="ok.toml")).suite.timeout == 900
    with pytest.raises(GenbenchError, match="timeout = 60 s kills"):
        plan_run(write_suite(text.format(t=900), name="ok2.toml"), timeout=60)
