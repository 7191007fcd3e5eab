"""Compare the metric values of two result stores cell by cell, bit for bit.

    python benchmarks/compare_stores.py BEFORE.db AFTER.db [--suite NAME]

For a change that must not change numbers (a refactor): run the same suite into two stores,
one before and one after, and compare. Exit status 0 when every cell of either store is in the
other with the same status and bit-identical metric values (NaN equal to NaN), 1 otherwise,
with the first differences listed. Timings, versions and run ids are not compared.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import struct
import sys


def _cells(path: str, suite: str | None) -> dict[tuple[str, str], tuple[str, dict]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT suite, cell_id, status, metrics FROM results"
        rows = con.execute(query + (" WHERE suite = ?" if suite else ""), (suite,) if suite else ()).fetchall()
    finally:
        con.close()
    return {(s, cid): (status, json.loads(m or "{}")) for s, cid, status, m in rows}


def _bits(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return struct.pack("<d", float(value)).hex()


def compare(before: str, after: str, suite: str | None = None) -> list[str]:
    """The differences between two stores (empty: identical metric values and statuses)."""
    a, b = _cells(before, suite), _cells(after, suite)
    out = [f"only in {before}: {k[0]} {k[1]}" for k in sorted(a.keys() - b.keys())]
    out += [f"only in {after}: {k[0]} {k[1]}" for k in sorted(b.keys() - a.keys())]
    for key in sorted(a.keys() & b.keys()):
        (sa, ma), (sb, mb) = a[key], b[key]
        if sa != sb:
            out.append(f"{key[1]}: status {sa} vs {sb}")
        for name in sorted(ma.keys() | mb.keys()):
            if _bits(ma.get(name)) != _bits(mb.get(name)):
                out.append(f"{key[1]}: {name} {ma.get(name)!r} vs {mb.get(name)!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--suite")
    args = parser.parse_args(argv)
    diffs = compare(args.before, args.after, args.suite)
    n = len(_cells(args.before, args.suite))
    if diffs:
        print(f"{len(diffs)} differences over {n} cells:")
        print("\n".join(diffs[:40]))
        return 1
    print(f"identical: {n} cells, every metric value bit for bit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
