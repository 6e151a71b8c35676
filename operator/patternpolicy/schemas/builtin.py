"""Schemas of the built-in kinds, from the JSON schemas the `kubernetes-validate` package ships.

The package is located, not imported: importing it pulls in jsonschema and
friends, and the offline `generate` command only needs the data files. One
Kubernetes release is a single `_definitions.json` (about 1.6 MB, ~10 ms to
load), read once per process.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

from patternpolicy.schemas.model import GVK, Json, KindSchema, SchemaError

DEFAULT_KUBERNETES_VERSION = "1.36"
_PACKAGE = "kubernetes_validate"
_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-(?:local|standalone)(-strict)?$")


def schema_directory() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise SchemaError("the kubernetes-validate package is not installed; it provides the built-in kinds' schemas")
    return Path(locations[0]) / "kubernetes-json-schema"


def available_versions() -> list[str]:
    """Kubernetes minors with schemas, oldest first, e.g. ['1.25', ..., '1.37']."""
    found = {(int(m[1]), int(m[2])) for p in _listing() if (m := _DIR.match(p.name))}
    return [f"{major}.{minor}" for major, minor in sorted(found)]


def pick_version(requested: str | None = None) -> str:
    """The newest shipped minor not newer than the requested one (default 1.36, else the newest shipped)."""
    versions = available_versions()
    if not versions:
        raise SchemaError(f"no schemas found under {schema_directory()}")
    wanted = _minor(requested or DEFAULT_KUBERNETES_VERSION)
    fitting = [v for v in versions if _minor(v) <= wanted]
    if fitting:
        return fitting[-1]
    if requested:
        raise SchemaError(f"no built-in schemas for Kubernetes {requested}; available: {', '.join(versions)}")
    return versions[-1]


class BuiltinSchemas:
    """A SchemaSource for the kinds Kubernetes itself serves, at one release."""

    def __init__(self, kubernetes_version: str | None = None) -> None:
        self.version = pick_version(kubernetes_version)
        self.directory = _version_directory(self.version)
        self.origin = f"Kubernetes {self.version} (kubernetes-validate)"
        self._kinds: dict[GVK, KindSchema | None] = {}

    def schema_for(self, group: str, version: str, kind: str) -> KindSchema | None:
        key = GVK(group, version, kind)
        if key not in self._kinds:
            self._kinds[key] = self._load(key)
        return self._kinds[key]

    def _load(self, key: GVK) -> KindSchema | None:
        document, index = _definitions(str(self.directory))
        ref = index.get(key)
        return KindSchema({"$ref": ref}, document, self.origin) if ref else None


def builtin_schemas(kubernetes_version: str | None = None) -> BuiltinSchemas:
    """One shared source per release, so every caller profits from the resolution caches."""
    return _shared(pick_version(kubernetes_version))


@functools.cache
def _shared(version: str) -> BuiltinSchemas:
    return BuiltinSchemas(version)


def _listing() -> list[Path]:
    root = schema_directory()
    return [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


def _version_directory(version: str) -> Path:
    # Strict directories close every object (additionalProperties: false); prefer them, either will do.
    candidates = sorted((p for p in _listing() if (m := _DIR.match(p.name)) and f"{m[1]}.{m[2]}" == version
                         and (p / "_definitions.json").is_file()),
                        key=lambda p: (not p.name.endswith("-strict"), p.name))
    if not candidates:
        raise SchemaError(f"kubernetes-validate has no _definitions.json for Kubernetes {version}")
    return candidates[0]


@functools.cache
def _definitions(directory: str) -> tuple[Json, dict[GVK, str]]:
    path = Path(directory) / "_definitions.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read {path}: {exc}") from exc
    section = "$defs" if "$defs" in document else "definitions"
    defs = document.get(section) or {}
    index: dict[GVK, str] = {}  # kind -> "#/$defs/<definition>", the reference its schema starts from
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            # List and option kinds are registered in every group; the first (own) definition wins.
            index.setdefault(GVK(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")),
                             f"#/{section}/{name}")
    return document, index


def _minor(version: str) -> tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", version.strip())
    if not match:
        raise SchemaError(f"not a Kubernetes version: {version!r} (expected e.g. 1.36)")
    return int(match[1]), int(match[2])
