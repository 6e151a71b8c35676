"""The three bad-input catalogues (tests/data/bad_inputs/) and the category of each case.

Pattern specs and model output name their categories by id prefix (`categories` in the file);
cluster-state cases carry a `category`. One reading for the tests and benchmarks/bench_bad_inputs.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

DIR = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
CATALOGUES = {"patterns.yaml": "Pattern specs", "model_outputs.yaml": "model output",
              "cluster_state.yaml": "cluster state"}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DIR / name).read_text())
    return data


def category(case: dict[str, Any], categories: dict[str, Any]) -> str:
    """The case's category: its own, or the one whose id prefixes it starts with (exactly one)."""
    if "category" in case:
        return str(case["category"])
    found = [name for name, prefixes in categories.items()
             if any(case["id"].startswith(p) for p in (prefixes if isinstance(prefixes, list) else [name]))]
    if len(found) != 1:
        raise ValueError(f"case {case['id']} is in {len(found)} categories: {found}")
    return found[0].rstrip("-")


def counts(name: str) -> Counter[str]:
    data = load(name)
    return Counter(category(case, data.get("categories") or {}) for case in data["cases"])
