"""Deterministic names, labels and annotations, always set by code."""

from __future__ import annotations

import hashlib

from patternpolicy import constants as c
from patternpolicy.labels import label_value
from patternpolicy.models.pattern import PatternRef
from patternpolicy.models.text import printable

MAX_NAME = 253


def _fitted(name: str) -> str:
    """An object name of at most 253 characters, shortened with a hash of the whole so it stays unique."""
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}-{digest}"


def policy_name(pattern: str, rule_id: str) -> str:
    return _fitted(f"{pattern}-{rule_id}")


def proposal_name(pattern: PatternRef) -> str:
    return _fitted(f"{pattern.name}-g{pattern.generation}")


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
