"""Command-line selectors that narrow a suite: ``--sampler 'kde[bandwidth=0.1]'``, ``--dataset arc``.

A selector matches a cell when the name is equal and every ``key=value`` equals the cell's
parameter (its default when the suite does not set it). A component that the suite does not
list is added with the selector's parameters, so ``--sampler jitter`` tries a new plugin on a
shipped suite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import tomllib
from ..errors import GenbenchError
from ..params import build, format_value, validate_params

if TYPE_CHECKING:
    from ..plugins import Registry
    from ..results.schema import Cell
    from .suite import Suite

_SELECTOR = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(?:\[(.*)\])?\s*$")


@dataclass(frozen=True)
class Selector:
    kind: str
    name: str
    params: dict[str, Any]
    text: str

    def matches(self, name: str, config: dict[str, Any]) -> bool:
        if name != self.name:
            return False
        return all(format_value(config.get(k)) == format_value(v) for k, v in self.params.items())


def _parse_value(raw: str) -> Any:
    raw = raw.strip()
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare word such as data_aware


def parse_selector(kind: str, text: str) -> Selector:
    """Parse ``name`` or ``name[k=v,k2=v2]``; :class:`GenbenchError` if malformed."""
    m = _SELECTOR.match(text)
    if not m:
        raise GenbenchError(f"--{kind} {text!r}: expected NAME or NAME[key=value,...]")
    name, inner = m.group(1), m.group(2)
    params: dict[str, Any] = {}
    if inner:
        for part in inner.split(","):
            if "=" not in part:
                raise GenbenchError(f"--{kind} {text!r}: {part.strip()!r} is not key=value")
            key, value = part.split("=", 1)
            params[key.strip()] = _parse_value(value)
    return Selector(kind, name, params, text)


def apply_selectors(
    suite: Suite, registry: Registry, samplers: Sequence[str] = (), datasets: Sequence[str] = ()
) -> tuple[Suite, list[Selector], list[Selector]]:
    """Validate selectors, add components the suite lacks; return the suite and the parsed selectors."""
    parsed: dict[str, list[Selector]] = {"sampler": [], "dataset": []}
    for kind, texts in (("sampler", samplers), ("dataset", datasets)):
        table = getattr(suite, kind + "s")
        added: set[str] = set()
        for text in texts:
            sel = parse_selector(kind, text)
            cls = registry.get(kind, sel.name)
            where = f"--{kind} {text}"
            build(cls, validate_params(cls, sel.params, where, sep=": "), where)
            if sel.name not in table or sel.name in added:
                # Not in the suite: run it with the selector's parameters (several → axes).
                axes = table.setdefault(sel.name, {})
                added.add(sel.name)
                for k, v in sel.params.items():
                    values = axes.get(k, [])
                    axes[k] = [*values, v] if v not in values else values
            parsed[kind].append(sel)
    return suite, parsed["sampler"], parsed["dataset"]


def filter_cells(cells: list[Cell], samplers: list[Selector], datasets: list[Selector]) -> list[Cell]:
    """Keep cells matched by any sampler selector and any dataset selector (all, if none given)."""
    out = [
        c
        for c in cells
        if (not samplers or any(s.matches(c.sampler, c.sampler_config) for s in samplers))
        and (not datasets or any(s.matches(c.dataset, c.dataset_config) for s in datasets))
    ]
    for sel in [*samplers, *datasets]:
        attr = sel.kind
        if not any(sel.matches(getattr(c, attr), getattr(c, attr + "_config")) for c in cells):
            values = {
                k: sorted(
                    {format_value(getattr(c, attr + "_config").get(k)) for c in cells if getattr(c, attr) == sel.name}
                )
                for k in sel.params
            }
            shown = "; ".join(f"{k} in the suite: {', '.join(v)}" for k, v in values.items())
            raise GenbenchError(f"--{attr} {sel.text!r} matches no cell of the suite ({shown})")
    return out
