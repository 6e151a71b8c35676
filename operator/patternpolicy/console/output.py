"""Data on stdout as a table (for people, the default), JSON or YAML (for scripts); messages go to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from patternpolicy.yamlio import dump

Format = Literal["table", "json", "yaml"]
FORMATS: tuple[Format, ...] = ("table", "json", "yaml")


def emit(data: Any, fmt: Format, table: str) -> None:
    """`table` is the human rendering of `data`; JSON and YAML carry the same facts."""
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    elif fmt == "yaml":
        sys.stdout.write(dump(data))
    else:
        sys.stdout.write(table if table.endswith("\n") or not table else table + "\n")


def note(message: str) -> None:
    """A message for people: stderr, so that stdout stays parseable."""
    print(message, file=sys.stderr)
