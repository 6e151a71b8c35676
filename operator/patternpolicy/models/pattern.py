"""The Pattern resource's spec, parsed before any logic sees it."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from patternpolicy.models.text import unsafe_characters

Engine = Literal["auto", "ValidatingPolicy", "ClusterPolicy", "ValidatingAdmissionPolicy"]


NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class NamespaceScope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("include", "exclude")
    @classmethod
    def _namespace_names(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if len(n) > 63 or not NAMESPACE_NAME.match(n)]
        if bad:
            raise ValueError(f"not namespace names (lower-case letters, digits and '-', at most 63): {bad}")
        return names

    @model_validator(mode="after")
    def _not_both(self) -> NamespaceScope:
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise ValueError(f"namespaces both included and excluded, so the policy would govern nothing "
                             f"there: {both}")
        return self


class PolicyGeneration(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    enabled: bool = True
    failure_action: Literal["Enforce", "Audit"] = Field("Enforce", alias="failureAction")
    engine: Engine = "auto"
    namespaces: NamespaceScope = Field(default_factory=NamespaceScope)
    on_delete: Literal["Delete", "Orphan"] = Field("Delete", alias="onDelete")


class PatternSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    description: str = Field(min_length=10, max_length=4000)
    triggers: list[str] = Field(default_factory=list, max_length=32)
    suggested_resources: list[str] = Field(default_factory=list, alias="suggestedResources", max_length=32)
    rationale: str = Field("", max_length=4000)
    policy_generation: PolicyGeneration = Field(default_factory=PolicyGeneration, alias="policyGeneration")

    @field_validator("description", "rationale")
    @classmethod
    def _printable(cls, text: str) -> str:
        bad = unsafe_characters(text)
        if bad:
            raise ValueError(f"contains control or text-direction characters ({', '.join(bad)}); "
                             "they would reach policy annotations and terminals: remove them")
        return text

    @field_validator("triggers", "suggested_resources")
    @classmethod
    def _printable_items(cls, items: list[str]) -> list[str]:
        bad = sorted({c for item in items for c in unsafe_characters(item)})
        if bad:
            raise ValueError(f"contains control or text-direction characters ({', '.join(bad)}): remove them")
        return items

    def text(self) -> str:
        """Everything a person wrote that describes the rule, in reading order."""
        parts = [self.description, self.rationale, " ".join(self.triggers)]
        return "\n".join(p for p in parts if p)


class PatternRef(BaseModel):
    """Identity of the Pattern generation a result was produced from."""

    name: str
    uid: str = ""
    generation: int = 1


class Pattern(BaseModel):
    ref: PatternRef
    spec: PatternSpec


class InvalidPattern(ValueError):
    """A Pattern that parses as YAML but not as a Pattern; the message is for people."""


def parse_pattern_spec(spec: dict[str, Any]) -> PatternSpec:
    try:
        return PatternSpec.model_validate(spec)
    except ValidationError as exc:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise InvalidPattern(problems) from exc


def parse_pattern_object(obj: dict[str, Any]) -> Pattern:
    """Parses a whole Pattern object (as read from a file or the API)."""
    if obj.get("kind") != "Pattern":
        raise InvalidPattern(f"expected kind Pattern, got {obj.get('kind')!r}")
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidPattern("metadata.name is required")
    ref = PatternRef(name=name, uid=str(meta.get("uid", "")), generation=int(meta.get("generation") or 1))
    return Pattern(ref=ref, spec=parse_pattern_spec(obj.get("spec") or {}))
