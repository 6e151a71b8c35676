"""The model's second tool: look up served kinds, by name or by description, and their field paths.

Backed by what the pipeline already holds: the catalog (served kinds, by name), the capability index
attached to it (kinds a description fits; discovery/index.py) and the schemas attached to it (field
paths; schemas/fields.py). Only kind names, API versions, scopes, why a kind was found and field paths
are sent; never objects from the cluster. A result is bounded (MAX_RESULT_CHARS, well under 1,500 tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from patternpolicy.analysis.podspec import pod_spec_path
from patternpolicy.discovery.catalog import NEVER_TARGET, POD_CONTROLLERS, KindCatalog
from patternpolicy.models.rules import KindRef
from patternpolicy.schemas.fields import outline
from patternpolicy.schemas.resolve import ELEMENT, format_path

LOOKUP_TOOL = "look_up_kinds"
MAX_KINDS = 6  # kinds described in one result
MAX_FIELDS = 120  # field paths listed per kind (the character budget usually binds first)
FIELD_DEPTH = 3  # field names below the object (or below `under`)
MAX_RESULT_CHARS = 4000  # the whole result: 1,000 tokens at 4 characters a token, 1,350 at 3 (dense field paths)
_PATH = r"^[A-Za-z0-9_.\[\]-]*$"


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = Field(default_factory=list, max_length=8,
                             description="Kind names to look up (Kind, plural, or Kind.group)")
    describe: str = Field(default="", max_length=300,
                          description="Words describing the objects wanted, when you do not know their kind")
    under: str = Field(default="", max_length=200, pattern=_PATH,
                       description="Only list fields below this path, e.g. spec.template.spec.containers[]")


def lookup_tool_definition() -> dict[str, Any]:
    return {
        "name": LOOKUP_TOOL,
        "description": ("Look up kinds this cluster serves, by name or by a description of the objects, with "
                        "their apiVersion, scope and field paths. Use it when a kind the rule needs is not among "
                        "the candidates or its fields are unclear; kinds it returns may be used in propose_rules."),
        "input_schema": LookupRequest.model_json_schema(),
    }


@dataclass(frozen=True)
class LookupResult:
    text: str  # the tool_result content
    kinds: list[KindRef]  # served kinds found: valid targets for the rest of the conversation


def _segments(under: str) -> tuple[str, ...]:
    """`spec.containers[].ports` -> ("spec", "containers", "[]", "ports")."""
    out: list[str] = []
    for part in under.replace("[]", ".[].").split("."):
        if part == ELEMENT or part:
            out.append(part)
    return tuple(out)


def _dotted(path: tuple[str, ...]) -> str:
    return format_path("", path).lstrip(".")


class KindLookup:
    """Answers the lookup tool from one catalog (with its index and schemas, when attached)."""

    def __init__(self, catalog: KindCatalog) -> None:
        self.catalog = catalog

    def answer(self, request: LookupRequest) -> LookupResult:
        found: dict[KindRef, str] = {}
        missing: list[str] = []
        for name in request.names:
            kinds = self._by_name(name)
            if not kinds:
                missing.append(self._not_served(name))
            for kind in kinds:
                found.setdefault(kind, "named in the lookup")
        notes: list[str] = []
        if request.describe.strip():
            described, note = self._described(request.describe)
            notes += [note] if note else []
            for kind, why in described:
                found.setdefault(kind, why)
        if not request.names and not request.describe.strip():
            notes.append("give names or describe: nothing was looked up")
        return self._render(found, missing, notes, _segments(request.under))

    def _by_name(self, name: str) -> list[KindRef]:
        wanted = name.strip()
        if "." not in wanted:  # every served kind of that name, whatever its group: the model chooses
            same = [k for k in self.catalog.targetable() if k.kind.lower() == wanted.lower()]
            if same:
                return same
        kind = self.catalog.by_kind(wanted)
        return [kind] if kind is not None else []

    def _not_served(self, name: str) -> str:
        bare, _, group = name.strip().partition(".")
        same = [k for k in self.catalog.kinds if k.kind.lower() == bare.lower()]
        if any(k.kind in NEVER_TARGET for k in same):
            return f"{name}: served, but generated policies never govern it"
        if same and group:
            return f"{name}: not served in that group (served as {', '.join(str(k) for k in same)})"
        return f"{name}: not served by this cluster"

    def _described(self, text: str) -> tuple[list[tuple[KindRef, str]], str]:
        targetable = set(self.catalog.targetable())
        search = self.catalog.search
        if search is None:
            mentions = [(m.kind, f"named in the description as {m.matched!r}") for m in self.catalog.mentions(text)]
            return mentions, "no capability index here: the description was matched by kind names only"
        result = search.search(text, limit=MAX_KINDS)
        hits = [(m.kind, m.explanation) for m in [*result.matches, *result.near] if m.kind in targetable]
        return hits, "" if hits else "no served kind fits the description"

    def _render(self, found: dict[KindRef, str], missing: list[str], notes: list[str],
                under: tuple[str, ...]) -> LookupResult:
        kinds = list(found)[:MAX_KINDS]
        lines = ["Served kinds found (usable in propose_rules):" if kinds else "No served kind found."]
        tail = [f"Not found: {'; '.join(missing)}." if missing else "", *notes]
        if len(found) > MAX_KINDS:
            tail.append(f"{len(found) - MAX_KINDS} more not shown: look them up by name")
        budget = MAX_RESULT_CHARS - sum(len(t) + 1 for t in [lines[0], *tail])
        for number, kind in enumerate(kinds):
            block = self._describe_kind(kind, found[kind], under, budget // (len(kinds) - number))
            budget -= len(block) + 1
            lines.append(block)
        lines += [t for t in tail if t]
        return LookupResult("\n".join(lines), kinds)

    def _describe_kind(self, kind: KindRef, why: str, under: tuple[str, ...], budget: int) -> str:
        shared = sum(k.kind == kind.kind for k in self.catalog.targetable()) > 1
        head = (f"- {str(kind) if shared else kind.kind} (apiVersion {kind.api_version}, "
                f"{'namespaced' if kind.namespaced else 'cluster-scoped'}; {why})")
        if kind.kind in POD_CONTROLLERS or kind.kind == "Pod":
            head += f"; pod spec at object.{pod_spec_path(kind.kind)} (variables.podSpec)"
        schemas = self.catalog.schemas
        schema = schemas.schema_for(kind.group, kind.version, kind.kind) if schemas is not None else None
        if schema is None:
            return head + "\n  fields: unknown here (no schema)"
        # Below `under`, paths are relative to it: the prefix would repeat on every line.
        paths = [f"{_dotted(p[len(under):])} ({t})" for p, t in outline(schema, under, FIELD_DEPTH)]
        if under and not paths:
            return head + f"\n  fields: nothing below {_dotted(under)}"
        label = f"  fields below {_dotted(under)} (paths relative to it): " if under else "  fields: "
        shown: list[str] = []
        size = len(head) + len(label) + 60  # room for the "more" note
        for path in paths[:MAX_FIELDS]:
            if size + len(path) + 2 > budget:
                break
            shown.append(path)
            size += len(path) + 2
        more = len(paths) - len(shown)
        hint = f" (+{more} deeper or further fields: look up again with under=<path>)" if more else ""
        return head + "\n" + label + ", ".join(shown) + hint
