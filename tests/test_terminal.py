"""Terminal output (issue 35): `results`, `leaderboard --columns` and `report` fit 80 and 160 columns,
name every dataset, sort their rows and never print two configurations alike; `list` lists everything.

Read from the committed stores (no benchmark runs), in-process.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from genbench.cli import main
from genbench.reports.terminal import Ids, natural_key, split_id

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "leaderboard" / "store.db.gz"
BISTABLE = ROOT / "leaderboard" / "paper-bistable" / "store.db.gz"


def _cli(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def _widest(text: str) -> int:
    return max(map(len, text.splitlines()))


def _sections(text: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Each heading of a sectioned table: its column names and its data lines cut into cells (at the
    columns of the dashes under the header)."""
    lines = text.splitlines()
    out = {}
    for i in range(len(lines) - 2):
        if lines[i + 2].startswith("---") and not lines[i].startswith(" "):
            spans = [m.span() for m in re.finditer(r"-+", lines[i + 2])]
            body = []
            for line in [lines[i + 1], *lines[i + 3 :]]:
                if not line.strip():
                    break
                body.append([line[a:b].strip() for a, b in spans])
            out[lines[i]] = (body[0], body[1:])
    return out


def _telling(ids) -> dict[str, list[str]]:
    """Each id's values of the parameters that differ between the ids of its component."""
    parsed = {i: split_id(i) for i in ids}
    out = {}
    for i, (name, pairs) in parsed.items():
        others = [dict(p) for n, p in parsed.values() if n == name]
        out[i] = [v for k, v in pairs if len({o.get(k) for o in others}) > 1]
    return out


def _num(x: float | None) -> str:
    return "—" if x is None else format(x, ".3g")


@pytest.fixture(scope="module")
def rows():
    from genbench.results.export import results_rows

    return results_rows(STORE, None)


def _printed_configs(text: str, rows) -> dict[str, list[tuple[str, str, int]]]:
    """Per heading: (printed sampler text, the configuration it is, rep) for every data line; the
    configuration is found from the line's values (rep, time, sinkhorn), not from its text."""
    known = {}
    for r in rows:
        time = r["fit_s"] + r["sample_s"]
        key = (r["cell_id"].split("/")[0], r["rep"], _num(time), _num(r["metrics"].get("sinkhorn")))
        assert key not in known, key  # the values tell the cells apart
        known[key] = r["cell_id"].split("/")[1]
    out = {}
    for heading, (header, body) in _sections(text).items():
        lines = [dict(zip(header, parts, strict=True)) for parts in body]
        out[heading] = [
            (c["sampler"], known[(heading, int(c["rep"]), c["time"], c["sinkhorn"])], int(c["rep"])) for c in lines
        ]
    return out


@pytest.fixture(scope="module")
def results_80():
    return _cli("results", "--store", str(STORE))


@pytest.mark.parametrize("columns", [80, 160])
def test_results_fit_name_every_dataset_and_tell_configurations_apart(rows, results_80, columns):
    text = results_80 if columns == 80 else _cli("results", "--store", str(STORE), columns=columns)
    assert _widest(text) <= columns
    printed = _printed_configs(text, rows)
    assert set(printed) == {r["cell_id"].split("/")[0] for r in rows}  # every dataset, as a heading
    assert sum(map(len, printed.values())) == len(rows)
    for heading, lines in printed.items():
        configs = defaultdict(set)
        for shown, config, _ in lines:
            configs[shown].add(config)
        assert all(len(c) == 1 for c in configs.values()), (heading, configs)  # one text, one configuration
        assert len(configs) == len({c for _, c, _ in lines})  # and one configuration, one text
        telling = _telling({c for _, c, _ in lines})
        for shown, (config,) in configs.items():  # the values that tell configurations apart are kept
            assert all(v in shown for v in telling[config]), (shown, config)
    header = _sections(text)["arc[n_train=200]"][0]
    assert header[header.index("sinkhorn") + 1] == "memorization"  # the copy check next to the main metric


def test_results_are_sorted_by_dataset_sampler_and_rep(rows, results_80):
    printed = _printed_configs(results_80, rows)
    assert list(printed) == sorted(printed, key=natural_key)
    assert list(printed)[:3] == ["arc[n_train=200]", "arc[n_train=500]", "arc[n_train=1000]"]
    for lines in printed.values():
        order = [(natural_key(config), rep) for _, config, rep in lines]
        assert order == sorted(order)


