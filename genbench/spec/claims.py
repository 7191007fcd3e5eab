"""A suite's ``[paper]`` table: the published values it is checked against, and how.

```toml
[paper]
source = "seed 000: Gottwald, Li, Marzouk, Reich, Stable generative modeling using Schrödinger bridges"
notes = ["the OT metric: entropic reg = 0.05, not the printed 1/λ = 100 (SPEC §4)"]

[[paper.claims]]
id = "eps-star-d3"
claim = "OT-optimal ε on the hypersemisphere, d = 3"
source = "Table 1"
paper = 0.008                       # the paper's value, as printed (a number or a string)
check = "argmin"                    # argmin | value | ordering
metric = "sinkhorn"
dataset = "hypersemisphere[dim=3]"  # selectors, as `genbench run --dataset/--sampler` take them
sampler = "bridge"
over = "eps"                        # argmin: the swept parameter; within `steps` grid steps (default 1)
slip = "…"                          # a known slip of the paper that bears on the claim (SPEC §3, §5)
cause = "…"                         # what we believe, where the claim does not reproduce
profiles = ["paper"]                # only these profiles check it (default: every profile)
```

``check = "value"`` compares the mean over the selected cells with ``expected`` (default: ``paper``)
within ``tolerance`` (absolute) or ``rel_tolerance``, or asks it to lie in ``bounds = [lo, hi]``.
``check = "ordering"`` lists ``order = [...]`` groups — a sampler selector, or a table
``{sampler = …, dataset = …, label = …}`` — whose means must increase (``direction =
"decreasing"``: decrease) in that order, each step judged by a paired t-test over the shared
repetitions (:mod:`genbench.stats`).

Every claim should be able to fail. ``control`` names a **negative control**: a sampler selector or
``{sampler = …, dataset = …, label = …}`` that must *not* meet the claim — the same check with the
control's selection in place of the claim's (for an ordering, in place of the group ``replaces``
names, default the first: the claimed best). A claim whose control meets it too is
``uninformative``. ``calibrates = "noise"`` marks a claim whose value was used to set a free
parameter: met, it is ``calibrated``, never ``reproduced``.

```toml
control = {sampler = "kde[bandwidth=0.3]", label = "an over-smoothed KDE"}
control = {sampler = "ula", replaces = "bridge"}     # an ordering: ula in bridge's place must fail
calibrates = "noise"
```

Validated when the suite loads, with one-line errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import GenbenchError, did_you_mean
from ..params import build, validate_params
from .selectors import Selector, parse_selector

if TYPE_CHECKING:
    from ..plugins import Registry
    from .suite import Suite

CHECKS = ("argmin", "value", "ordering")
_COMMON = {
    "id",
    "claim",
    "check",
    "metric",
    "paper",
    "source",
    "dataset",
    "sampler",
    "slip",
    "cause",
    "profiles",
    "control",
    "calibrates",
}
_KEYS = {
    "argmin": _COMMON | {"over", "steps"},
    "value": _COMMON | {"expected", "tolerance", "rel_tolerance", "bounds"},
    "ordering": _COMMON | {"order", "direction"},
}


@dataclass(frozen=True)
class Group:
    """One side of an ordering: the cells its selectors match."""

    label: str
    sampler: Selector | None
    dataset: Selector | None


@dataclass(frozen=True)
class Claim:
    """One published value and the check that decides whether the measurement reproduces it."""

    id: str
    claim: str
    check: str
    metric: str
    paper: Any
    source: str = ""
    dataset: Selector | None = None
    sampler: Selector | None = None
    over: str | None = None
    steps: int = 1
    expected: float | None = None
    tolerance: float | None = None
    rel_tolerance: float | None = None
    bounds: tuple[float, float] | None = None
    order: tuple[Group, ...] = ()
    direction: str = "increasing"
    slip: str = ""
    cause: str = ""
    profiles: tuple[str, ...] | None = None
    #: the negative control: a selection that must not meet the claim (see the module docstring)
    control: Group | None = None
    #: for an ordering: the index of the group the control takes the place of
    control_replaces: int = 0
    #: the free parameter this claim's value was used to set ("" if none)
    calibrates: str = ""

    def control_claim(self) -> Claim | None:
        """The same check on the control's selection (``None`` without a control)."""
        import dataclasses

        c = self.control
        if c is None:
            return None
        if self.check == "ordering":
            order = list(self.order)
            order[self.control_replaces] = c
            return dataclasses.replace(self, order=tuple(order), control=None)
        return dataclasses.replace(self, dataset=c.dataset, sampler=c.sampler, control=None)

    def checked_by(self, profile: str | None) -> bool:
        """Whether a run of ``profile`` (``None``: no profile) checks this claim."""
        return self.profiles is None or (profile or "") in self.profiles

    def criterion(self, percent: bool | str = False) -> str:
        """The check in words: ``argmin within 1 grid step``, ``|mean − 0.5| ≤ 0.1``, … (``percent``: the
        unit of a paper that states the claim in % — ``True`` or ``" %"`` — or in percentage points,
        ``" pp"``: values × 100 in that unit)."""
        unit = " %" if percent is True else (percent or "")
        k = 100.0 if unit else 1.0

        def v(x: float) -> str:
            return f"{k * x:g}{unit}"

        if self.check == "argmin":
            return f"argmin over {self.over} within {self.steps} grid step{'s' if self.steps != 1 else ''}"
        if self.check == "ordering":
            sign = " < " if self.direction == "increasing" else " > "
            return "mean " + sign.join(g.label for g in self.order)
        if self.bounds is not None:
            return f"mean in [{v(self.bounds[0])}, {v(self.bounds[1])}]"
        expected = math.nan if self.expected is None else self.expected  # a value claim always has one
        if self.tolerance is not None:
            return f"|mean − {v(expected)}| ≤ {v(self.tolerance)}"
        return f"|mean − {v(expected)}| ≤ {self.rel_tolerance:g}·{v(abs(expected))}"


