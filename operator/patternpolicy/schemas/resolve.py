"""Walks a field path through a kind's schema and says what it found there.

A path is a tuple of segments: field names, and ELEMENT ("[]") for "an item of
this list or a value of this map". The rules mirror how the API server and
Kyverno see objects: declared properties are the only fields of a structured
object, `additionalProperties` makes a map (any key is fine), and
`x-kubernetes-preserve-unknown-fields` (or a schema that says nothing) allows
anything below.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from patternpolicy.schemas.model import Json, KindSchema, SchemaError
from patternpolicy.schemas.objectmeta import TYPE_META

ELEMENT = "[]"
PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
EMBEDDED = "x-kubernetes-embedded-resource"
_COMBINATORS = ("allOf", "anyOf", "oneOf")
_STRUCTURAL = ("type", "properties", "items", "additionalProperties", PRESERVE, INT_OR_STRING)
_MAX_DEPTH = 64  # $ref/combinator nesting; real schemas stay far below, cycles do not
_KNOWN_SHOWN = 6
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Kubernetes CEL escapes property names that are not CEL identifiers (`__dash__` for '-', ...).
_ESCAPES = {"underscores": "__", "dot": ".", "dash": "-", "slash": "/"}
_CEL_RESERVED = frozenset({"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
                           "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
                           "void", "while"})


@dataclass(frozen=True)
class Resolution:
    ok: bool
    type: str  # what the path ends on: string, integer, boolean, number, int-or-string, object, map, array, unknown
    problem: str = ""
    depth: int = 0  # segments that resolved; on a problem, path[:depth + 1] is the part that fails


def format_path(root: str, path: Sequence[str]) -> str:
    """`object.spec.containers[].image`; keys that are not identifiers as `annotations['a.b/c']`."""
    text = root
    for segment in path:
        if segment == ELEMENT:
            text += segment
        elif _IDENTIFIER.match(segment):
            text += f".{segment}"
        else:
            text += "[" + repr(segment) + "]"
    return text


def resolve(schema: KindSchema, path: Sequence[str]) -> Resolution:
    key = tuple(path)
    cached = schema.cache.get(key)
    if isinstance(cached, Resolution):
        return cached
    try:
        found = _walk(schema, key)
    except SchemaError as exc:
        found = Resolution(False, "unknown", f"cannot be checked: {exc}")
    schema.cache[key] = found
    return found


def _walk(schema: KindSchema, path: tuple[str, ...]) -> Resolution:
    doc = schema.document
    nodes = _expand(schema.root, doc)
    for depth, segment in enumerate(path):
        label = _label(path[:depth])
        step = _element(nodes) if segment == ELEMENT else _field(nodes, segment)
        if isinstance(step, str):
            if step == "open":
                return Resolution(True, "unknown", depth=len(path))
            return Resolution(False, _type_of(nodes), _explain(step, label, segment, nodes), depth)
        nodes = [n for node in step for n in _expand(node, doc)]
    return Resolution(True, _type_of(nodes), depth=len(path))


def _field(nodes: list[Json], name: str) -> list[Json] | str:
    found: list[Json] = []
    is_open = False
    for node in nodes:
        props = node.get("properties")
        if isinstance(props, Mapping):
            hit = props.get(name, props.get(_unescape(name)))
            if isinstance(hit, Mapping):
                found.append(hit)
                continue
        if node.get(EMBEDDED) and name in TYPE_META:
            found.append(TYPE_META[name])  # an embedded object gets apiVersion, kind and metadata implicitly
            continue
        shape = _shape(node)
        if shape == "open" or node.get(PRESERVE):
            is_open = True
        elif shape == "map":
            found.append(node["additionalProperties"])  # `m.key` on a CEL map is a key lookup
    # A declared field is followed even beside an open schema: it is the more precise answer.
    return found or ("open" if is_open else "missing")


def _element(nodes: list[Json]) -> list[Json] | str:
    found: list[Json] = []
    is_open = False
    for node in nodes:
        shape = _shape(node)
        if shape == "array" and isinstance(node.get("items"), Mapping):
            found.append(node["items"])
        elif shape == "map":
            found.append(node["additionalProperties"])
        elif shape in ("open", "object", "array"):
            # Kyverno hands CEL unstructured JSON, so a computed key into a structured object is legal.
            is_open = True
    return found or ("open" if is_open else "not-indexable")


def _explain(step: str, label: str, segment: str, nodes: list[Json]) -> str:
    shapes = {_shape(n) for n in nodes}
    if step == "not-indexable":
        return f"{label} is {_type_of(nodes)}, not a list or map"
    known = sorted({k for n in nodes if isinstance(n.get("properties"), Mapping) for k in n["properties"]})
    if known:
        return f"no such field (known: {_known_list(segment, known)})"
    if "array" in shapes:
        return f"{label} is a list, not an object; read its items with all(), exists() or [i]"
    return f"{label} is {_type_of(nodes)} and has no fields"


def _known_list(name: str, known: list[str]) -> str:
    """The likely intended names when there are any (the typo case), else the first few."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    shown = close or known[:_KNOWN_SHOWN]
    return ", ".join(shown) + (", ..." if len(shown) < len(known) else "")


