"""What to run: the suite TOML schema (:mod:`.suite`), grid expansion and cell ids (:mod:`.grid`),
command-line selectors (:mod:`.selectors`) and a suite's paper claims (:mod:`.claims`).

Imports the parameter model, the registry and the row schema (:mod:`genbench.results`); never
the executors, reports, API or CLI.
"""
