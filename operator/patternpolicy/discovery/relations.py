"""Kinds related to a text by what it says about their fields and names, not by naming them.

Three relations, each read from the kinds' own schemas and names rather than from word lists:

- field words: a text that speaks of a field few kinds have ("probes", `livenessProbe.httpGet.host`,
  "verbs", "subjects") is about those kinds. A field every pod kind has counts once for the
  whole family (a Pod and the controllers that template one), so pod-spec words lead to all of them;
- consumers: kinds with a field that refers to a named kind by its name (`secretKeyRef`,
  `configMap`, `persistentVolumeClaim`, `serviceAccountName`, `roleRef`): a rule on how a Secret is
  consumed is checked on the pods that consume it, one on who gets a Role on the bindings;
- composed names: a kind whose name's words all occur in the text, in any order and form
  ("who may bind cluster roles" -> ClusterRoleBinding).

Only built-in kinds are read (their schemas ship with the operator); the result is computed once per
Kubernetes release.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from patternpolicy.discovery.builtin_kinds import builtin_kinds
from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog, singular
from patternpolicy.discovery.entries import split_camel
from patternpolicy.models.rules import KindRef
from patternpolicy.schemas.builtin import builtin_schemas
from patternpolicy.schemas.model import Json, KindSchema
from patternpolicy.schemas.resolve import expand

POD_FAMILY = ("Pod", *POD_CONTROLLERS)
# A field word points at its kinds when at most this many families have the field: `verbs` (roles),
# `subjects` (bindings), `host` (pods and Ingress); not `name`, `ports` or `namespace`.
MAX_FAMILIES = 2
_DEPTH = 9  # CronJob keeps a container's probe fields at spec.jobTemplate.spec.template.spec.containers[].x.y
_SKIPPED = frozenset({"metadata", "status", "apiVersion", "kind"})
# Endings of a field that names another kind it uses (secretKeyRef, serviceAccountName, claimName).
_REFERENCE_SUFFIXES = ("Ref", "KeyRef", "Name", "Names", "")


@dataclass(frozen=True)
class Related:
    kind: str  # a built-in kind's name; the caller maps it to what the catalog serves
    why: str


@dataclass(frozen=True)
class _Vocabulary:
    # normalised word or phrase -> kinds whose fields it names, and the field as the schema spells it
    words: Mapping[str, tuple[frozenset[str], str]]
    code: Mapping[str, tuple[frozenset[str], str]]  # the same for any field, when written as code
    # kind -> (kinds that refer to it by a field named after it, that field), pod kinds first
    consumers: Mapping[str, tuple[tuple[str, str], ...]]


def _norm(word: str) -> str:
    return singular(word.lower())


def _stem(word: str) -> str:
    word = _norm(word)
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _field_names(schema: KindSchema) -> dict[str, str]:
    """Every field name down to _DEPTH, with its shape: "array", "object" or "value"."""
    names: dict[str, str] = {}
    stack: list[tuple[list[Json], int]] = [(expand(schema.root, schema.document), 0)]
    while stack:
        nodes, depth = stack.pop()
        for node in nodes:
            for name, child in (node.get("properties") or {}).items():
                # A CRD's schema field describes other kinds' schemas, not the CRD.
                if (depth == 0 and name in _SKIPPED) or name == "openAPIV3Schema" or not isinstance(child, Mapping):
                    continue
                inner = expand(child, schema.document)
                items = [i for n in inner if isinstance(i := n.get("items"), Mapping)]
                shape = "array" if items else "object" if any(n.get("properties") for n in inner) else "value"
                names.setdefault(name, shape)
                if depth < _DEPTH:
                    stack.append(([*inner, *(e for i in items for e in expand(i, schema.document))], depth + 1))
    return names


def _family(kinds: set[str]) -> frozenset[str]:
    return frozenset("Pod" if k in POD_FAMILY else k for k in kinds)


def _members(kinds: set[str]) -> frozenset[str]:
    """The kinds, with the whole pod family when a Pod is among them (a Pod's field is every pod kind's)."""
    return frozenset((kinds - set(POD_FAMILY)) | (set(POD_FAMILY) if "Pod" in kinds else set()))


@functools.cache
def _vocabulary() -> _Vocabulary:
    schemas = builtin_schemas()
    by_field: dict[str, set[str]] = defaultdict(set)
    shapes: dict[str, str] = {}
    per_kind: dict[str, dict[str, str]] = {}
    for ref, _ in builtin_kinds():
        schema = schemas.schema_for(ref.group, ref.version, ref.kind)
        fields = per_kind[ref.kind] = _field_names(schema) if schema is not None else {}
        for name, shape in fields.items():
            by_field[name].add(ref.kind)
            shapes.setdefault(name, shape)
    code = {name.lower(): (_members(kinds), name) for name, kinds in by_field.items()
            if len(_family(kinds)) <= MAX_FAMILIES}
    lowered = {name.lower() for name in by_field}
    words: dict[str, tuple[frozenset[str], str]] = {}
    kind_words = {_norm(split_camel(ref.kind).split()[-1]) for ref, _ in builtin_kinds()}  # "secrets" names a kind
    heads: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for name, kinds in by_field.items():
        parts = split_camel(name).split()
        if len(parts) >= 2 and len(_family(kinds)) <= MAX_FAMILIES:
            words[_norm(name)] = (_members(kinds), name)  # hostNetwork, also written "host network"
        elif (len(parts) == 1 and shapes[name] == "array" and name.endswith("s") and _norm(name) not in kind_words
              and len(_family(kinds)) <= MAX_FAMILIES):
            words[name.lower()] = (_members(kinds), name)  # a list field by its plural: containers, verbs
            if _norm(name) not in lowered:  # and singular, unless that is another field: not "version"
                words[_norm(name)] = (_members(kinds), name)
        if len(parts) >= 2:
            heads[parts[-1]][name] = kinds
    for head, named in heads.items():
        # "probes": the common noun of several fields of one family (livenessProbe, readinessProbe, ...)
        kinds = set().union(*named.values())
        if (len(named) >= 3 and len(_family(kinds)) == 1 and not head.endswith("s")
                and not {head, head + "s"} & lowered):
            words.setdefault(head, (_members(kinds), ", ".join(sorted(named)[:3])))
            words.setdefault(head + "s", (_members(kinds), ", ".join(sorted(named)[:3])))
    return _Vocabulary(words, code, {ref.kind: _consumers_of(ref.kind, per_kind) for ref, _ in builtin_kinds()})


def _consumers_of(kind: str, per_kind: Mapping[str, Mapping[str, str]]) -> tuple[tuple[str, str], ...]:
    """Kinds with a field that refers to `kind` by name: secretKeyRef, serviceAccountName, ingressClassName,
    a Pod's volume source named after it (configMap, persistentVolumeClaim), roleRef for either kind of role."""
    own = kind[0].lower() + kind[1:]
    names = [own + suffix for suffix in _REFERENCE_SUFFIXES]
    last = split_camel(kind).split()[-1]
    if last != own.lower():
        names.append(last + "Ref")  # RoleBinding.roleRef names a Role or a ClusterRole
    found: dict[str, str] = {}
    for other, fields in per_kind.items():
        # A field named after the kind itself is a reference only as a Pod's volume source (configMap,
        # secret); elsewhere it is often a description of its own (a webhook's `service`).
        field = next((n for n in names if n in fields and (n != own or (other == "Pod" and fields[n] == "object"))),
                     None)
        if other != kind and field is not None:
            found[other] = field
    if "Pod" in found:  # what a Pod refers to, every pod kind refers to through its template
        found = {**dict.fromkeys(POD_FAMILY, found["Pod"]), **found}
    return tuple(sorted(found.items(), key=lambda item: _family_order(item[0])))


