"""genbench's version, in a leaf module every other module may import without a cycle."""

__version__ = "0.1.0"