@dataclass(frozen=True)
class PaperTable:
    """A suite's ``[paper]`` table."""

    source: str = ""
    notes: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = field(default_factory=tuple)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = raw.get(key, "")
    if required and key not in raw:
        raise GenbenchError(f"{where}: needs {key!r}")
    if not isinstance(value, str) or (required and not value.strip()):
        raise GenbenchError(f"{where}.{key} must be a non-empty string, got {value!r}")
    return value


def _selector(kind: str, text: Any, suite: Suite, registry: Registry, where: str) -> Selector | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise GenbenchError(f"{where}.{kind} must be a selector such as 'name[key=value]', got {text!r}")
    try:
        sel = parse_selector(kind, text)
    except GenbenchError as exc:
        raise GenbenchError(f"{where}.{kind}: {str(exc).split(': ', 1)[-1]}") from None
    listed = getattr(suite, kind + "s")
    if sel.name not in listed:
        raise GenbenchError(
            f"{where}.{kind}: {sel.name!r} is not a {kind} of the suite{did_you_mean(sel.name, list(listed))}"
        )
    cls = registry.get(kind, sel.name)
    build(cls, validate_params(cls, sel.params, f"{where}.{kind}", sep=": "), f"{where}.{kind}")
    return sel


def _group(item: Any, claim: dict[str, Any], suite: Suite, registry: Registry, where: str) -> Group:
    if isinstance(item, str):
        item = {"sampler": item}
    if not isinstance(item, dict) or not ({"sampler", "dataset"} & item.keys()):
        raise GenbenchError(f"{where} must be a sampler selector or a table with sampler/dataset, got {item!r}")
    unknown = set(item) - {"sampler", "dataset", "label"}
    if unknown:
        raise GenbenchError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected sampler, dataset, label)")
    sampler = _selector("sampler", item.get("sampler", claim.get("sampler")), suite, registry, where)
    dataset = _selector("dataset", item.get("dataset", claim.get("dataset")), suite, registry, where)
    label = item.get("label") or item.get("sampler") or item.get("dataset")
    if not isinstance(label, str):
        raise GenbenchError(f"{where}.label must be a string, got {label!r}")
    return Group(label, sampler, dataset)


