"""What user text may contain before it reaches annotations, messages or a terminal.

Control characters (NUL, ANSI escapes) and bidirectional overrides (U+202E) in a
pattern's text would reach `kubectl get -o wide`, policy annotations and admission
messages raw: a reader could be shown text that is not what the policy says.
Newlines and tabs are ordinary in a multi-line description and stay.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline (and carriage return, which YAML folds), DEL, C1 controls,
# and the bidirectional embedding/override/isolate characters.
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# The same set for the CRD's CEL rule (RE2 syntax), so the apiserver refuses what the parser refuses.
UNSAFE_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"


def unsafe_characters(text: str) -> list[str]:
    """The offending characters, as U+XXXX, for a message a person can act on."""
    return sorted({f"U+{ord(ch):04X}" for ch in UNSAFE.findall(text)})


def printable(text: str) -> str:
    """Text safe for annotations and messages: unsafe characters dropped, lines joined."""
    return re.sub(r"\s+", " ", UNSAFE.sub("", _ANSI.sub("", text))).strip()
