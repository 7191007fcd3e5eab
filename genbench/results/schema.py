"""The one definition of a cell and of its result: what the store keeps, what exports show.

:class:`Cell` is one unit of work (plain data, so any executor can ship it); :class:`CellResult`
is what a worker returns for it. :data:`ROW_FIELDS` — every column of a stored row, with its
SQL type and meaning — is derived from both, and the store's schema, ``genbench results``
(JSON/CSV) and the leaderboard's frame are derived from it in turn.

Export naming (``genbench results --format csv``, the leaderboard's ``results.csv``): the scalar
fields keep their names; the dict fields are flattened with one prefix each (:data:`FLAT_PREFIXES`):
``d_<param>`` the dataset's configuration with defaults filled in, ``p_<param>`` the sampler's,
``m_<metric>`` metric values, ``note_<metric>`` why a metric is NaN, ``v_<package>`` package
versions. Aggregates over repetitions add ``_mean`` / ``_std`` to a metric column
(``m_sliced_w2_mean``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from ..params import canonical, format_value

#: Final states of a cell (see docs/results.md).
STATUSES = ("ok", "error", "invalid", "timeout", "crashed", "skipped")

#: Bytes of a cell's captured stdout/stderr kept in the store (its tail).
LOG_TAIL_BYTES = 64 * 1024


def component_id(name: str, params: dict[str, Any]) -> str:
    """``name[k=v,...]`` with keys sorted and values canonically formatted (no brackets if empty)."""
    if not params:
        return name
    inner = ",".join(f"{k}={format_value(params[k])}" for k in sorted(params))
    return f"{name}[{inner}]"


def _words(text: str) -> list[int]:
    digest = hashlib.sha256(text.encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


@dataclass(frozen=True)
class Cell:
    """One unit of work: plain data, so executors can ship it anywhere."""

    suite: str
    dataset: str
    dataset_params: dict[str, Any]
    sampler: str
    sampler_params: dict[str, Any]
    rep: int
    seed: int
    n_samples: int
    n_reference: int
    metrics: list[tuple[str, dict[str, Any]]]
    timeout: float
    max_memory_mb: float | None = None
    # Full parameter sets (defaults filled in) — what the result depends on.
    dataset_config: dict[str, Any] = field(default_factory=dict)
    sampler_config: dict[str, Any] = field(default_factory=dict)
    #: Hash of the source files of the cell's components (see ``versions.component_fingerprint``).
    code: str = ""

    @property
    def dataset_id(self) -> str:
        return component_id(self.dataset, self.dataset_params)

    @property
    def base_id(self) -> str:
        return f"{self.dataset_id}/{component_id(self.sampler, self.sampler_params)}"

    @property
    def cell_id(self) -> str:
        return f"{self.base_id}/rep={self.rep}"

    def data_seed(self) -> np.random.SeedSequence:
        """Seeds of the training and reference data: shared by every sampler on this dataset
        and repetition, so all samplers see the same training set (a fair comparison). Derived
        from the full configuration (defaults filled in), so equal configurations written
        differently get equal numbers."""
        import numpy as np

        full = component_id(self.dataset, self.dataset_config or self.dataset_params)
        return np.random.SeedSequence([self.seed, *_words(full), self.rep])

    def sampler_seed(self) -> np.random.SeedSequence:
        """Seeds of fit, sample and metrics: from the suite seed, the cell's full configuration
        (dataset and sampler with defaults filled in, so it names the same cell as the cell id
        whichever way the parameters were written) and the repetition."""
        import numpy as np

        dataset = component_id(self.dataset, self.dataset_config or self.dataset_params)
        sampler = component_id(self.sampler, self.sampler_config or self.sampler_params)
        return np.random.SeedSequence([self.seed, *_words(f"{dataset}/{sampler}"), self.rep])

    def config_hash(self) -> str:
        """Hash of everything the cell's numbers depend on (apart from the code version)."""
        payload = {
            "dataset": [self.dataset, canonical(self.dataset_config)],
            "sampler": [self.sampler, canonical(self.sampler_config)],
            "rep": self.rep,
            "seed": self.seed,
            "n_samples": self.n_samples,
            "n_reference": self.n_reference,
            "metrics": [[m, canonical(p)] for m, p in self.metrics],
            "code": self.code,
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        d = dict(d)
        d["metrics"] = [tuple(m) for m in d["metrics"]]
        return cls(**d)


@dataclass
class CellResult:
    """What running a cell gave: status, timings, memory, metrics, device, captured output."""

    status: str
    message: str = ""
    traceback: str = ""
    fit_s: float | None = None
    sample_s: float | None = None
    metric_s: float | None = None
    wall_s: float | None = None
    peak_mem_mb: float | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    metric_notes: dict[str, str] = field(default_factory=dict)
    device: str = ""
    backend: str = ""
    log_tail: str = ""
    log_bytes: int = 0
    diagnostics: dict[str, Any] = field(default_factory=dict)
    #: a small picture of the generated points (see :mod:`genbench.results.thumbnail`)
    thumbnail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, cell: Cell, status: str, message: str = "") -> CellResult:
        """A result for ``cell`` with no measurements (every metric ``None``)."""
        return cls(status=status, message=message, metrics={name: None for name, _ in cell.metrics})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


