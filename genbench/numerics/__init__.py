"""Numerical building blocks shared by several plugins (Sinkhorn scalings, KDE scores, …).

Plugins import these instead of carrying their own copies; see each module's docstring for
the paper and equation it implements.
"""
