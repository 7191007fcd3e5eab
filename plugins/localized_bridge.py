"""The localized_bridge sampler (being implemented; registers nothing yet)."""
