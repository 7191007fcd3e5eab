"""The bridge sampler (being implemented; registers nothing yet)."""
