"""Built-in samplers of genbench (installed as ``genbench_plugins``), one module per sampler."""
