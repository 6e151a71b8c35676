"""Detectors for fields a kind must set: a reference to another kind, or a field the text names.

"Azure PostgreSQL requires ResourceGroup" means: every PostgreSQL server
object must point at a resource group. Which field does that is in the
server kind's schema, not in the text, so the detector reads the schema:
a field named after the other kind (`resourceGroupName`, `resourceGroupRef`)
or described as a reference to it (Azure Service Operator's `owner`: "a
reference to a resources.azure.com/ResourceGroup resource").
"""

from __future__ import annotations

import re
from typing import Any

from patternpolicy.analysis.offline.claims import Claim
from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.discovery.entries import split_camel
from patternpolicy.models.rules import KindRef, Rule, Sample, Validation
from patternpolicy.schemas.fields import FieldInfo, declared_fields, placeholder
from patternpolicy.schemas.model import KindSchema
from patternpolicy.validate.field_check import NO_SCHEMA

_REQUIRES = re.compile(
    r"\b(requires?|required|needs? (?:an? |to (?:have|reference|name|belong))|"
    r"must (?:have|reference|refer to|point to|specify|name|belong to|"
    r"be (?:in|part of|owned by|placed in|associated with|assigned to))|has to (?:have|reference|belong to))\b")
_NEGATED = re.compile(r"\b(must not|mustn't|should not|cannot|may not|never|not allowed|forbid\w*|disallow\w*)\b")
# Suffixes of a field that holds a reference to a kind named in its prefix (resourceGroup + Ref).
_REFERENCE_SUFFIXES = ("", "ref", "reference", "name", "id", "nameref", "selector", "nameselector")
_REFERENCE_WORDS = re.compile(r"(?i)\b(referenc\w*|refers?|owner|owned|name of|id of|arm ?id)\b")
# Fields of a reference object that identify the referent; any one of them, non-empty, will do.
_IDENTIFYING = ("name", "armId", "id", "resourceId", "uid", "external")
_FIELD_PATH = re.compile(r"`?\b((?:spec|metadata)(?:\.[A-Za-z_][\w-]*)+)`?")
_SET = re.compile(r"\b(must|should|shall|has to|have to|needs? to) (?:always )?(set|have|specify|define|include|"
                  r"contain|provide|declare)\b|\brequires?\b|\brequired\b")


def _schema(ctx: Context, kind: KindRef) -> KindSchema | None:
    source = ctx.catalog.schemas
    return source.schema_for(kind.group, kind.version, kind.kind) if source is not None else None


def _is_custom(kind: KindRef) -> bool:
    return "." in kind.group and not kind.group.endswith(".k8s.io")


def _mentions_kind(text: str, target: KindRef) -> bool:
    """The kind by its exact name: `group/Kind`, or a CamelCase name (ResourceGroup, not 'node')."""
    forms = [f"{target.group}/{target.kind}"] if target.group else []
    if re.search(r"[a-z][A-Z]", target.kind):
        forms.append(target.kind)
    return any(re.search(rf"(?<![\w/]){re.escape(form)}s?\b", text) for form in forms)


def reference_fields(schema: KindSchema, target: KindRef) -> list[FieldInfo]:
    """Fields of `schema` (below spec) that reference a `target` object: by their name or their description."""
    stem = target.kind.lower()
    found: list[FieldInfo] = []
    for info in declared_fields(schema, depth=2):
        if info.type not in ("string", "object") or any(info.path[: len(f.path)] == f.path for f in found):
            continue
        by_name = info.name.lower() in {stem + suffix for suffix in _REFERENCE_SUFFIXES}
        by_description = _mentions_kind(info.description, target) and bool(_REFERENCE_WORDS.search(info.description))
        if by_name or by_description:
            found.append(info)
    return found


def _has_chain(path: tuple[str, ...]) -> str:
    return " && ".join(f"has(object.{'.'.join(path[:i])})" for i in range(1, len(path) + 1))


def _set_condition(info: FieldInfo) -> str:
    path = "object." + ".".join(info.path)
    if info.type == "string":
        return f"{_has_chain(info.path)} && {path} != ''"
    identifying = [name for name, kind in info.properties if name in _IDENTIFYING and kind == "string"]
    if not identifying:
        return _has_chain(info.path)
    any_set = " || ".join(f"(has({path}.{name}) && {path}.{name} != '')" for name in identifying)
    return f"{_has_chain(info.path)} && ({any_set})"


def _set_value(info: FieldInfo, schema: KindSchema) -> Any:
    if info.type == "string":
        return "example"
    value = placeholder(schema, info.path)
    identifying = [name for name, kind in info.properties if name in _IDENTIFYING and kind == "string"]
    if isinstance(value, dict) and identifying:
        value[identifying[0]] = "example"
    return value


