"""The ula sampler (being implemented; registers nothing yet)."""
