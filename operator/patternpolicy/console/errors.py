"""One line and a defined exit code for every failure a user can meet; a traceback only with --debug.

Exit codes (docs/cli.md):
  0  done
  1  findings: differences (diff), warnings (doctor --strict), patterns declined, unproven or failed (generate)
  2  usage or input error: bad flags, unreadable or invalid files, an unknown name, a missing tool
  3  the cluster or the model cannot be reached (connection, timeout, no credentials)
  4  the cluster refused: unauthorised or forbidden
  5  unexpected error (a bug): rerun with --debug and report the traceback
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import IntEnum

EXIT_CODES = """exit codes:
  0  done
  1  findings: differences (diff), warnings with doctor --strict, patterns failed (generate),
     declined or unproven with generate --strict
  2  usage or input error: bad flags, unreadable or invalid files, unknown names, a missing tool
  3  the cluster or the model cannot be reached (connection, timeout, no credentials)
  4  the cluster refused (unauthorised, forbidden)
  5  unexpected error: rerun with --debug
"""


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    UNREACHABLE = 3
    REFUSED = 4
    INTERNAL = 5
    INTERRUPTED = 130


class UsageError(Exception):
    """Bad input worded for the user; exit 2."""


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _network_reason(exc: BaseException) -> str | None:
    """'connection refused', 'timed out', ... when a transport error is anywhere in the chain."""
    import urllib3.exceptions

    for link in _chain(exc):
        text = str(link)
        found = _ERRNO.search(text)
        if found:
            return found.group(1).strip().lower()
        if isinstance(link, urllib3.exceptions.MaxRetryError) and link.reason is not None:
            return _network_reason(link.reason) or type(link.reason).__name__
        if isinstance(link, TimeoutError | urllib3.exceptions.TimeoutError):
            return "timed out"
        if isinstance(link, ConnectionError | urllib3.exceptions.HTTPError):
            return str(link).splitlines()[0][:200] or type(link).__name__
    return None


_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def _api_status(exc: BaseException) -> int | None:
    """The HTTP status the API server answered, from the client's exception or a raw GET's message."""
    from kubernetes.client.exceptions import ApiException

    for link in _chain(exc):
        if isinstance(link, ApiException):
            return int(link.status or 0)
        found = _HTTP_STATUS.search(str(link))
        if found:
            return int(found.group(1))
    return None


def _cluster_address() -> str:
    try:
        from patternpolicy.adapters.kube import api_client

        return str(api_client().configuration.host)
    except Exception:
        return "the cluster"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:400]


def _cluster_failure(exc: BaseException) -> tuple[Exit, str] | None:
    from kubernetes.config import ConfigException

    from patternpolicy.adapters.kube import KubeError

    if any(isinstance(link, ConfigException) for link in _chain(exc)):
        return Exit.UNREACHABLE, f"{_first_line(exc)} (use --kubeconfig or --context)"
    reason = _network_reason(exc)
    if reason is not None and not any(isinstance(link, FileNotFoundError) for link in _chain(exc)):
        return Exit.UNREACHABLE, (f"cannot reach the cluster at {_cluster_address()}: {reason} "
                                  "(check --kubeconfig and --context)")
    status = _api_status(exc)
    if status in (401, 403):
        return Exit.REFUSED, f"the cluster refused: {_first_line(exc)}"
    if status == 404:
        return Exit.USAGE, f"not found: {_first_line(exc)}"
    if isinstance(exc, KubeError) or status is not None:
        return (Exit.REFUSED if status else Exit.UNREACHABLE), _first_line(exc)
    return None


def classify(exc: BaseException) -> tuple[Exit, str]:
    """The exit code and the one line to print for an exception that ended a verb."""
    import yaml

    from patternpolicy.adapters.anthropic_api import ModelError, ModelRejected
    from patternpolicy.adapters.kyverno_cli import KyvernoNotFound
    from patternpolicy.logs import BadLogSetting
    from patternpolicy.models.pattern import InvalidPattern
    from patternpolicy.schemas import SchemaError
    from patternpolicy.services.analyzers import AnalyzerNotConfigured
    from patternpolicy.services.bench import BadCases

    if isinstance(exc, KeyboardInterrupt):
        return Exit.INTERRUPTED, "interrupted"
    if isinstance(exc, ModelRejected):
        return Exit.USAGE, f"model refused the request: {_first_line(exc)}"
    if isinstance(exc, ModelError):
        return Exit.UNREACHABLE, f"model unavailable: {_first_line(exc)}"
    if isinstance(exc, KyvernoNotFound):
        return Exit.USAGE, _first_line(exc)
    if isinstance(exc, UsageError | InvalidPattern | FileExistsError | AnalyzerNotConfigured | BadCases | SchemaError
                  | BadLogSetting):
        return Exit.USAGE, _first_line(exc)
    if isinstance(exc, yaml.YAMLError):
        return Exit.USAGE, f"invalid YAML: {_first_line(exc)}"
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError):
        return Exit.USAGE, _first_line(exc)
    cluster = _cluster_failure(exc)
    if cluster is not None:
        return cluster
    return Exit.INTERNAL, f"unexpected {type(exc).__name__}: {_first_line(exc)} (rerun with --debug for details)"
