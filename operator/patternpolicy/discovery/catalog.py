"""A catalog of served kinds and exact-name resolution against pattern text.

Exact mentions (kind, plural, short name, group-qualified) are found here; a
catalog may carry the capability index (`search`), which adds the kinds a text
describes without naming them (discovery/subjects.py), and the kinds' schemas.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from patternpolicy.discovery.builtin_kinds import builtin_kinds
from patternpolicy.models.rules import KindRef
from patternpolicy.schemas.model import SchemaSource

if TYPE_CHECKING:
    from patternpolicy.discovery.matches import SearchResult

# Pod-template owners, in the order policies list them.
POD_CONTROLLERS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                   "ReplicationController")
# Kinds that a generated policy must never govern: high-churn, security-token
# or the engine's own kinds (a bad rule there could lock the cluster).
NEVER_TARGET = frozenset({
    "Event", "Lease", "TokenReview", "SubjectAccessReview", "SelfSubjectAccessReview",
    "LocalSubjectAccessReview", "SelfSubjectReview", "SelfSubjectRulesReview", "Binding",
    "ComponentStatus", "EndpointSlice", "Endpoints", "ValidatingPolicy", "ClusterPolicy",
    "Policy", "PolicyException", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "Pattern", "PolicyProposal",
})
# Short names that are everyday words in a rule's text: "CPU and memory limits" does not name
# LimitRange (short name `limits`), "teams must not deploy ..." does not name Deployment.
WORD_SHORT_NAMES = frozenset({"limits", "quota", "deploy", "all"})


class KindSearch(Protocol):
    """The capability index, as kind resolution sees it (discovery/index.py)."""

    def search(self, text: str, limit: int = 5) -> SearchResult: ...


@dataclass(frozen=True)
class KindMention:
    kind: KindRef
    matched: str  # the words in the text that named it


def singular(word: str) -> str:
    """'ingresses' -> 'ingress', 'policies' -> 'policy' (for kind names and the words of a text)."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _split_camel(kind: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", kind).lower()


@dataclass
class KindCatalog:
    kinds: list[KindRef]
    short_names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind key -> short names
    # Optional: finds kinds a text describes without naming them; and the kinds' schemas, for
    # analysers that look for a field (a reference, say) in a kind they did not write.
    search: KindSearch | None = field(default=None, compare=False, repr=False)
    schemas: SchemaSource | None = field(default=None, compare=False, repr=False)

    @classmethod
    def builtin(cls) -> KindCatalog:
        entries = builtin_kinds()
        return cls([k for k, _ in entries], {_key(k): s for k, s in entries})

    def with_kinds(self, extra: Iterable[tuple[KindRef, tuple[str, ...]]]) -> KindCatalog:
        kinds = list(self.kinds)
        shorts = dict(self.short_names)
        for kind, short in extra:
            kinds = [k for k in kinds if _key(k) != _key(kind)] + [kind]
            shorts[_key(kind)] = short
        return KindCatalog(kinds, shorts, self.search, self.schemas)

    def searchable(self, search: KindSearch | None, schemas: SchemaSource | None = None) -> KindCatalog:
        return dataclasses.replace(self, search=search, schemas=schemas if schemas is not None else self.schemas)

    def targetable(self) -> list[KindRef]:
        return [k for k in self.kinds if k.kind not in NEVER_TARGET]

    def unusable_hint(self, hint: str) -> str | None:
        """Why a kind named in `spec.suggestedResources` is not used (None when `by_kind` resolves it)."""
        if self.by_kind(hint) is not None:
            return None
        name = hint.strip().partition(".")[0].lower()
        if any(name in (k.kind.lower(), k.plural) for k in self.kinds if k.kind in NEVER_TARGET):
            return f"spec.suggestedResources names {hint!r}, a kind generated policies must never govern; ignored"
        return f"spec.suggestedResources names {hint!r}, which this cluster does not serve; ignored"

    def by_kind(self, kind: str) -> KindRef | None:
        """Resolves a Kind, plural, short name or `kind.group` hint, preferring the core groups."""
        wanted = kind.strip()
        name, _, group = wanted.partition(".")
        lowered = name.lower()
        candidates = [
            k for k in self.targetable()
            if lowered in (k.kind.lower(), k.plural, *self.short_names.get(_key(k), ()))
            and (not group or k.group == group)
        ]
        candidates.sort(key=lambda k: (_builtin_rank(k.group), k.group))
        return candidates[0] if candidates else None

    def pod_controllers(self) -> list[KindRef]:
        found = [self.by_kind(name) for name in POD_CONTROLLERS]
        return [k for k in found if k is not None]

    def mentions(self, text: str) -> list[KindMention]:
        """Kinds named in free text: 'Deployments', 'stateful sets', 'ingress', 'pvc'."""
        # Identifiers (NET_BIND_SERVICE, hostPort) are field names and values, not kind names.
        prose = re.sub(r"\b\w*_\w*\b|\b[a-z]+[A-Z]\w*\b", " ", text)
        # Compound nouns that contain a kind's name without meaning the kind.
        prose = re.sub(r"(?i)\bhost (network |pid |ipc )?namespaces?\b|\bservice account tokens?\b", " ", prose)
        lowered = " " + re.sub(r"[^a-z0-9.\s-]", " ", prose.lower()) + " "
        squashed_words = [singular(w) for w in re.findall(r"[a-z0-9]+", lowered)]
        squashed = " " + " ".join(squashed_words) + " "
        found: list[KindMention] = []
        for kind in self.targetable():
            spaced = _split_camel(kind.kind)
            names = {kind.kind.lower(), spaced, singular(kind.plural)}
            names |= {s for s in self.short_names.get(_key(kind), ()) if len(s) >= 3 and s not in WORD_SHORT_NAMES}
            for name in sorted(names, key=len, reverse=True):
                singular_name = " ".join(singular(w) for w in name.split())
                if f" {singular_name} " in squashed or (" " in name and f" {name.replace(' ', '')} " in squashed):
                    found.append(KindMention(kind, name))
                    break
        return found


def _builtin_rank(group: str) -> int:
    """Core and Kubernetes-owned groups win a name clash with a CRD's kind."""
    if not group:
        return 0
    return 1 if "." not in group or group.endswith(".k8s.io") else 2


def _key(kind: KindRef) -> str:
    return f"{kind.group}/{kind.kind}"
