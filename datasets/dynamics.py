"""Datasets from dynamical systems (being implemented; registers nothing yet)."""
