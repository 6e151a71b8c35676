"""ObjectMeta as the API server serves it for custom resources.

A CRD schema may only constrain `metadata.name`/`generateName`; the server
fills in the rest. Written out here (not borrowed from the built-in schemas) so
CRD checks work without the kubernetes-validate data.
"""

from __future__ import annotations

from typing import Any

_STRING: dict[str, Any] = {"type": "string"}
_STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": _STRING}

OWNER_REFERENCE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": _STRING, "kind": _STRING, "name": _STRING, "uid": _STRING,
        "controller": {"type": "boolean"}, "blockOwnerDeletion": {"type": "boolean"},
    },
}

OBJECT_META: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": _STRING,
        "generateName": _STRING,
        "namespace": _STRING,
        "uid": _STRING,
        "resourceVersion": _STRING,
        "generation": {"type": "integer"},
        "creationTimestamp": _STRING,
        "deletionTimestamp": _STRING,
        "deletionGracePeriodSeconds": {"type": "integer"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "ownerReferences": {"type": "array", "items": OWNER_REFERENCE},
        "finalizers": {"type": "array", "items": _STRING},
        "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        "selfLink": _STRING,
    },
}

TYPE_META: dict[str, Any] = {"apiVersion": _STRING, "kind": _STRING, "metadata": OBJECT_META}
