"""Helpers for build_cases.py: Kubernetes objects and reference ValidatingPolicies."""

import copy

# --------------------------------------------------------------------- objects


def C(name, image, **kw):
    d = {"name": name, "image": image}
    d.update(kw)
    return d


def res(cpu_l=None, mem_l=None, cpu_r=None, mem_r=None, extra_l=None):
    out = {}
    lim = {k: v for k, v in (("cpu", cpu_l), ("memory", mem_l)) if v}
    if extra_l:
        lim.update(extra_l)
    req = {k: v for k, v in (("cpu", cpu_r), ("memory", mem_r)) if v}
    if lim:
        out["limits"] = lim
    if req:
        out["requests"] = req
    return out


def _meta(name, ns=None, labels=None, annotations=None):
    m = {"name": name}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = dict(labels)
    if annotations:
        m["annotations"] = dict(annotations)
    return m


def podspec(containers, **spec):
    s = {"containers": copy.deepcopy(containers)}
    for k, v in spec.items():
        s[k] = copy.deepcopy(v)
    return s


def pod(name, ns, containers, labels=None, annotations=None, **spec):
    lab = {"app": name}
    lab.update(labels or {})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": _meta(name, ns, lab, annotations),
            "spec": podspec(containers, **spec)}


def ctl(kind, name, ns, containers, labels=None, annotations=None, replicas=None,
        schedule="*/30 * * * *", obj_labels=None, obj_annotations=None, top=None, **spec):
    """A pod controller whose pod template carries `labels`/`annotations`."""
    lab = {"app": name}
    lab.update(labels or {})
    tmeta = {"labels": lab}
    if annotations:
        tmeta["annotations"] = dict(annotations)
    ps = podspec(containers, **spec)
    if kind in ("Job", "CronJob"):
        ps.setdefault("restartPolicy", "OnFailure")
    template = {"metadata": tmeta, "spec": ps}
    meta = _meta(name, ns, obj_labels or {"app": name}, obj_annotations)
    if kind == "CronJob":
        body = {"schedule": schedule, "jobTemplate": {"spec": {"template": template}}}
        api = "batch/v1"
    elif kind == "Job":
        body = {"template": template}
        api = "batch/v1"
    else:
        api = "apps/v1"
        body = {"selector": {"matchLabels": {"app": name}}, "template": template}
        if kind in ("Deployment", "StatefulSet") and replicas is not None:
            body["replicas"] = replicas
        if kind == "StatefulSet":
            body["serviceName"] = name
    if top:
        body.update(copy.deepcopy(top))
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": body}


def obj(api, kind, name, ns=None, labels=None, annotations=None, **body):
    d = {"apiVersion": api, "kind": kind, "metadata": _meta(name, ns, labels, annotations)}
    d.update(copy.deepcopy(body))
    return d


def svc(name, ns, type_=None, ports=None, labels=None, annotations=None, **spec):
    s = {"selector": {"app": name},
         "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}
    if type_:
        s["type"] = type_
    s.update(spec)
    return obj("v1", "Service", name, ns, labels or {"app": name}, annotations, spec=s)


def ns_(name, labels=None, annotations=None):
    return obj("v1", "Namespace", name, None, labels, annotations)


def ingress(name, ns, hosts, cls="nginx", tls=None, annotations=None, labels=None):
    rules = [{"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": name, "port": {"number": 80}}}}]}} for h in hosts]
    spec = {"rules": rules}
    if cls:
        spec["ingressClassName"] = cls
    if tls:
        spec["tls"] = tls
    return obj("networking.k8s.io/v1", "Ingress", name, ns, labels, annotations, spec=spec)


def pvc(name, ns, size="10Gi", modes=("ReadWriteOnce",), sc=None, labels=None):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if sc:
        spec["storageClassName"] = sc
    return obj("v1", "PersistentVolumeClaim", name, ns, labels, spec=spec)


def role(kind, name, ns, rules, labels=None, annotations=None):
    api = "rbac.authorization.k8s.io/v1"
    return obj(api, kind, name, ns if kind == "Role" else None, labels, annotations, rules=rules)


def binding(kind, name, ns, role_kind, role_name, subjects, annotations=None):
    return obj("rbac.authorization.k8s.io/v1", kind, name, ns if kind == "RoleBinding" else None,
               None, annotations,
               roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
               subjects=subjects)


def hpa(name, ns, minr=None, maxr=10, labels=None):
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "maxReplicas": maxr,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 70}}}]}
    if minr is not None:
        spec["minReplicas"] = minr
    return obj("autoscaling/v2", "HorizontalPodAutoscaler", name, ns, labels, spec=spec)


def pdb(name, ns, min_available=None, max_unavailable=None, annotations=None):
    spec = {"selector": {"matchLabels": {"app": name}}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return obj("policy/v1", "PodDisruptionBudget", name, ns, None, annotations, spec=spec)


def key(o):
    return f"{o['kind']}/{o['metadata']['name']}"


# ------------------------------------------------------------- reference policies

GVR = {
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "Service": ("", "v1", "services"),
    "Namespace": ("", "v1", "namespaces"),
    "ConfigMap": ("", "v1", "configmaps"),
    "Secret": ("", "v1", "secrets"),
    "ServiceAccount": ("", "v1", "serviceaccounts"),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims"),
    "Ingress": ("networking.k8s.io", "v1", "ingresses"),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies"),
    "Role": ("rbac.authorization.k8s.io", "v1", "roles"),
    "ClusterRole": ("rbac.authorization.k8s.io", "v1", "clusterroles"),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers"),
    "PodDisruptionBudget": ("policy", "v1", "poddisruptionbudgets"),
}

POD_KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]

# Pod spec / pod metadata of a Pod or of the pods a controller creates.
POD_VARS = [
    {"name": "spec", "expression":
        "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? "
        "object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"},
    {"name": "meta", "expression":
        "object.kind == 'Pod' ? object.metadata : (object.kind == 'CronJob' ? "
        "object.spec.jobTemplate.spec.template.?metadata.orValue({}) : "
        "object.spec.template.?metadata.orValue({}))"},
    {"name": "labels", "expression": "variables.meta.?labels.orValue({})"},
    {"name": "annotations", "expression": "variables.meta.?annotations.orValue({})"},
    {"name": "containers", "expression": "variables.spec.containers"},
    {"name": "initContainers", "expression": "variables.spec.?initContainers.orValue([])"},
    {"name": "allContainers", "expression":
        "variables.spec.containers + variables.spec.?initContainers.orValue([]) + "
        "variables.spec.?ephemeralContainers.orValue([])"},
    {"name": "volumes", "expression": "variables.spec.?volumes.orValue([])"},
]


def _rules(kinds):
    by = {}
    for k in kinds:
        g, v, r = GVR[k]
        by.setdefault((g, v), []).append(r)
    return [{"apiGroups": [g], "apiVersions": [v], "operations": ["CREATE", "UPDATE"],
             "resources": rs} for (g, v), rs in by.items()]


def vp(name, kinds, validations, variables=None, pod=False):
    """A Kyverno ValidatingPolicy; validations = [(expression, message)]."""
    if pod:
        kinds = list(dict.fromkeys(POD_KINDS + [k for k in kinds if k not in POD_KINDS]))
    spec = {"validationActions": ["Deny"],
            "matchConstraints": {"resourceRules": _rules(kinds)}}
    vars_ = (POD_VARS if pod else []) + (variables or [])
    if vars_:
        spec["variables"] = vars_
    spec["validations"] = [{"expression": e, "message": m} for e, m in validations]
    return {"apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy",
            "metadata": {"name": name}, "spec": spec}