_CODE = re.compile(r"`([^`]+)`|\b((?:[A-Za-z]\w*\.)+[A-Za-z]\w*)\b|\b([a-z]+[A-Z]\w*)\b")


def field_word_kinds(text: str) -> list[Related]:
    """Kinds that have a field the text speaks of, in the order the text uses the field words."""
    vocabulary = _vocabulary()
    hits: list[tuple[frozenset[str], str, str]] = []
    for match in _CODE.finditer(text):
        for segment in re.findall(r"[A-Za-z][A-Za-z0-9]*", match.group(0)):
            if segment.lower() in vocabulary.code:
                hits.append((*vocabulary.code[segment.lower()], match.group(0).strip("`")))
    tokens = re.findall(r"[A-Za-z][A-Za-z0-9]*", _CODE.sub(" ", text))
    for size in (1, 2, 3):
        for start in range(len(tokens) - size + 1):
            run = tokens[start:start + size]
            joined = run[0].lower() + "".join(w.capitalize() for w in run[1:])
            key = joined.lower() if joined.lower() in vocabulary.words else _norm(joined)
            if key in vocabulary.words:
                hits.append((*vocabulary.words[key], " ".join(run)))
    related: dict[str, Related] = {}
    for kinds, spelled, written in hits:
        for kind in sorted(kinds, key=_family_order):
            related.setdefault(kind, Related(kind, f"has the field {spelled} the text speaks of ({written!r})"))
    return list(related.values())


def consumers(named: list[KindRef]) -> list[Related]:
    """Kinds that refer to a named kind by a field of its name: the pods that use a Secret, the bindings
    that grant a Role. A rule on how a kind is used is often checked on its consumers."""
    related = []
    for kind in named:
        for other, field in _vocabulary().consumers.get(kind.kind, ()):
            related.append(Related(other, f"refers to {kind.kind} objects by its field {field}"))
    return related


def composed_kinds(text: str, catalog: KindCatalog) -> list[Related]:
    """Kinds of two or more words that all occur in the text in some form ("bind" for Binding)."""
    stems = {_stem(w) for w in re.findall(r"[A-Za-z]+", split_camel(text))}
    found = []
    for kind in catalog.targetable():
        words = split_camel(kind.kind).split()
        if len(words) >= 2 and all(_stem(w) in stems for w in words):
            found.append(Related(kind.kind, f"the words of its name ({' '.join(words)}) all occur in the text"))
    return found


def _family_order(kind: str) -> tuple[int, str]:
    return (POD_FAMILY.index(kind), "") if kind in POD_FAMILY else (len(POD_FAMILY), kind)
