"""One-sentence descriptions of Kubernetes' own kinds, for semantic search.

CRDs carry their description in openAPIV3Schema; built-in kinds do not appear
as CRDs, so their text comes from this table (adapted from the first sentences
of the Kubernetes API reference). Keyed by "group/Kind" ("" is the core group).
"""

from __future__ import annotations

_DESCRIPTIONS: dict[str, str] = {
    "/Pod": "A collection of containers that run together on a host; the smallest deployable unit of workload.",
    "/Service": "A named network endpoint that load-balances traffic to a set of pods, with a stable IP and DNS name.",
    "/ConfigMap": "Holds non-confidential configuration data as key-value pairs for pods to consume.",
    "/Secret": "Holds confidential data such as passwords, tokens, keys and TLS certificates.",
    "/Namespace": "A scope that isolates groups of resources, names and quotas within a cluster.",
    "/ServiceAccount": "An identity for processes running in pods to authenticate to the API server.",
    "/PersistentVolume": "A piece of storage in the cluster provisioned by an administrator or a storage class.",
    "/PersistentVolumeClaim": "A user's request for persistent storage (a volume of a given size and access mode).",
    "/ReplicationController": "Keeps a specified number of pod replicas running (the legacy form of a ReplicaSet).",
    "/Node": "A worker machine (virtual or physical) that runs pods.",
    "/LimitRange": "Default and maximum CPU and memory requests and limits for containers in a namespace.",
    "/ResourceQuota": "Limits the total compute resources and object counts a namespace may consume.",
    "/Endpoints": "The network addresses that implement a service.",
    "/Event": "A report of something that happened to an object in the cluster.",
    "apps/Deployment": "Declarative updates and rollouts for a replicated, stateless application's pods.",
    "apps/StatefulSet": "Runs stateful applications with stable pod identities and per-pod persistent storage.",
    "apps/DaemonSet": "Runs a copy of a pod on every (or selected) node, e.g. log collectors and node agents.",
    "apps/ReplicaSet": "Keeps a stable set of identical pod replicas running.",
    "batch/Job": "Runs pods to completion for a batch task, retrying until it succeeds.",
    "batch/CronJob": "Runs jobs on a repeating schedule, like cron.",
    "autoscaling/HorizontalPodAutoscaler": "Scales the replicas of a workload automatically from CPU, memory or "
                                           "custom metrics.",
    "policy/PodDisruptionBudget": "Limits how many pods of an application voluntary disruptions may take down "
                                  "at once.",
    "networking.k8s.io/Ingress": "HTTP and HTTPS routing rules from outside the cluster to services, with hosts, "
                                 "paths and TLS.",
    "networking.k8s.io/NetworkPolicy": "Firewall rules for pods: which ingress and egress network traffic is "
                                       "allowed.",
    "networking.k8s.io/IngressClass": "Names the controller that implements a class of ingresses.",
    "rbac.authorization.k8s.io/Role": "A namespaced set of RBAC permission rules (verbs on resources).",
    "rbac.authorization.k8s.io/ClusterRole": "A cluster-wide set of RBAC permission rules (verbs on resources).",
    "rbac.authorization.k8s.io/RoleBinding": "Grants the permissions of a role to users, groups or service "
                                             "accounts in a namespace.",
    "rbac.authorization.k8s.io/ClusterRoleBinding": "Grants the permissions of a cluster role to users, groups or "
                                                    "service accounts across the cluster.",
    "storage.k8s.io/StorageClass": "Describes a class of storage (provisioner, parameters, reclaim policy) for "
                                   "dynamically provisioned volumes.",
    "storage.k8s.io/CSIDriver": "Describes a Container Storage Interface volume driver installed in the cluster.",
    "storage.k8s.io/VolumeAttachment": "Records that a volume is to be attached to or detached from a node.",
    "scheduling.k8s.io/PriorityClass": "Maps a priority class name to an integer priority used for pod scheduling "
                                       "and preemption.",
    "node.k8s.io/RuntimeClass": "Selects the container runtime configuration used to run a pod's containers.",
    "apiextensions.k8s.io/CustomResourceDefinition": "Defines a new custom resource kind served by the API server.",
    "admissionregistration.k8s.io/ValidatingWebhookConfiguration": "Registers webhooks that accept or reject "
                                                                   "API requests.",
    "admissionregistration.k8s.io/MutatingWebhookConfiguration": "Registers webhooks that change objects as they "
                                                                 "are admitted.",
    "certificates.k8s.io/CertificateSigningRequest": "A request to sign an X.509 certificate by a cluster signer.",
    "discovery.k8s.io/EndpointSlice": "A subset of the network endpoints that implement a service.",
    "coordination.k8s.io/Lease": "A lock used for leader election and node heartbeats.",
}


def builtin_description(group: str, kind: str) -> str:
    return _DESCRIPTIONS.get(f"{group}/{kind}", "")
