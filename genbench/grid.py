"""Grid expansion, cell ids and seeds.

Each ``[datasets.X]`` / ``[samplers.Y]`` table maps parameter names to a scalar (fixed) or
a list (a grid axis). The grid is the product of all axes, per dataset × sampler, times
the repetitions. A cell's id lists the parameters written in the suite, sorted by name and
canonically formatted, e.g. ``arc[n_train=250]/kde[bandwidth=0.1]/rep=0``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .params import canonical, format_value


def component_id(name: str, params: dict[str, Any]) -> str:
    """``name[k=v,...]`` with keys sorted and values canonically formatted (no brackets if empty)."""
    if not params:
        return name
    inner = ",".join(f"{k}={format_value(params[k])}" for k in sorted(params))
    return f"{name}[{inner}]"


def expand(axes: dict[str, Any]) -> list[dict[str, Any]]:
    """All parameter combinations of a table whose list values are axes."""
    keys = sorted(axes)
    values = [v if isinstance(v, list) else [v] for v in (axes[k] for k in keys)]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


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
