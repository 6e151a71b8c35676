"""How many bad inputs the tests cover, by category: Pattern specs, model output and cluster state.

Run from the repository root:
    python benchmarks/bench_bad_inputs.py

Reads tests/data/bad_inputs/ (the catalogues the unit and cluster tests run); prints counts only.
Cluster-state cases that an existing test already covers (`covered_by`) are counted and marked.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.support.bad_inputs import CATALOGUES, counts, load  # noqa: E402


def main() -> None:
    total = 0
    print("bad inputs by category (tests/data/bad_inputs/)")
    for name, what in CATALOGUES.items():
        found = counts(name)
        covered = sum("covered_by" in case for case in load(name)["cases"])
        note = f" ({covered} run by the tests they name in covered_by)" if covered else ""
        print(f"\n{what} ({name}): {sum(found.values())} cases{note}")
        for category, count in sorted(found.items(), key=lambda item: (-item[1], item[0])):
            print(f"  {category:<22} {count:>4}")
        total += sum(found.values())
    print(f"\ntotal: {total} cases")


if __name__ == "__main__":
    main()
