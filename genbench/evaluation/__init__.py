"""Cell evaluation, its own layer: what running one cell means (data drawn from the cell's seeds,
fit and sample, sample validation, metrics with their own seeds, diagnostics), independent of
where it runs. The executors run it in isolated worker processes; the conformance checks, the
leaderboard's data floor and the asv benchmarks use its parts."""

from .cell import (
    DIAGNOSTIC_BYTES,
    DIAGNOSTIC_POINTS,
    STATUSES,
    accepts_dataset,
    build_components,
    collect_diagnostics,
    compute_metric,
    execute_cell,
    metric_seed,
    peak_rss_mb,
    skip_reason,
    validate_samples,
)

__all__ = [
    "DIAGNOSTIC_BYTES",
    "DIAGNOSTIC_POINTS",
    "STATUSES",
    "accepts_dataset",
    "build_components",
    "collect_diagnostics",
    "compute_metric",
    "execute_cell",
    "metric_seed",
    "peak_rss_mb",
    "skip_reason",
    "validate_samples",
]
