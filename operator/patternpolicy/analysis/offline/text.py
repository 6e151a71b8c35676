"""Reading pattern text: normalised words, quoted tokens, numbers, negation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NEGATIONS = (
    "must not", "mustn't", "should not", "shouldn't", "cannot", "can't", "may not", "never",
    "disallow", "forbid", "prohibit", "deny", "denied", "block", "prevent", "reject", "not allowed",
    "not be allowed", "no ", "avoid", "ban", "restrict", "disable",
)
_REQUIREMENTS = ("must", "require", "should", "need", "has to", "have to", "enforce", "ensure", "mandatory",
                 "validates that")


@dataclass(frozen=True)
class PatternText:
    raw: str
    lower: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lower", re.sub(r"\s+", " ", self.raw.lower()))

    def has(self, *phrases: str) -> bool:
        return any(p in self.lower for p in phrases)

    def matches(self, pattern: str) -> re.Match[str] | None:
        return re.search(pattern, self.lower)

    def negated(self) -> bool:
        return self.has(*_NEGATIONS)

    def required(self) -> bool:
        return self.has(*_REQUIREMENTS)

    def quoted(self) -> list[str]:
        """Tokens a person quoted: `app.kubernetes.io/name`, 'team', "owner"."""
        found = re.findall(r"`([^`]{1,253})`|\"([^\"]{1,253})\"|(?<![a-z0-9])'([^'\s]{1,253})'", self.raw)
        return [next(part for part in groups if part) for groups in found]

    def integers_after(self, *anchors: str) -> list[int]:
        values: list[int] = []
        for anchor in anchors:
            for m in re.finditer(rf"{anchor}\s+(?:of\s+)?(\d+|{_NUMBER_WORDS})", self.lower):
                values.append(_to_int(m.group(1)))
        return values


_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10}
_NUMBER_WORDS = "|".join(_WORDS)


def _to_int(token: str) -> int:
    return int(token) if token.isdigit() else _WORDS[token]


LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def is_label_key(token: str) -> bool:
    name = token.rsplit("/", 1)[-1]
    return bool(LABEL_KEY.match(token)) and len(name) <= 63 and len(token) <= 316


def cel_string(value: str) -> str:
    """A CEL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
