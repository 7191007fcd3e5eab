"""The dmps sampler (being implemented; registers nothing yet)."""