def _label(prefix: tuple[str, ...]) -> str:
    """`containers[]` for the items of containers: what the failing segment was applied to."""
    start = len(prefix)
    while start > 0 and prefix[start - 1] == ELEMENT:
        start -= 1
    name = prefix[start - 1] if start > 0 else "the object"
    return name + ELEMENT * (len(prefix) - start)


def expand(node: Json, document: Json) -> list[Json]:
    """A schema node with its $ref followed and its allOf/anyOf/oneOf members, as a list of nodes."""
    return _expand(node, document)


def shape_of(nodes: list[Json]) -> str:
    """What the nodes describe: string, integer, boolean, number, int-or-string, object, map, array, unknown."""
    return _type_of(nodes)


def _expand(node: Json, document: Json, depth: int = 0) -> list[Json]:
    """A node and, for allOf/anyOf/oneOf, its members: a field may come from any of them."""
    if depth > _MAX_DEPTH:
        raise SchemaError("schema nests $ref/allOf/anyOf/oneOf too deeply (a cycle?)")
    node = _deref(node, document)
    members = [m for key in _COMBINATORS for m in node.get(key) or () if isinstance(m, Mapping)]
    out: list[Json] = [node] if not members or any(k in node for k in _STRUCTURAL) else []
    for member in members:
        out += _expand(member, document, depth + 1)
    return out


def _deref(node: Json, document: Json) -> Json:
    for _ in range(_MAX_DEPTH):
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        node = _pointer(document, ref)
    raise SchemaError("$ref chain too long (a cycle?)")


def _pointer(document: Json, ref: str) -> Json:
    """Resolves `#/a/b` (or `file.json#/a/b`: only the fragment counts) within the one loaded document."""
    fragment = ref.partition("#")[2]
    node: object = document
    for part in fragment.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            raise SchemaError(f"$ref {ref} does not resolve")
    if not isinstance(node, Mapping):
        raise SchemaError(f"$ref {ref} is not a schema")
    return node


def _types(node: Json) -> set[str]:
    declared = node.get("type")
    types = set(declared) if isinstance(declared, list) else {declared} if isinstance(declared, str) else set()
    return types - {"null"}


def _shape(node: Json) -> str:
    """object (declared fields), map, array, a scalar type name, int-or-string, or open (anything goes)."""
    if node.get(INT_OR_STRING):
        return "int-or-string"
    if isinstance(node.get("properties"), Mapping):
        return "object"
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        return "map"
    if node.get(PRESERVE) or extra is True:
        return "open"
    types = _types(node)
    if "items" in node or "array" in types:
        return "array"
    scalars = types - {"object"}
    # No type, or `type: object` with nothing declared (RawExtension, JSON): we cannot tell, so allow.
    return "|".join(sorted(scalars)) if scalars else "open"


def _type_of(nodes: list[Json]) -> str:
    shapes = {_shape(n) for n in nodes}
    names = set()
    for shape in shapes:
        names |= set(shape.split("|"))
    if "int-or-string" in names or {"integer", "string"} <= names:
        names = (names - {"integer", "string"}) | {"int-or-string"}
    names = {"unknown" if n == "open" else n for n in names}
    if len(names) > 1:
        names.discard("unknown")
    return "|".join(sorted(names)) or "unknown"


def _unescape(name: str) -> str:
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _CEL_RESERVED:
        return name[2:-2]
    return re.sub(r"__(underscores|dot|dash|slash)__", lambda m: _ESCAPES[m.group(1)], name)
