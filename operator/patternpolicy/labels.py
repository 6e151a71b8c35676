"""Label values and the selectors that find them: one computation for writer and reader.

A pattern may be named with up to 253 characters outside the cluster (and 63 inside it); its
proposal `<pattern>-g12` is longer still. A label value holds 63: longer names are shortened
with a hash of the whole, so two names never share a label, and every selector computes the
value the same way the object's writer did.
"""

from __future__ import annotations

import hashlib

from patternpolicy import constants as c

MAX_LABEL = 63


def label_value(value: str) -> str:
    """A label value for any name: as it is when it fits, else shortened with a hash so it stays unique.

    A 63-character pattern is valid, its proposal `<pattern>-g12` is not a valid label value: cutting
    it would make two proposals share one label.
    """
    if len(value) <= MAX_LABEL:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{value[: MAX_LABEL - 9].rstrip('-_.')}-{digest}"


def pattern_selector(pattern: str) -> str:
    """The label selector of a pattern's proposals and policies."""
    return f"{c.PATTERN_LABEL}={label_value(pattern)}"
