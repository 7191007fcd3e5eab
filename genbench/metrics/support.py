"""Where the generated mass lies: off the support (seed 004) and across modes (seed 003)."""

from __future__ import annotations

import numpy as np

from ..contracts import Metric, nan_with_reason
from ..params import param


class OffSupport(Metric):
    """Fraction of generated points farther than ``delta`` from the dataset's support (seed 004, §5.5.2).

    Push-forward models (GAN, VAE) put mass between the disconnected circles; this counts it.
    Needs the dataset's exact ``support_distance``; NaN where the support is all of R^d.
    Fresh samples score 0 on noiseless manifolds. Cost: one ``support_distance`` call on n
    points (O(n) for circles and spheres, O(n log G) for swiss rolls).
    """

    name = "off_support"
    higher_is_better = False

    delta: float = param(0.1, ge=0)

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        if dataset is None or getattr(type(dataset), "support_distance", None) is None:
            name = getattr(dataset, "name", None) or "this dataset"
            return nan_with_reason(f"off_support needs a support_distance, which {name} does not have")
        dist = np.asarray(dataset.support_distance(generated), dtype=np.float64)
        return float((dist > self.delta).mean())


class ModeBalance(Metric):
    """Spread of the per-mode sample fractions about the true mode weights (seed 003, Figs. 2–3).

    Each generated point goes to its most responsible mode (the dataset's ``component``);
    with fractions f_k and true weights w_k (the dataset's ``weights``, else the reference's
    fractions) the value is ``std_k(f_k − w_k)``. With equal weights this is the paper's
    "standard deviation of samples-per-mode", divided by n. 0 is perfect balance. Cost: one
    ``component`` call, O(n K d) for a K-mode mixture.
    """

    name = "mode_balance"
    higher_is_better = False

    def __call__(self, generated, reference, *, train=None, dataset=None, rng=None) -> float:
        component = getattr(dataset, "component", None)
        if component is None:
            return nan_with_reason("mode_balance needs a dataset with modes (a component() method)")
        weights = getattr(dataset, "weights", None)
        labels = np.asarray(component(generated))
        if weights is None:
            ref = np.asarray(component(reference))
            k = int(max(labels.max(), ref.max())) + 1
            weights = np.bincount(ref, minlength=k) / len(ref)
        weights = np.asarray(weights, dtype=np.float64)
        frac = np.bincount(labels, minlength=len(weights)) / len(labels)
        return float(np.std(frac - weights))
