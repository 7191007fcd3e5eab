"""The svgd sampler (being implemented; registers nothing yet)."""
