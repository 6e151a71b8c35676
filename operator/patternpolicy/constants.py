"""Names that are part of the public contract (API group, labels, annotations)."""

from typing import Final

GROUP: Final = "patternpolicy.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
PATTERN_PLURAL: Final = "patterns"
PROPOSAL_PLURAL: Final = "policyproposals"

MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "patternpolicy"
PATTERN_LABEL: Final = f"{GROUP}/pattern"
PATTERN_UID_LABEL: Final = f"{GROUP}/pattern-uid"
GENERATION_LABEL: Final = f"{GROUP}/pattern-generation"
RULE_LABEL: Final = f"{GROUP}/rule"
PROPOSAL_LABEL: Final = f"{GROUP}/proposal"
DESCRIPTION_ANNOTATION: Final = f"{GROUP}/rule-description"
PATTERN_ANNOTATION: Final = f"{GROUP}/pattern-description"

FIELD_MANAGER: Final = "patternpolicy"

# Namespaces a generated policy never governs unless the pattern names them.
PROTECTED_NAMESPACES: Final = ("kube-system", "kyverno", "patternpolicy-system")

# The operator's own namespace (`run --namespace`, else its pod's, else the default below).
OWN_NAMESPACE_ENV: Final = "PATTERNPOLICY_NAMESPACE"
DEFAULT_NAMESPACE: Final = "patternpolicy-system"
