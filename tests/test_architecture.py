"""The core's shape: no import cycles between files, no loops between packages, lower layers
never import higher ones, and the core never imports ``plugins/`` or ``datasets/``.

Every import counts — top-level, inside functions (lazy) and ``importlib.import_module("...")``
with a literal name — except those under ``if TYPE_CHECKING:``, which never run. Each check
has a case that must fail it (a synthetic graph with a cycle), so the checks cannot pass by
finding nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "genbench"

# Lowest first. A module may import its own layer or lower ones (ARCHITECTURE.md).
LAYERS: list[tuple[str, ...]] = [
    ("genbench._version", "genbench.errors", "genbench.config", "genbench.fileio"),
    ("genbench.params", "genbench.devices"),
    ("genbench.contracts", "genbench.hookspecs"),
    ("genbench.plugins",),
    ("genbench.numerics", "genbench.metrics", "genbench.suites", "genbench.stats"),
    ("genbench.results",),
    ("genbench.spec",),
    ("genbench.evaluation",),
    ("genbench.executors",),
    ("genbench.conformance", "genbench.testing"),
    ("genbench.reports",),
    ("genbench.api",),
    ("genbench.cli", "genbench"),
]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def run_time_imports(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """Modules of ``modules`` that ``path`` imports when it runs (lazy imports included)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(resolve(alias.name) or "")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                full = f"{prefix}.{alias.name}"
                found.add(full if full in modules else (resolve(prefix) or ""))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(resolve(node.args[0].value) or "")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard("")
    found.discard(name)
    return found


