"""Deterministic names, labels and annotations, always set by code."""

from __future__ import annotations

import hashlib

from patternpolicy import constants as c
from patternpolicy.models.pattern import PatternRef

MAX_NAME = 253


def policy_name(pattern: str, rule_id: str) -> str:
    name = f"{pattern}-{rule_id}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}-{digest}"


def proposal_name(pattern: PatternRef) -> str:
    return f"{pattern.name}-g{pattern.generation}"


def _label_value(value: str) -> str:
    value = value[:63]
    return value.rstrip("-_.")


def policy_labels(pattern: PatternRef, rule_id: str) -> dict[str, str]:
    labels = {
        c.MANAGED_BY_LABEL: c.MANAGED_BY,
        c.PATTERN_LABEL: _label_value(pattern.name),
        c.GENERATION_LABEL: str(pattern.generation),
        c.RULE_LABEL: _label_value(rule_id),
    }
    if pattern.uid:
        labels[c.PATTERN_UID_LABEL] = pattern.uid
    return labels


def policy_annotations(rule_description: str, pattern_description: str) -> dict[str, str]:
    return {
        c.DESCRIPTION_ANNOTATION: rule_description[:1024],
        c.PATTERN_ANNOTATION: pattern_description[:2048],
    }
