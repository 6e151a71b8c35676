"""Entry point for `patternpolicy run`."""

from __future__ import annotations

import kopf

import patternpolicy.handlers  # noqa: F401  (registers the handlers)


def run_operator(namespace: str | None = None, standalone: bool = False) -> int:
    kopf.run(clusterwide=True, standalone=standalone)
    return 0
