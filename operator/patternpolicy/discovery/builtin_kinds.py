"""Built-in Kubernetes kinds, for offline runs where no discovery API exists."""

from __future__ import annotations

from patternpolicy.models.rules import KindRef

# (group, version, kind, plural, namespaced, short names)
_TABLE: tuple[tuple[str, str, str, str, bool, tuple[str, ...]], ...] = (
    ("", "v1", "Pod", "pods", True, ("po",)),
    ("", "v1", "Service", "services", True, ("svc",)),
    ("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    ("", "v1", "Secret", "secrets", True, ()),
    ("", "v1", "Namespace", "namespaces", False, ("ns",)),
    ("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    ("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",)),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",)),
    ("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",)),
    ("", "v1", "Node", "nodes", False, ("no",)),
    ("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    ("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",)),
    ("", "v1", "Endpoints", "endpoints", True, ("ep",)),
    ("apps", "v1", "Deployment", "deployments", True, ("deploy",)),
    ("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",)),
    ("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",)),
    ("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",)),
    ("batch", "v1", "Job", "jobs", True, ()),
    ("batch", "v1", "CronJob", "cronjobs", True, ("cj",)),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",)),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",)),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",)),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False, ()),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", True, ()),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, ()),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, ()),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, ()),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",)),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False, ("crd",)),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
     "validatingwebhookconfigurations", False, ()),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
     "mutatingwebhookconfigurations", False, ()),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", False, ("csr",)),
)


def builtin_kinds() -> list[tuple[KindRef, tuple[str, ...]]]:
    return [
        (KindRef(group=g, version=v, kind=k, plural=p, namespaced=n), short)
        for g, v, k, p, n, short in _TABLE
    ]
