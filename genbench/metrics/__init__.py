"""Built-in metrics (registered through the ``genbench`` entry point ``metrics``)."""
