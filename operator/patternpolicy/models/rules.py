"""The currency between analysers and compilers: rules made of CEL checks.

Every engine we target (Kyverno ValidatingPolicy, ClusterPolicy validate.cel,
Kubernetes ValidatingAdmissionPolicy) evaluates CEL, so a rule is a set of CEL
validations over `object`, plus the kinds it governs and sample resources that
prove it behaves as intended.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from patternpolicy.models.text import printable

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
Verdict = Literal["allow", "deny"]


class KindRef(BaseModel):
    """A kind the cluster serves, with what matching and schema lookup need."""

    model_config = ConfigDict(frozen=True)
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


class Variable(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    expression: str


class Validation(BaseModel):
    model_config = ConfigDict(frozen=True)
    expression: str = Field(min_length=1)
    message: str = Field(min_length=1, max_length=1024)

    @field_validator("message")
    @classmethod
    def _printable(cls, message: str) -> str:
        """Admission messages reach terminals: no escapes or direction overrides from a model or a pattern."""
        return printable(message) or "denied by policy"


class Sample(BaseModel):
    """A resource the rule must allow or deny; proves behaviour on the real engine."""

    resource: dict[str, Any]
    expect: Verdict

    @property
    def key(self) -> str:
        return f"{self.resource.get('kind')}/{self.resource.get('metadata', {}).get('name')}"


class Rule(BaseModel):
    """One deny rule. `id` is chosen by code (a slug), never by a model."""

    id: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40)
    description: str
    targets: list[KindRef] = Field(min_length=1)
    operations: list[Operation] = Field(default_factory=lambda: list[Operation](["CREATE", "UPDATE"]))
    variables: list[Variable] = Field(default_factory=list)
    validations: list[Validation] = Field(min_length=1)
    samples: list[Sample] = Field(default_factory=list)
    # Dotted paths (from `object`) the rule reads, per kind; the field checker
    # verifies each against the kind's schema before anything is emitted.
    fields_read: dict[str, list[str]] = Field(default_factory=dict)
    # The rule reads the namespace, so its samples keep the namespaces they were written for.
    namespace_sensitive: bool = False


class Analysis(BaseModel):
    """What an analyser concluded about one pattern."""

    analyzer: str
    enforceable: bool
    rules: list[Rule] = Field(default_factory=list)
    reason: str = ""
    input_tokens: int = 0  # prompt size, for analysers that call a model
    attempts: int = 0
    # Which kinds the text was found to be about and why ("FlexibleServer.dbforpostgresql.azure.com:
    # similar in meaning to ...: score 0.62"), and what limited that search (no model: lexical only).
    kinds_found: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def with_subjects(self, found: list[str], note: str) -> Analysis:
        return self.model_copy(update={"kinds_found": found, "notes": [*self.notes, note] if note else self.notes})

    @classmethod
    def declined(cls, analyzer: str, reason: str) -> Analysis:
        return cls(analyzer=analyzer, enforceable=False, reason=reason)
