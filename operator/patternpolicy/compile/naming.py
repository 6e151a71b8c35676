"""Deterministic names, labels and annotations, always set by code."""

from __future__ import annotations

import hashlib

from patternpolicy import constants as c
from patternpolicy.models.pattern import PatternRef
from patternpolicy.models.text import printable

MAX_NAME = 253


def policy_name(pattern: str, rule_id: str) -> str:
    name = f"{pattern}-{rule_id}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}-{digest}"


def proposal_name(pattern: PatternRef) -> str:
    return f"{pattern.name}-g{pattern.generation}"


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


def policy_labels(pattern: PatternRef, rule_id: str) -> dict[str, str]:
    labels = {
        c.MANAGED_BY_LABEL: c.MANAGED_BY,
        c.PATTERN_LABEL: label_value(pattern.name),
        c.GENERATION_LABEL: str(pattern.generation),
        c.RULE_LABEL: label_value(rule_id),
    }
    if pattern.uid:
        labels[c.PATTERN_UID_LABEL] = pattern.uid
    return labels


def policy_annotations(rule_description: str, pattern_description: str) -> dict[str, str]:
    return {
        c.DESCRIPTION_ANNOTATION: printable(rule_description)[:1024],
        c.PATTERN_ANNOTATION: printable(pattern_description)[:2048],
    }
