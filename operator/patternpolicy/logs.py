"""Log records with time and level, as text (default) or one JSON object a line.

`PATTERNPOLICY_LOG_FORMAT` (text | json) and `PATTERNPOLICY_LOG_LEVEL` (DEBUG, INFO, ...) set both for the
operator and the CLI; flags (`--log-format`, `--verbose`, `--debug`) win over the environment.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Literal

FORMAT_ENV = "PATTERNPOLICY_LOG_FORMAT"
LEVEL_ENV = "PATTERNPOLICY_LOG_LEVEL"
LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class BadLogSetting(ValueError):
    """A PATTERNPOLICY_LOG_* value or flag that is not a format or level."""


def severity(levelno: int) -> str:
    """The operator's JSON lines come from kopf's formatter: the same words here."""
    for limit, word in ((logging.DEBUG, "debug"), (logging.INFO, "info"), (logging.WARNING, "warn"),
                        (logging.ERROR, "error")):
        if levelno <= limit:
            return word
    return "critical"


class JsonFormatter(logging.Formatter):
    """One JSON object a line, keyed like kopf's (the operator's): timestamp, severity, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "severity": severity(record.levelno), "logger": record.name, "message": record.getMessage(),
        }
        ref = getattr(record, "k8s_ref", None)  # set by kopf's per-object loggers
        if isinstance(ref, dict):
            entry["object"] = {k: v for k, v in ref.items() if k in ("kind", "name", "namespace", "uid")}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def chosen_format(flag: str | None = None) -> LogFormat:
    value = (flag or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if value not in ("text", "json"):
        raise BadLogSetting(f"{FORMAT_ENV} must be text or json, not {value!r}")
    return "json" if value == "json" else "text"


def chosen_level(default: int, verbose: bool = False, debug: bool = False) -> int:
    if debug:
        return logging.DEBUG
    if verbose:
        return min(default, logging.INFO) if default > logging.INFO else logging.DEBUG
    configured = os.environ.get(LEVEL_ENV, "").strip().upper()
    if not configured:
        return default
    level = logging.getLevelName(configured)
    if not isinstance(level, int):
        raise BadLogSetting(f"{LEVEL_ENV} must be a level name (DEBUG, INFO, WARNING, ERROR), not {configured!r}")
    return level


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    text = logging.Formatter(TEXT_FORMAT)
    text.default_msec_format = "%s.%03d"
    return text


def configure(log_format: LogFormat, level: int) -> None:
    """Root logging to stderr (stdout is for data); replaces handlers set up earlier by this function."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.set_name("patternpolicy")
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "patternpolicy"] + [handler]
    root.setLevel(level)
    # Transport retries are shown with --verbose; by default the one error line says what finally happened.
    for noisy in ("urllib3", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.ERROR if level >= logging.WARNING else logging.INFO)