def test_results_picked_columns_fit_and_keep_every_dataset(rows):
    text = _cli("results", "--store", str(STORE), "--columns", "dataset,sampler,rep,sinkhorn,memorization,time")
    assert _widest(text) <= 80
    assert len(text.splitlines()) < len(rows) + 4 * 11 + 3  # no line wrapped in two
    lines = text.splitlines()
    shown = set()  # (dataset, sampler) as printed: under a heading, or in a dataset column
    for j, dashes in enumerate(lines):
        if not dashes.startswith("---"):
            continue
        spans = [m.span() for m in re.finditer(r"-+", dashes)]
        header = [lines[j - 1][a:b].strip() for a, b in spans]
        assert {"sampler", "sinkhorn", "memorization"} <= set(header)
        for line in lines[j + 1 :]:
            if not line.strip():
                break
            cells = dict(zip(header, [line[a:b].strip() for a, b in spans], strict=True))
            shown.add((cells.get("dataset") or lines[j - 2], cells["sampler"]))
    configs = {tuple(r["cell_id"].split("/")[:2]) for r in rows}
    assert len({d for d, _ in shown}) == len({d for d, _ in configs})  # every dataset, told apart
    assert len(shown) == len(configs)  # and no two configurations printed alike


@pytest.fixture(scope="module")
def board():
    from genbench.reports.leaderboard import load_board

    board = load_board(STORE, None, floors=False)  # a floor row as the real one, without computing it
    board.floors = {g.dataset_id: {m: 0.0123 for m in board.metrics} for g in board.groups}
    return board


@pytest.mark.parametrize("width", [80, 160])
def test_leaderboard_picked_columns_keep_dataset_headings_and_fit(board, width):
    from genbench.reports.terminal import terminal_table

    text = terminal_table(board, columns=["rank", "sampler", "sliced_w2", "memorization", "time"], width=width)
    assert _widest(text) <= width
    sections = _sections(text)
    assert [g.dataset_id for g in board.groups] == [h for h in sections if h in {g.dataset_id for g in board.groups}]
    for g in board.groups:
        _, body = sections[g.dataset_id]
        shown = [line[1] for line in body[: len(g.configs)]]  # rank, sampler, …; the floor row last
        assert len(set(shown)) == len(g.configs)
        telling = _telling({s.config.sampler_id for s in g.configs})
        for text_, s in zip(shown, g.configs, strict=True):
            assert all(v in text_ for v in telling[s.config.sampler_id]), (text_, s.config.sampler_id)


@pytest.mark.parametrize("columns", [80, 160])
def test_report_fits_the_terminal(columns):
    from genbench.reports.paper import build_report, render_report

    report = build_report("paper-bistable", BISTABLE, None)
    claims = [v.claim.id for v in report.verdicts]
    if columns == 80:  # the terminal's width, through the command
        text = _cli("report", "paper-bistable", "--store", str(BISTABLE), columns=columns)
    else:
        text = render_report(report, width=columns)
    assert _widest(text) <= columns
    assert all(f"{c}:" in text for c in claims)
    if columns < 120:  # one block per claim, the verdict on a line of its own
        assert len(re.findall(r"^  verdict: +\S", text, re.M)) == len(claims)
    else:
        assert text.count("┌") == 1 and "│ verdict" in text


def test_list_alone_lists_everything_and_samplers_say_what_they_are():
    text = _cli("list")
    heads = [line for line in text.splitlines() if line in ("samplers:", "datasets:", "metrics:", "suites:")]
    assert heads == ["samplers:", "datasets:", "metrics:", "suites:"]
    assert all(len(line) <= 80 or " " not in line.strip() for line in text.splitlines())
    lines = _cli("list", "samplers").splitlines()
    kde = lines.index("kde")
    assert lines[kde + 1].startswith("    Resample a training point")  # a description before the parameters
    assert "bandwidth='scott'" in "\n".join(lines[kde + 2 : kde + 4])
    from genbench.plugins import describe_components

    for it in describe_components("sampler"):  # every sampler: its description's start under its name
        assert it["summary"] and lines[lines.index(it["name"]) + 1].split()[:2] == it["summary"].split()[:2]


def test_ids_keep_their_values_and_never_collide():
    ids = [
        "kde[bandwidth=0.02]",
        "kde[bandwidth=0.05]",
        "kde[bandwidth=0.1]",
        "ula[bandwidth=scott,step=0.1]",
        "localized_bridge[eps=0.025]",
        "a[x=1,y=2]",
        "a[y=1,x=2]",  # alike once the names go: that level is skipped
        "flow",
    ]
    short, telling = Ids(ids), _telling(ids)
    for level in range(6):
        texts = [short(i, level) for i in ids]
        assert len(set(texts)) == len(ids), texts
        assert all(v in t for i, t in zip(ids, texts, strict=True) for v in telling[i]), texts
    assert short("kde[bandwidth=0.02]", 1) == "kde[b=0.02]" and short("not an id", 3) == "not an id"
    assert short("ula[bandwidth=scott,step=0.1]", 3) == "ula"  # its only setting: nothing to tell apart
    assert sorted(["arc[n_train=1000]", "arc[n_train=200]"], key=natural_key)[0] == "arc[n_train=200]"