def parse_claim(raw: Any, suite: Suite, registry: Registry, where: str) -> Claim:
    """Validate one ``[[paper.claims]]`` entry against the suite it belongs to."""
    if not isinstance(raw, dict):
        raise GenbenchError(f"{where} must be a table, got {raw!r}")
    cid = _text(raw, "id", where, required=True)
    where = f"{where} ({cid})"
    kw = _common_fields(raw, cid, suite, registry, where)
    kw.update(_CHECK_FIELDS[kw["check"]](raw, kw, suite, registry, where))
    kw.update(_control_fields(raw, kw, suite, registry, where))
    return Claim(**kw)


def _control_fields(raw: dict[str, Any], kw: dict[str, Any], suite: Suite, registry: Registry, where: str) -> dict:
    """``control`` (a group, plus ``replaces`` for an ordering) and ``calibrates``."""
    out: dict[str, Any] = {"calibrates": _text(raw, "calibrates", where)}
    item = raw.get("control")
    if item is None:
        return out
    replaces = 0
    if isinstance(item, dict) and "replaces" in item:
        item = dict(item)
        target = item.pop("replaces")
        labels = [g.label for g in kw.get("order", ())]
        if kw["check"] != "ordering":
            raise GenbenchError(f"{where}.control.replaces: only an ordering claim has groups to replace")
        if target not in labels:
            raise GenbenchError(
                f"{where}.control.replaces: {target!r} is not a group of the order{did_you_mean(str(target), labels)}"
            )
        replaces = labels.index(target)
    out["control"] = _group(item, raw, suite, registry, f"{where}.control")
    out["control_replaces"] = replaces
    return out


def _common_fields(raw: dict[str, Any], cid: str, suite: Suite, registry: Registry, where: str) -> dict[str, Any]:
    """The keys every claim has: id, check, metric, paper value, texts, profiles, selectors."""
    check = raw.get("check")
    if check not in CHECKS:
        raise GenbenchError(f"{where}.check must be one of {', '.join(CHECKS)}, got {check!r}")
    unknown = sorted(set(raw) - _KEYS[check])
    if unknown:
        raise GenbenchError(
            f"{where}: unknown key {unknown[0]!r} for check {check!r}{did_you_mean(unknown[0], _KEYS[check])}"
        )
    metrics = [m for m, _ in suite.metrics]
    metric = _text(raw, "metric", where, required=True)
    if metric not in metrics:
        raise GenbenchError(
            f"{where}.metric {metric!r} is not one of the suite's metrics{did_you_mean(metric, metrics)}"
        )
    if "paper" not in raw:
        raise GenbenchError(f"{where}: needs 'paper' (the paper's value)")
    profiles = raw.get("profiles")
    if profiles is not None and not (isinstance(profiles, list) and all(isinstance(p, str) for p in profiles)):
        raise GenbenchError(f"{where}.profiles must be a list of profile names, got {profiles!r}")
    return {
        "id": cid,
        "claim": _text(raw, "claim", where, required=True),
        "check": check,
        "metric": metric,
        "paper": raw["paper"],
        "source": _text(raw, "source", where),
        "slip": _text(raw, "slip", where),
        "cause": _text(raw, "cause", where),
        "profiles": tuple(profiles) if profiles is not None else None,
        "dataset": _selector("dataset", raw.get("dataset"), suite, registry, where),
        "sampler": _selector("sampler", raw.get("sampler"), suite, registry, where),
    }


