"""What is checked: the sampler conformance checks (:mod:`.checks`) behind ``genbench test`` and
the public :mod:`genbench.testing` (``parametrize_with_checks``), which keeps its import path."""
