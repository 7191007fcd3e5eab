"""Built-in datasets of genbench (installed as ``genbench_datasets``), one module per family."""
