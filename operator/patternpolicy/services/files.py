"""Reading Pattern and CRD documents from files and directories."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from patternpolicy.models.crd import crd_kind
from patternpolicy.models.pattern import InvalidPattern, Pattern, parse_pattern_object
from patternpolicy.models.rules import KindRef

YAML_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class LoadProblem:
    source: str
    message: str


def yaml_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
        else:
            found.append(path)
    return found


def read_documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d is not None]
    out: list[dict[str, Any]] = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            out += [item for item in doc["items"] if isinstance(item, dict)]
        elif isinstance(doc, dict):
            out.append(doc)
    return out


def load_patterns(paths: Iterable[Path]) -> tuple[list[Pattern], list[LoadProblem]]:
    patterns: list[Pattern] = []
    problems: list[LoadProblem] = []
    seen: dict[str, str] = {}
    for path in yaml_files(paths):
        try:
            docs = read_documents(path)
        except (OSError, yaml.YAMLError) as exc:
            problems.append(LoadProblem(str(path), f"cannot read: {exc}"))
            continue
        for index, doc in enumerate(docs):
            if doc.get("kind") != "Pattern":
                continue
            source = f"{path}#{index}"
            try:
                pattern = parse_pattern_object(doc)
            except InvalidPattern as exc:
                problems.append(LoadProblem(source, f"invalid Pattern: {exc}"))
                continue
            if pattern.ref.name in seen:
                problems.append(LoadProblem(source, f"duplicate Pattern name {pattern.ref.name!r} "
                                                    f"(first in {seen[pattern.ref.name]})"))
                continue
            seen[pattern.ref.name] = source
            patterns.append(pattern)
    return patterns, problems


def kind_from_crd(doc: dict[str, Any]) -> tuple[KindRef, tuple[str, ...]] | None:
    """The kind a CRD file serves, in its preferred version (what a client and the samples use)."""
    served = crd_kind(doc)
    return (served.ref(), served.short_names) if served is not None else None


def load_crd_kinds(paths: Iterable[Path]) -> tuple[list[tuple[KindRef, tuple[str, ...]]], list[LoadProblem]]:
    kinds: list[tuple[KindRef, tuple[str, ...]]] = []
    problems: list[LoadProblem] = []
    for path in yaml_files(paths):
        try:
            docs = read_documents(path)
        except (OSError, yaml.YAMLError) as exc:
            problems.append(LoadProblem(str(path), f"cannot read: {exc}"))
            continue
        kinds += [k for k in (kind_from_crd(d) for d in docs) if k is not None]
    return kinds, problems


def crd_documents(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """CRD documents from files and directories (unreadable files are reported by load_crd_kinds)."""
    docs: list[dict[str, Any]] = []
    for path in yaml_files(paths):
        try:
            docs += [d for d in read_documents(path) if d.get("kind") == "CustomResourceDefinition"]
        except (OSError, yaml.YAMLError):
            continue
    return docs
