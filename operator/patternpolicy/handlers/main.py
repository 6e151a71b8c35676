"""Entry point for `patternpolicy run`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import kopf

import patternpolicy.handlers  # noqa: F401  (registers the handlers)
from patternpolicy import constants as c
from patternpolicy import logs

DEFAULT_LIVENESS = "http://0.0.0.0:8081/healthz"
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_pod() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SERVICE_ACCOUNT / "token").exists()


def configure_logging(log_format: str | None, verbose: bool, debug: bool) -> None:
    """kopf's formatters (they name the object a line is about), with time and level, as text or JSON."""
    chosen = logs.chosen_format(log_format)
    kopf.configure(debug=debug, verbose=verbose,
                   log_format=kopf.LogFormat.JSON if chosen == "json" else kopf.LogFormat.FULL,
                   log_prefix=chosen == "text")
    logging.getLogger().setLevel(logs.chosen_level(logging.INFO, verbose, debug))
    for noisy in ("urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def run_operator(namespace: str | None = None, standalone: bool = False, liveness: str | None = None,
                 log_format: str | None = None, verbose: bool = False, debug: bool = False) -> int:
    """`namespace`: the operator's own (default: its pod's). Patterns and PolicyProposals are cluster-scoped,
    so the operator always watches cluster-wide; the namespace is where it runs, never governed by a policy."""
    configure_logging(log_format, verbose, debug)
    if namespace:
        os.environ[c.OWN_NAMESPACE_ENV] = namespace  # read by the compilers (protected) and kube.own_namespace
    if liveness is None and in_pod():
        liveness = DEFAULT_LIVENESS
    kopf.run(clusterwide=True, standalone=standalone,
             liveness_endpoint=None if liveness in (None, "", "none") else liveness)
    return 0
