"""The fields a kind declares, for analysers that look for one (a reference, a required value).

Only singular fields are listed (lists are rules about their items, a
different question), down to a few levels below `spec`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from patternpolicy.schemas.model import Json, KindSchema
from patternpolicy.schemas.resolve import ELEMENT, expand, shape_of


@dataclass(frozen=True)
class FieldInfo:
    path: tuple[str, ...]  # from the object root: ("spec", "owner")
    type: str  # as resolve() reports it
    description: str
    properties: tuple[tuple[str, str], ...] = ()  # (name, type) of an object's own fields
    required: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path[-1]


def _merged(nodes: list[Json], document: Json) -> tuple[dict[str, list[Json]], list[str], str]:
    properties: dict[str, list[Json]] = {}
    required: list[str] = []
    description = ""
    for node in nodes:
        description = description or str(node.get("description") or "")
        required += [r for r in node.get("required") or () if isinstance(r, str) and r not in required]
        for name, child in (node.get("properties") or {}).items():
            if isinstance(child, Mapping):
                properties.setdefault(name, []).extend(expand(child, document))
    return properties, required, description


def declared_fields(schema: KindSchema, under: tuple[str, ...] = ("spec",), depth: int = 3) -> Iterator[FieldInfo]:
    """Every singular field below `under` (breadth first), with its type, description and own fields."""
    nodes = expand(schema.root, schema.document)
    for segment in under:
        properties, _, _ = _merged(nodes, schema.document)
        nodes = properties.get(segment, [])
        if not nodes:
            return
    queue: list[tuple[tuple[str, ...], list[Json]]] = [(under, nodes)]
    while queue:
        path, nodes = queue.pop(0)
        properties, _, _ = _merged(nodes, schema.document)
        for name, child in properties.items():
            kind = shape_of(child)
            if kind == "array":
                continue
            own, required, description = _merged(child, schema.document)
            info = FieldInfo((*path, name), kind, description,
                             tuple((n, shape_of(c)) for n, c in own.items()), tuple(required))
            yield info
            if own and len(info.path) - len(under) < depth:
                queue.append((info.path, child))


def placeholder(schema: KindSchema, path: tuple[str, ...]) -> Any:
    """A minimal value the schema accepts at `path` (required fields filled, enums honoured)."""
    nodes = expand(schema.root, schema.document)
    for segment in path:
        properties, _, _ = _merged(nodes, schema.document)
        nodes = properties.get(segment, [])
    return _value(nodes, schema.document, 0)


def _value(nodes: list[Json], document: Json, depth: int) -> Any:
    for node in nodes:
        if isinstance(node.get("enum"), list) and node["enum"]:
            return node["enum"][0]
    kind = shape_of(nodes)
    if kind in ("object", "map", "unknown"):
        properties, required, _ = _merged(nodes, document)
        if depth > 6:
            return {}
        return {name: _value(properties[name], document, depth + 1) for name in required if name in properties}
    if kind == "array":
        return []
    minimum = next((n.get("minimum") for n in nodes if isinstance(n.get("minimum"), int | float)), None)
    if kind in ("integer", "number", "int-or-string"):
        return int(minimum) if minimum is not None else 1
    if kind == "boolean":
        return False
    return "example"


# Fields every object has or that admission rules do not judge: not worth a model's tokens.
_NOT_OUTLINED = frozenset({"apiVersion", "kind", "metadata", "status"})


def _items(nodes: list[Json], document: Json) -> list[Json]:
    """What an array's (or a map's) elements look like."""
    out: list[Json] = []
    for node in nodes:
        for key in ("items", "additionalProperties"):
            child = node.get(key)
            if isinstance(child, Mapping):
                out += expand(child, document)
    return out


def _below(schema: KindSchema, under: tuple[str, ...]) -> list[Json]:
    nodes = expand(schema.root, schema.document)
    for segment in under:
        if segment == ELEMENT:
            nodes = _items(nodes, schema.document)
        else:
            nodes = _merged(nodes, schema.document)[0].get(segment, [])
        if not nodes:
            return []
    return nodes


def outline(schema: KindSchema, under: tuple[str, ...] = (), depth: int = 3) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, type) of the fields below `under`, breadth first, at most `depth` field names below it.

    Unlike `declared_fields`, lists are followed: `spec.containers` (array), then `spec.containers[].image`;
    `under` naming a list means its items. Maps are not followed (their keys are data). At the root,
    apiVersion, kind, metadata and status are left out. Yields nothing when `under` does not exist.
    """
    nodes = _below(schema, under)
    start = under
    if nodes and shape_of(nodes) == "array":
        nodes, start = _items(nodes, schema.document), (*under, ELEMENT)
    queue: list[tuple[tuple[str, ...], list[Json]]] = [(start, nodes)] if nodes else []
    while queue:
        path, nodes = queue.pop(0)
        for name, child in _merged(nodes, schema.document)[0].items():
            if not path and name in _NOT_OUTLINED:
                continue
            kind = shape_of(child)
            field = (*path, name)
            yield field, kind
            if sum(s != ELEMENT for s in field[len(under):]) >= depth:
                continue
            if kind == "array":
                queue.append(((*field, ELEMENT), _items(child, schema.document)))
            elif kind == "object":
                queue.append((field, child))
