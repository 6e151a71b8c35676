"""YAML as this project writes it: Unicode kept as characters, key order kept.

PyYAML's default escapes non-ASCII text (an emoji becomes `\\U0001F680`); Go's YAML
decoders used by the Kyverno CLI reject some of those escapes, so a description
with an emoji made every proposal Invalid. One writer for every file we emit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


def dump(document: Any, sort_keys: bool = False) -> str:
    return str(yaml.safe_dump(document, sort_keys=sort_keys, allow_unicode=True, default_flow_style=False))


def dump_all(documents: Iterable[Any], sort_keys: bool = False) -> str:
    return str(yaml.safe_dump_all(list(documents), sort_keys=sort_keys, allow_unicode=True,
                                  default_flow_style=False))
