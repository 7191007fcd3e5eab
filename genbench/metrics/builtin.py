"""Registers the built-in metrics through the ``genbench`` entry-point group."""

from __future__ import annotations

from ..hookspecs import hookimpl
from .covariance import CorrelationError, CovarianceError, CovarianceRows
from .energy import MMD, Energy
from .marginals import BetweenMass, CircleC1, CircleC2, CircleGapMass, MarginalW1, RadialSpread
from .memorization import Memorization
from .paths import Autocorrelation, TransitionRate, TransitionRateValue
from .sinkhorn import Sinkhorn
from .sliced import SlicedW1, SlicedW2
from .support import ModeBalance, OffSupport


@hookimpl
def genbench_metrics() -> list[type]:
    return [
        SlicedW2,
        SlicedW1,
        Energy,
        MMD,
        Memorization,
        Sinkhorn,
        MarginalW1,
        CovarianceError,
        CorrelationError,
        CovarianceRows,
        ModeBalance,
        OffSupport,
        CircleC1,
        CircleC2,
        CircleGapMass,
        BetweenMass,
        RadialSpread,
        TransitionRate,
        TransitionRateValue,
        Autocorrelation,
    ]