def import_graph(root: Path = ROOT, package: str = "genbench") -> dict[str, set[str]]:
    files = sorted((root / package).rglob("*.py"))
    modules = {module_name(p, root) for p in files}
    return {module_name(p, root): run_time_imports(p, modules, root) for p in files}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def room(module: str) -> str:
    """The room a module lives in: its subpackage of genbench (``genbench.executors``), or the
    module itself when it sits directly in ``genbench/``."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for src, targets in graph.items():
        if src == "genbench":  # the package's __init__ re-exports the public API from every room
            continue
        rooms = {room(t) for t in targets if t != "genbench"} - {room(src)}
        out.setdefault(room(src), set()).update(rooms)
    return out


def layer_of(module: str, layers: list[tuple[str, ...]] = LAYERS) -> int:
    """The layer of ``module``: the longest name in ``layers`` that is it or a package holding it
    (``genbench`` itself matches only the package's ``__init__``, so a module nobody listed has
    no layer: -1)."""
    best, where = -1, -1
    for i, names in enumerate(layers):
        for n in names:
            inside = module == n or (n != "genbench" and module.startswith(n + "."))
            if inside and len(n) > best:
                best, where = len(n), i
    return where


def layer_violations(graph: dict[str, set[str]], layers: list[tuple[str, ...]] = LAYERS) -> list[str]:
    """Imports of a higher layer, and modules (or imported modules) with no layer."""
    wrong = []
    for src, targets in sorted(graph.items()):
        if layer_of(src, layers) < 0:
            wrong.append(f"{src} has no layer in LAYERS")
        for t in sorted(targets):
            if layer_of(t, layers) < 0:
                wrong.append(f"{src} -> {t}: {t} has no layer in LAYERS")
            elif layer_of(src, layers) >= 0 and layer_of(t, layers) > layer_of(src, layers):
                wrong.append(f"{src} -> {t}")
    return wrong


# --- the checks --------------------------------------------------------------------------------


def test_cycle_finder_finds_a_planted_cycle():
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(planted) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_import_finder_sees_lazy_imports_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "genbench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\ndef f():\n    from .b import thing\n"
    )
    (pkg / "b.py").write_text("import importlib\nimportlib.import_module('genbench.a')\n")
    (pkg / "c.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["genbench.a"] == {"genbench.b"}
    assert cycles(graph) == [["genbench.a", "genbench.b"]]


def test_no_import_cycles_between_files():
    found = cycles(import_graph())
    assert found == [], f"import cycles: {found}"


def test_no_loops_between_packages():
    found = cycles(package_graph(import_graph()))
    assert found == [], f"package loops: {found}"


def test_lower_layers_never_import_higher_ones():
    assert layer_violations(import_graph()) == []


def test_a_planted_upward_import_and_an_unlisted_module_are_found(tmp_path):
    graph = import_graph()
    # a brand-new module that imports the CLI: it has no layer, so it is not taken for the top one
    planted = {**graph, "genbench.newthing": {"genbench.cli"}}
    assert "genbench.newthing has no layer in LAYERS" in layer_violations(planted)
    # a low layer reaching up: results importing the reports
    upward = {**graph, "genbench.results.store": graph["genbench.results.store"] | {"genbench.reports.frame"}}
    assert "genbench.results.store -> genbench.reports.frame" in layer_violations(upward)
    # an import of a module nobody listed
    unknown = {**graph, "genbench.api": graph["genbench.api"] | {"genbench.mystery"}}
    assert any("genbench.mystery has no layer" in w for w in layer_violations(unknown))


#: What ``plugins/`` and ``datasets/`` may import of genbench (ARCHITECTURE.md): the public API.
PUBLIC = ("genbench", "genbench.params", "genbench.numerics", "genbench.devices", "genbench.config")


def plugin_imports(root: Path) -> list[str]:
    """``file: module`` for each genbench module a plugin file imports that is not public."""
    bad = []
    for path in sorted([*root.joinpath("plugins").rglob("*.py"), *root.joinpath("datasets").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for n in names:
                if n.split(".")[0] != "genbench":
                    continue
                if not any(n == p or (p != "genbench" and n.startswith(p + ".")) for p in PUBLIC):
                    bad.append(f"{path.relative_to(root)}: {n}")
    return bad


def test_plugins_and_datasets_import_only_the_public_api(tmp_path):
    assert plugin_imports(ROOT) == []
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "sneaky.py").write_text("from genbench.executors.worker import run_cell_in_worker\n")
    assert plugin_imports(tmp_path) == ["plugins/sneaky.py: genbench.executors.worker"]


def test_core_never_imports_plugins_or_datasets():
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for n in names:
                top = n.split(".")[0]
                assert top not in {"plugins", "datasets", "genbench_plugins", "genbench_datasets"}, f"{path}: {n}"


@pytest.mark.parametrize("limit", [14])
def test_at_most_fourteen_modules_directly_in_genbench(limit):
    modules = sorted(p.name for p in CORE.glob("*.py"))
    assert len(modules) <= limit, modules


def documented_variables(text: str) -> set[str]:
    """The variables in the Configuration page's table (its first column)."""
    return {line.split("`")[1] for line in text.splitlines() if line.startswith("| `GENBENCH_")}


def test_every_genbench_variable_is_defined_once_and_listed_in_the_docs():
    import re

    from genbench.config import ENVIRONMENT

    assert documented_variables((ROOT / "docs" / "configuration.md").read_text()) == set(ENVIRONMENT)
    assert documented_variables("# Configuration\n| `GENBENCH_X` | user | x |\n") == {"GENBENCH_X"}  # the parser reads
    # No other module spells a variable's name: they import it from genbench.config.
    for path in CORE.rglob("*.py"):
        if path.name == "config.py":
            continue
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith(("#", '"')))
        strings = re.findall(r"[\"']GENBENCH_[A-Z_]+[\"']", code)
        assert strings == [], f"{path}: {strings}"


def test_every_package_is_installed_by_pyproject():
    """A non-editable install ships only the packages pyproject.toml lists: a package folder left out
    installs fine and fails at run time (``No module named 'genbench.evaluation'``)."""
    from genbench.config import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {module_name(p.parent) for p in CORE.rglob("__init__.py")}
    assert found - listed == set(), f"packages missing from [tool.setuptools] packages: {sorted(found - listed)}"
