"""What the model must return (its tool's input schema is generated from these models).

The model proposes checks and samples only; names, labels and ownership are
always chosen by code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TOOL_NAME = "propose_rules"


class ProposedValidation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expression: str = Field(description="CEL over `object` (and `variables.*`); true means the object is allowed",
                            min_length=1, max_length=4000)
    message: str = Field(description="Shown to the user whose request is denied", min_length=1, max_length=512)


class ProposedVariable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    expression: str = Field(min_length=1, max_length=4000)


class ProposedRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(description="One sentence: what the rule denies", min_length=5, max_length=300)
    kinds: list[str] = Field(description="Kinds governed, exactly as listed in the candidates or a look_up_kinds "
                                         "result", min_length=1, max_length=16)
    variables: list[ProposedVariable] = Field(default_factory=list, max_length=8)
    validations: list[ProposedValidation] = Field(min_length=1, max_length=8)
    compliant: list[dict[str, Any]] = Field(description="Full objects the rule must allow", min_length=1,
                                            max_length=6)
    violating: list[dict[str, Any]] = Field(description="Full objects the rule must deny", min_length=1,
                                            max_length=6)


class Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enforceable: bool = Field(description="False when the pattern cannot be a deny rule at admission time")
    reason: str = Field(description="Why not enforceable, or a short note", max_length=1000, default="")
    rules: list[ProposedRule] = Field(default_factory=list, max_length=8)


def tool_definition() -> dict[str, Any]:
    return {
        "name": TOOL_NAME,
        "description": "Return the admission deny rules for the pattern, or say it is not enforceable.",
        "input_schema": Proposal.model_json_schema(),
    }
