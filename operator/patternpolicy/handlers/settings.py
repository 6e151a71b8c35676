"""Operator-wide settings: own storage prefix, explicit events only, sane timeouts, metrics."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from patternpolicy import constants as c
from patternpolicy import metrics
from patternpolicy.adapters.cluster_facts import read_facts
from patternpolicy.adapters.kube import KubeError, api_client, explicit_kubeconfig
from patternpolicy.adapters.workdirs import remove_stale
from patternpolicy.compile.choice import choose_engine
from patternpolicy.handlers import runtime
from patternpolicy.services.analyzers import AnalyzerNotConfigured, choose_analyzer


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, logger: kopf.Logger, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=c.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=c.GROUP, key="last-handled-configuration")
    # Every step a user follows is an explicit Event (kopf.info/warn); log lines are not posted as Events.
    settings.posting.level = logging.INFO
    settings.posting.loggers = False
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    metrics.forget_states()
    metrics.start_server()
    for stale in remove_stale():
        logger.info("removed the work folder of a process that no longer runs: %s", stale)
    try:
        runtime.configure(lambda check: choose_analyzer("auto", field_check=check))  # PATTERNPOLICY_ANALYSER
    except AnalyzerNotConfigured as exc:  # Claude chosen without a key: a setting to fix, not to retry
        raise kopf.PermanentError(str(exc)) from exc
    chosen = runtime.analyzer()
    logger.info("patternpolicy operator starting with the %s analyser", chosen.name)
    logger.info("kind search: %s", runtime.open_index())
    try:
        runtime.sync_index()
    except KubeError as exc:
        logger.warning("cannot index the cluster's kinds yet (done on the first pattern instead): %s", exc)
    try:
        choice = choose_engine(read_facts(), runtime.default_engine())
    except KubeError as exc:
        logger.warning("cannot read the cluster's policy engines yet: %s", exc)
    else:
        engine = choice.target.describe() if choice.target else "none"
        logger.info("engine auto: %s (%s)", engine, choice.reason)
        for warning in choice.warnings:
            logger.warning("%s", warning)


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In-cluster token first, then $KUBECONFIG as it is now (not as it was at import time).

    With `run --context` the kubernetes client's reading of the kubeconfig is used, so that kopf and the
    operator's own API calls talk to the same cluster as the same user.
    """
    if explicit_kubeconfig():
        return _from_client()
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


def _from_client() -> kopf.ConnectionInfo:
    cfg = api_client().configuration
    token = str((cfg.api_key or {}).get("authorization") or "").removeprefix("Bearer ").strip()
    return kopf.ConnectionInfo(server=cfg.host, ca_path=cfg.ssl_ca_cert, insecure=not cfg.verify_ssl,
                               token=token or None, certificate_path=cfg.cert_file, private_key_path=cfg.key_file)


@kopf.on.event("apiextensions.k8s.io", "v1", "customresourcedefinitions")
def crd_changed(type: str | None, body: kopf.Body, **_: Any) -> None:
    """New, changed or removed CRDs are seen without a restart: kinds, schemas, engines and the index."""
    if type in ("ADDED", "MODIFIED", "DELETED"):
        runtime.crd_event(type, body)


@kopf.on.cleanup()
def close(**_: Any) -> None:
    runtime.close_index()  # releases embedded Qdrant's folder lock for the next process
    metrics.stop_server()