#: Every column of a stored result row: ``name: (SQL type, meaning)``. JSON-typed columns hold
#: dicts (decoded by :meth:`genbench.results.store.Store.rows`). The store's table, ``genbench results``
#: and the exports are all derived from this table; docs/results.md documents it column by column.
ROW_FIELDS: dict[str, tuple[str, str]] = {
    "cell_id": ("TEXT NOT NULL", "readable, stable id: dataset[params]/sampler[params]/rep=N"),
    "suite": ("TEXT NOT NULL", "suite name (with :profile, or +adhoc for a run that added cells)"),
    "dataset": ("TEXT NOT NULL", "dataset name"),
    "dataset_params": ("JSON", "dataset parameters the suite sets (those in the cell id)"),
    "dataset_config": ("JSON", "every dataset parameter, defaults filled in"),
    "sampler": ("TEXT NOT NULL", "sampler name"),
    "sampler_params": ("JSON", "sampler parameters the suite sets (those in the cell id)"),
    "sampler_config": ("JSON", "every sampler parameter, defaults filled in"),
    "rep": ("INTEGER NOT NULL", "repetition index"),
    "seed": ("INTEGER NOT NULL", "suite seed"),
    "n_samples": ("INTEGER", "points generated by the sampler"),
    "n_reference": ("INTEGER", "fresh reference points drawn from the dataset for the metrics"),
    "status": ("TEXT NOT NULL", "ok, error, invalid, timeout, crashed or skipped"),
    "message": ("TEXT", "why the cell is not ok, or a warning on an ok cell (one line)"),
    "traceback": ("TEXT", "tail of the traceback of an error"),
    "fit_s": ("REAL", "seconds in fit"),
    "sample_s": ("REAL", "seconds in sample"),
    "metric_s": ("REAL", "seconds computing all metrics"),
    "wall_s": ("REAL", "seconds from starting the worker to its result, as the executor saw it"),
    "peak_mem_mb": ("REAL", "peak resident memory the cell added above the warm worker, MB"),
    "metrics": ("JSON", "metric name to value (null: NaN, see metric_notes)"),
    "metric_notes": ("JSON", "metric name to the reason its value is NaN"),
    "device": ("TEXT", "device the sampler computed on (cpu, cuda:0, …) as it reported it; cpu if silent"),
    "backend": ("TEXT", "array library the sampler used (numpy, jax, torch) as it reported it"),
    "diagnostics": (
        "JSON",
        "what the sampler reported about its fit (diagnostics_): loss curve, steps done, seconds, stop reason",
    ),
    "thumbnail": (
        "JSON",
        "the first 500 generated and training points, first 3 coordinates, one byte each (the gallery)",
    ),
    "log_bytes": ("INTEGER", "bytes the cell wrote to stdout and stderr"),
    "log_tail": ("TEXT", "the last 64 KB of that output (genbench results --cell ID --log)"),
    "code_version": ("TEXT NOT NULL", "genbench version + hash of its sources (the resume key)"),
    "versions": (
        "JSON",
        "versions of Python, the numerical stack and plugin packages; the git commit (genbench_git); the "
        "machine (machine_cpu, machine_cores, machine_gpu, machine_os)",
    ),
    "run_id": ("TEXT NOT NULL", "the run that produced the row"),
    "finished_at": ("TEXT NOT NULL", "UTC time the row was written"),
}

#: The dict columns, flattened in exports with one prefix each.
FLAT_PREFIXES: dict[str, str] = {
    "dataset_config": "d_",
    "sampler_config": "p_",
    "metrics": "m_",
    "metric_notes": "note_",
    "versions": "v_",
}

#: Columns left out of the flat export (the dicts above are flattened; the as-set parameters are
#: in the cell id; the log is read with ``genbench results --cell ID --log``; the diagnostics are
#: curves, read from the JSON export or the store; the thumbnail is a picture, drawn by the leaderboard).
FLAT_EXCLUDED = ("dataset_params", "sampler_params", "traceback", "log_tail", "diagnostics", "thumbnail")


#: Columns of the leaderboard's frame and CSV (one line per dataset × sampler configuration), beside
#: each metric's ``m_<metric>_mean`` / ``m_<metric>_std`` over repetitions.
AGGREGATE_FIELDS: dict[str, str] = {
    "dataset_id": "the dataset and the parameters the suite sets: arc[n_train=250]",
    "sampler_id": "the sampler and the parameters the suite sets: kde[bandwidth=0.1]",
    "n_cells": "cells (repetitions) of this configuration",
    "n_ok": "of which ok",
    "fit_sample_s_mean": "mean fit + sample seconds over the ok cells",
}


def json_fields() -> list[str]:
    """Names of the row columns that hold JSON objects."""
    return [k for k, (sql, _) in ROW_FIELDS.items() if sql == "JSON"]


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    """One stored row as flat export columns (see the module docstring for the naming)."""
    out: dict[str, Any] = {}
    for key in ROW_FIELDS:
        if key in FLAT_EXCLUDED:
            continue
        if key in FLAT_PREFIXES:
            for k, v in (row.get(key) or {}).items():
                out[FLAT_PREFIXES[key] + k] = (
                    v if isinstance(v, (int, float, str, bool)) or v is None else json.dumps(v)
                )
        else:
            out[key] = row.get(key)
    return out


def describe_flat_column(name: str) -> str | None:
    """The documented meaning of an export column, or ``None`` if it is not part of the scheme."""
    if name in ROW_FIELDS and name not in FLAT_EXCLUDED and name not in FLAT_PREFIXES:
        return ROW_FIELDS[name][1]
    if name in AGGREGATE_FIELDS:
        return AGGREGATE_FIELDS[name]
    for suffix, what in (("_mean", "mean over repetitions of "), ("_std", "standard deviation over repetitions of ")):
        if name.startswith("m_") and name.endswith(suffix):
            return what + ROW_FIELDS["metrics"][1] + ": " + name[2 : -len(suffix)]
    for key, prefix in FLAT_PREFIXES.items():
        if name.startswith(prefix):
            return f"{ROW_FIELDS[key][1]}: {name[len(prefix) :]}"
    return None
