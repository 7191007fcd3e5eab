"""asv benchmarks: one iteration of each particle baseline at n = 1,000 particles, M = 1,000, d = 9."""

from __future__ import annotations

import numpy as np
from genbench_plugins.dmps import DMPS
from genbench_plugins.kde import KDE
from genbench_plugins.svgd import SVGD
from genbench_plugins.ula import ULA

from genbench.numerics.kde import initial_particles


class TimeBaselineIteration:
    """Per-iteration cost of ula, svgd and dmps (KDE score), and a full kde draw."""

    n, M, d = 1000, 1000, 9
    timeout = 60
    rounds = 1
    repeat = (2, 10, 3.0)  # at least 2 samples, at most 10 or 3 s
    warmup_time = 0.2

    def setup(self) -> None:
        rng = np.random.default_rng(0)
        self.X = rng.standard_normal((self.M, self.d))
        self.x = initial_particles(self.X, self.n, rng=rng, jitter=0.3)
        self.ula = ULA().fit(self.X, rng=rng)
        self.svgd = SVGD().fit(self.X, rng=rng)
        self.dmps = DMPS().fit(self.X, rng=rng)
        self.kde = KDE().fit(self.X, rng=rng)

    def time_ula_step(self) -> None:
        self.x + self.ula.tau_ * self.ula.score_at(self.x)

    def time_svgd_iteration(self) -> None:
        self.svgd.direction(self.x)

    def time_dmps_iteration(self) -> None:
        self.dmps.velocity(self.x)

    def time_dmps_fit(self) -> None:
        DMPS().fit(self.X, rng=np.random.default_rng(0))

    def time_kde_sample(self) -> None:
        self.kde.sample(self.n, rng=np.random.default_rng(0))