def _argmin_fields(raw: dict[str, Any], kw: dict[str, Any], suite: Suite, registry: Registry, where: str) -> dict:
    """``check = "argmin"``: the swept parameter ``over`` and the grid steps allowed."""
    over, steps = raw.get("over"), raw.get("steps", 1)
    if kw["sampler"] is None or not isinstance(over, str):
        raise GenbenchError(f"{where}: an argmin claim needs 'sampler' and 'over' (the swept parameter)")
    if over not in registry.get("sampler", kw["sampler"].name).param_defaults():
        raise GenbenchError(f"{where}.over: {over!r} is not a parameter of sampler {kw['sampler'].name!r}")
    if not _number(raw["paper"]):
        raise GenbenchError(f"{where}.paper must be a number for an argmin claim, got {raw['paper']!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise GenbenchError(f"{where}.steps must be a non-negative integer, got {steps!r}")
    return {"over": over, "steps": steps}


def _value_fields(raw: dict[str, Any], kw: dict[str, Any], suite: Suite, registry: Registry, where: str) -> dict:
    """``check = "value"``: exactly one of ``tolerance``, ``rel_tolerance``, ``bounds``."""
    given = [k for k in ("tolerance", "rel_tolerance", "bounds") if k in raw]
    if len(given) != 1:
        raise GenbenchError(f"{where}: a value claim needs exactly one of tolerance, rel_tolerance, bounds")
    expected = raw.get("expected", raw["paper"])
    out: dict[str, Any] = {}
    if given[0] == "bounds":
        b = raw["bounds"]
        if not (isinstance(b, list) and len(b) == 2 and all(_number(x) for x in b) and b[0] <= b[1]):
            raise GenbenchError(f"{where}.bounds must be [low, high] with low ≤ high, got {b!r}")
        out["bounds"] = (float(b[0]), float(b[1]))
    else:
        tol = raw[given[0]]
        if not _number(tol) or tol < 0:
            raise GenbenchError(f"{where}.{given[0]} must be a non-negative number, got {tol!r}")
        if not _number(expected):
            raise GenbenchError(f"{where}: {given[0]} needs a numeric 'expected' (or 'paper'), got {expected!r}")
        out[given[0]] = float(tol)
    out["expected"] = float(expected) if _number(expected) else None
    return out


def _ordering_fields(raw: dict[str, Any], kw: dict[str, Any], suite: Suite, registry: Registry, where: str) -> dict:
    """``check = "ordering"``: at least two groups and the direction their means must go."""
    order, direction = raw.get("order"), raw.get("direction", "increasing")
    if not isinstance(order, list) or len(order) < 2:
        raise GenbenchError(f"{where}.order must list at least two groups, got {order!r}")
    if direction not in ("increasing", "decreasing"):
        raise GenbenchError(f"{where}.direction must be 'increasing' or 'decreasing', got {direction!r}")
    groups = tuple(_group(item, raw, suite, registry, f"{where}.order[{i}]") for i, item in enumerate(order))
    return {"order": groups, "direction": direction}


_CHECK_FIELDS = {"argmin": _argmin_fields, "value": _value_fields, "ordering": _ordering_fields}


def parse_paper(raw: Any, suite: Suite, registry: Registry, where: str) -> PaperTable:
    """Validate a suite's ``[paper]`` table (``where`` names the suite file in errors)."""
    where = f"suite {where}: paper"
    if not isinstance(raw, dict):
        raise GenbenchError(f"{where} must be a table, got {raw!r}")
    unknown = sorted(set(raw) - {"source", "notes", "claims"})
    if unknown:
        raise GenbenchError(
            f"{where}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], ['source', 'notes', 'claims'])}"
        )
    notes = raw.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise GenbenchError(f"{where}.notes must be a list of strings, got {notes!r}")
    claims_raw = raw.get("claims", [])
    if not isinstance(claims_raw, list) or not claims_raw:
        raise GenbenchError(f"{where} needs at least one [[paper.claims]] entry")
    claims = tuple(parse_claim(c, suite, registry, f"{where}.claims[{i}]") for i, c in enumerate(claims_raw))
    ids = [c.id for c in claims]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise GenbenchError(f"{where}: claim id {twice[0]!r} is used more than once")
    return PaperTable(source=_text(raw, "source", where), notes=tuple(notes), claims=claims)