def _with(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    node = obj
    for segment in path[:-1]:
        node = node.setdefault(segment, {})
    node[path[-1]] = value
    return obj


def _base_object(kind: KindRef, name: str, schema: KindSchema | None,
                 without: tuple[tuple[str, ...], ...] = ()) -> dict[str, Any]:
    """A minimal object the schema accepts; `without`: paths (a required field the rule is about) left out."""
    meta: dict[str, Any] = {"name": name}
    if kind.namespaced:
        meta["namespace"] = "default"
    spec = placeholder(schema, ("spec",)) if schema is not None else {}
    obj: dict[str, Any] = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta,
                           "spec": spec if isinstance(spec, dict) else {}}
    for path in without:
        node: Any = obj
        for segment in path[:-1]:
            node = node.get(segment) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return obj


def _slug(kind: str) -> str:
    return split_camel(kind).replace(" ", "-")[:30]


def required_reference(ctx: Context) -> Finding | None:
    """'X requires Y' / 'X must reference a Y', where X's schema has a field that references Y."""
    text = ctx.pattern.spec.description
    if ctx.catalog.schemas is None or not _REQUIRES.search(text.lower()) or _NEGATED.search(text.lower()):
        return None
    referenced = ctx.subjects.kinds("exact") or list(ctx.named)
    if not referenced:
        return None
    unknown = [k for k in ctx.subject_kinds() if _is_custom(k) and _schema(ctx, k) is None]
    if unknown:
        # The cluster serves the kind but has not published its schema yet (a CRD just installed):
        # not a verdict on the pattern; the operator retries.
        return Finding("references", decline=f"{NO_SCHEMA} for {', '.join(str(k) for k in unknown)} yet")
    rules: list[Rule] = []
    for target in referenced:
        for kind in ctx.subject_kinds():
            schema = _schema(ctx, kind)
            fields = reference_fields(schema, target) if kind != target and schema is not None else []
            if not fields or schema is None:
                continue
            paths = ", ".join(".".join(f.path) for f in fields)
            first = fields[0]
            good = _with(_base_object(kind, "with-reference", schema), first.path, _set_value(first, schema))
            bad = _base_object(kind, "without-reference", schema, without=tuple(f.path for f in fields))
            suffix = "ref" if not rules else str(len(rules))
            rules.append(Rule(
                id=f"require-{_slug(target.kind)}"[:36].rstrip("-") + f"-{suffix}",
                description=f"{kind.kind} must reference a {target.kind} ({paths})",
                targets=[kind],
                validations=[Validation(expression=" || ".join(f"({_set_condition(f)})" for f in fields),
                                        message=f"A {kind.kind} must reference a {target.kind}: set {paths}.")],
                samples=[Sample(resource=good, expect="allow"), Sample(resource=bad, expect="deny")],
                fields_read={"object": [".".join(f.path) for f in fields]},
            ))
    if not rules:
        return None
    names = "|".join(re.escape(form) for k in referenced for form in (k.kind, split_camel(k.kind)))
    return Finding("references", rules=rules, claim=Claim(rf"(?i)\b(?:{names})s?\b"))


def required_field(ctx: Context) -> Finding | None:
    """'X must set spec.backupRetentionDays': presence of a field the text spells out."""
    text = ctx.pattern.spec.description
    paths = [m.group(1) for m in _FIELD_PATH.finditer(text)]
    if not paths or not _SET.search(text.lower()) or _NEGATED.search(text.lower()):
        return None
    # "set spec.x to 3" constrains a value: a different intent, not presence.
    if re.search(r"(?:spec|metadata)(?:\.[\w-]+)+`?\s+(to|=|==|as|at least|at most|of)\b", text):
        return None
    kinds = ctx.subject_kinds()
    if not kinds:
        return Finding("required field", decline=f"asks for {', '.join(paths)} but names no kind it applies to")
    rules = []
    for index, dotted in enumerate(dict.fromkeys(paths)):
        path = tuple(dotted.split("."))
        samples: list[Sample] = []
        for kind in kinds:
            schema = _schema(ctx, kind)
            value = placeholder(schema, path) if schema is not None else "example"
            good = _with(_base_object(kind, f"with-{_slug(path[-1])}", schema), path, value)
            bad = _base_object(kind, f"without-{_slug(path[-1])}", schema, without=(path,))
            samples += [Sample(resource=good, expect="allow"), Sample(resource=bad, expect="deny")]
        rules.append(Rule(
            id=f"require-{_slug(path[-1])}"[:36].rstrip("-") + (f"-{index}" if index else ""),
            description=f"Must set {dotted}", targets=kinds,
            validations=[Validation(expression=_has_chain(path), message=f"{dotted} must be set.")],
            samples=samples, fields_read={"object": [dotted]},
        ))
    fields = "|".join(re.escape(p) for p in paths)
    return Finding("required field", rules=rules, claim=Claim(rf"(?:{fields})\b"))


DETECTORS = (required_reference, required_field)
