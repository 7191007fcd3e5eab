"""A results.csv read back as a read-only store: the leaderboard and the paper reports re-render from
a committed ``results.csv`` as they do from a store.

The flat export (:func:`genbench.results.schema.flat_row`) keeps every row's scalar fields and its
``d_*`` / ``p_*`` / ``m_*`` / ``note_*`` / ``v_*`` columns; the parameters as the suite set them are
in the cell id (``dataset[k=v]/sampler[k=v]/rep=r``). Values come back typed (numbers, booleans,
lists); a parameter whose value is ``None`` is an empty cell and so is left out of the
configuration; what the CSV does not carry — captured output, diagnostics (training curves), thumbnails
(the gallery) — is empty.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import GenbenchError
from .schema import FLAT_PREFIXES
from .store import Store

#: Fields whose CSV text is a number.
_NUMBERS = ("rep", "seed", "n_samples", "n_reference", "fit_s", "sample_s", "metric_s", "wall_s", "peak_mem_mb")


def parse_value(text: str | None) -> Any:
    """A CSV cell (or an id's parameter value) back to a value: "" → ``None``, ``True``/``False``,
    an int, a float, a JSON list or object, else the text."""
    if text is None or text == "":
        return None
    if text in ("True", "False", "true", "false"):
        return text in ("True", "true")
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text[0] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "[({") - (ch in "])}")
        if ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_component_id(text: str) -> tuple[str, dict[str, Any]]:
    """``kde[bandwidth=0.05]`` → ``("kde", {"bandwidth": 0.05})`` (a bare name has no parameters)."""
    if "[" not in text:
        return text, {}
    if not text.endswith("]"):
        raise GenbenchError(f"not a component id: {text!r}")
    name, inner = text[: text.index("[")], text[text.index("[") + 1 : -1]
    params = {}
    for part in _split(inner, ","):
        key, sep, value = part.partition("=")
        if not sep:
            raise GenbenchError(f"not a component id: {text!r}")
        params[key] = parse_value(value)
    return name, params


def rows_from_csv(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an exported results.csv, in the stored rows' shape; a one-line
    :class:`GenbenchError` for a file that is not one."""
    path = Path(path)
    try:
        with path.open(newline="") as f:
            records = list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise GenbenchError(f"cannot read {path}: {exc}") from None
    if not records or "cell_id" not in records[0] or "suite" not in records[0]:
        raise GenbenchError(f"{path}: not a genbench results.csv (no cell_id and suite columns)")
    return [_row(r, path) for r in records]


def _row(record: dict[str, str], path: Path) -> dict[str, Any]:
    parts = _split(record["cell_id"], "/")
    if len(parts) != 3:
        raise GenbenchError(f"{path}: not a cell id: {record['cell_id']!r}")
    dataset, dataset_params = parse_component_id(parts[0])
    sampler, sampler_params = parse_component_id(parts[1])
    row: dict[str, Any] = {k: v for k, v in record.items() if not any(k.startswith(p) for p in FLAT_PREFIXES.values())}
    for key, prefix in FLAT_PREFIXES.items():
        row[key] = {k[len(prefix) :]: parse_value(v) for k, v in record.items() if k.startswith(prefix) and v != ""}
    # every metric column of the file, NaN ones (empty cells) as None, as the store keeps them
    row["metrics"] = {
        k[2:]: (v if isinstance(v := parse_value(text), (int, float)) else None)
        for k, text in record.items()
        if k.startswith(FLAT_PREFIXES["metrics"])
    }
    for key in _NUMBERS:
        if key in row:
            row[key] = parse_value(row[key])
    row.update(
        dataset=dataset,
        sampler=sampler,
        dataset_params=dataset_params,
        sampler_params=sampler_params,
        traceback="",
        log_tail="",
        diagnostics={},
        thumbnail=None,
        current=1,
    )
    for key in ("versions", "metric_notes"):
        row[key] = {k: "" if v is None else str(v) for k, v in row[key].items()}
    return row


class CsvStore(Store):
    """The read side of :class:`~genbench.results.store.Store` over a results.csv (nothing is
    written: a run needs a real store)."""

    def __init__(self, path: str | Path | None = None, *, readonly: bool = True) -> None:
        if path is None:
            raise GenbenchError("a results.csv store needs its path")
        self.path = Path(path)
        self._rows = rows_from_csv(self.path)

    def rows(
        self,
        suite: str | None = None,
        *,
        history: bool = False,
        cell_ids: Iterable[str] | None = None,
        columns: Iterable[str] = (),
    ) -> list[dict[str, Any]]:
        """The file's rows (all of them current: the export holds current rows), of ``suite`` and
        ``cell_ids`` when given; every column it has, whatever ``columns`` asks."""
        wanted = None if cell_ids is None else set(cell_ids)
        return [
            dict(r)
            for r in self._rows
            if (suite is None or r["suite"] == suite) and (wanted is None or r["cell_id"] in wanted)
        ]

    def suites(self) -> list[str]:
        return sorted({r["suite"] for r in self._rows})

    def last_suite(self) -> str | None:
        last = max(self._rows, key=lambda r: str(r.get("finished_at") or ""), default=None)
        return None if last is None else last["suite"]

    def run_options(self, suite: str) -> dict[str, Any]:
        return {}  # not in the export: the suite's definition supplies what is needed

    def cell_log(self, cell_id: str, suite: str | None = None) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        pass

    def __enter__(self) -> CsvStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
