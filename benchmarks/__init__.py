"""asv benchmarks: runtime (time_*), memory (peakmem_*) and accuracy (track_*) across commits.

Offline recipe (records the installed code, builds no environments)::

    asv machine --yes
    asv run --python=same --set-commit-hash $(git rev-parse HEAD)
"""
