"""Pod Security Standards controls, recognised by the words people use for them.

When a pattern names a PSS control (host namespaces, seccomp, SELinux, ...),
users expect the standard's semantics, so each check below follows the
Kubernetes Pod Security Standards definition of that control.
"""

from __future__ import annotations

import re

from patternpolicy.analysis.offline.context import Context, Finding
from patternpolicy.analysis.offline.pod_rules import PodCheck, c, pod_finding, sc
from patternpolicy.analysis.offline.text import cel_string

PS = "variables.podSpec"
BASELINE_CAPABILITIES = ("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
SAFE_SYSCTLS = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes")
RESTRICTED_VOLUMES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret")


def _list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(cel_string(v) for v in values) + "]"


def _unset_or(obj: str, path: str, ok: str) -> str:
    """`obj.path` is absent anywhere along the way, or satisfies `ok` (where `@` stands for the value)."""
    parts = path.split(".")
    guards = [f"!has({obj}.{'.'.join(parts[:i + 1])})" for i in range(len(parts))]
    return "(" + " || ".join(guards) + f" || {ok.replace('@', f'{obj}.{path}')})"


def _on_pod_and_containers(path: str, ok: str) -> str:
    return (f"{_unset_or(PS, 'securityContext.' + path, ok)} && "
            f"variables.containers.all(c, {_unset_or('c', 'securityContext.' + path, ok)})")


def _framed(ctx: Context) -> bool:
    return ctx.text.negated() or ctx.text.required() or ctx.text.has("ensure", "validat", "only", "restrict")


def host_namespaces(ctx: Context) -> Finding | None:
    t = ctx.text
    named = [f for f in ("hostNetwork", "hostPID", "hostIPC") if f.lower() in t.lower]
    if not (named or t.has("host namespace")) or not _framed(ctx):
        return None
    fields = named or ["hostNetwork", "hostPID", "hostIPC"]
    expression = " && ".join(f"(!has({PS}.{f}) || {PS}.{f} == false)" for f in fields)
    return pod_finding(ctx, "host-namespaces", PodCheck(
        "no-host-namespaces", f"Pods must not share host namespaces ({', '.join(fields)})", expression,
        f"Sharing the host's namespaces is not allowed: {', '.join(fields)} must be unset or false.",
        good=[{"containers": [c()]}, {"containers": [c()], fields[0]: False}],
        bad=[{"containers": [c()], f: True} for f in fields], fields=fields))


def host_path(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"\bhost ?path\b") or t.has("socket", "only directory", "restricted to", "persistentvolume"):
        return None
    if not t.negated():
        return None
    return pod_finding(ctx, "host-path", PodCheck(
        "no-host-path", "Pods must not use hostPath volumes",
        f"!has({PS}.volumes) || {PS}.volumes.all(v, !has(v.hostPath))",
        "hostPath volumes are not allowed.",
        good=[{"containers": [c()], "volumes": [{"name": "data", "emptyDir": {}}]}],
        bad=[{"containers": [c()], "volumes": [{"name": "host", "hostPath": {"path": "/etc"}}]}],
        fields=["volumes.hostPath"]))


def host_ports(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"\bhost ?ports?\b") or not _framed(ctx):
        return None
    if t.has("range"):
        bounds = t.matches(r"(\d{2,5})\s*(?:-|to|and)\s*(\d{2,5})")
        if not bounds:
            return Finding("host-ports", decline="asks for a host port range but names no range")
        low, high = sorted((int(bounds.group(1)), int(bounds.group(2))))
        ok = f"p.hostPort == 0 || (p.hostPort >= {low} && p.hostPort <= {high})"
    else:
        ok = "p.hostPort == 0"
    return pod_finding(ctx, "host-ports", PodCheck(
        "restrict-host-ports", "Containers must not use host ports",
        f"variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || {ok}))",
        "hostPort must be unset or 0" + ("" if ok == "p.hostPort == 0" else " or within the allowed range") + ".",
        good=[{"containers": [c(ports=[{"containerPort": 80}])]},
              {"containers": [c(ports=[{"containerPort": 80, "hostPort": 0}])]}],
        bad=[{"containers": [c(ports=[{"containerPort": 80, "hostPort": 1}])]}], fields=["ports.hostPort"]))


def host_process(ctx: Context) -> Finding | None:
    if "hostprocess" not in ctx.text.lower.replace(" ", ""):
        return None
    return pod_finding(ctx, "host-process", PodCheck(
        "no-host-process", "Windows HostProcess containers are not allowed",
        _on_pod_and_containers("windowsOptions.hostProcess", "@ == false"),
        "hostProcess must be unset or false.",
        good=[{"containers": [c()]}, {"containers": [sc(windowsOptions={"hostProcess": False})]}],
        bad=[{"containers": [sc(windowsOptions={"hostProcess": True})]},
             {"containers": [c()], "securityContext": {"windowsOptions": {"hostProcess": True}}}],
        fields=["securityContext.windowsOptions.hostProcess"]))


def proc_mount(ctx: Context) -> Finding | None:
    if not ctx.text.matches(r"\bproc ?mount|/proc mask"):
        return None
    return pod_finding(ctx, "proc-mount", PodCheck(
        "default-proc-mount", "Containers must use the Default /proc mount",
        "variables.containers.all(c, " + _unset_or("c", "securityContext.procMount", "@ == 'Default'") + ")",
        "procMount must be unset or Default.",
        good=[{"containers": [c()]}, {"containers": [sc(procMount="Default")]}],
        bad=[{"containers": [sc(procMount="Unmasked")]}], fields=["securityContext.procMount"]))


def selinux(ctx: Context) -> Finding | None:
    if not ctx.text.matches(r"\bselinux"):
        return None
    allowed = _list(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"])
    ok = (f"(!has(@.type) || @.type in {allowed}) && (!has(@.user) || @.user == '') "
          "&& (!has(@.role) || @.role == '')")
    return pod_finding(ctx, "selinux", PodCheck(
        "restrict-selinux", "SELinux options must not escalate (allowed types only, no user or role)",
        _on_pod_and_containers("seLinuxOptions", ok),
        "seLinuxOptions may only set an allowed type (container_t, container_init_t, container_kvm_t, "
        "container_engine_t) and must not set user or role.",
        good=[{"containers": [c()]}, {"containers": [sc(seLinuxOptions={"type": "container_t"})]}],
        bad=[{"containers": [sc(seLinuxOptions={"type": "spc_t"})]},
             {"containers": [c()], "securityContext": {"seLinuxOptions": {"user": "sysadm_u"}}}],
        fields=["securityContext.seLinuxOptions"]))


def seccomp(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("seccomp"):
        return None
    not_unconfined = _on_pod_and_containers("seccompProfile.type", "@ != 'Unconfined'")
    strict = bool(t.matches(r"\bstrict\b")) or t.has("not allow an unset", "must be set", "must not be unset",
                                                      "is required", "must define")
    if not strict:
        return pod_finding(ctx, "seccomp", PodCheck(
            "restrict-seccomp", "The seccomp profile must not be Unconfined", not_unconfined,
            "seccompProfile.type must be unset, RuntimeDefault or Localhost.",
            good=[{"containers": [c()]}, {"containers": [sc(seccompProfile={"type": "RuntimeDefault"})]}],
            bad=[{"containers": [sc(seccompProfile={"type": "Unconfined"})]},
                 {"containers": [c()], "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
            fields=["securityContext.seccompProfile.type"]))
    pod_set = f"has({PS}.securityContext) && has({PS}.securityContext.seccompProfile) && " \
              f"{PS}.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost']"
    all_set = ("variables.containers.all(c, has(c.securityContext) && has(c.securityContext.seccompProfile) && "
               "c.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost'])")
    return pod_finding(ctx, "seccomp", PodCheck(
        "require-seccomp", "A seccomp profile of RuntimeDefault or Localhost must be set",
        f"({pod_set} || {all_set}) && {not_unconfined}",
        "seccompProfile.type must be set to RuntimeDefault or Localhost (on the pod or every container).",
        good=[{"containers": [c()], "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
              {"containers": [sc(seccompProfile={"type": "Localhost", "localhostProfile": "p.json"})]}],
        bad=[{"containers": [c()]}, {"containers": [sc(seccompProfile={"type": "Unconfined"})]}],
        fields=["securityContext.seccompProfile.type"]))


def sysctls(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("sysctl"):
        return None
    if t.matches(r"\+|=|plus|equals sign"):
        ok = "!s.value.contains('+') && !s.value.contains('=')"
        message, rid, good_value, bad_value = ("sysctl values must not contain '+' or '='.", "sysctl-values",
                                               "0", "1+kernel.core_pattern=|/bin/sh")
        good_name = bad_name = "kernel.shm_rmid_forced"
    elif t.has("safe"):
        ok = f"s.name in {_list(SAFE_SYSCTLS)}"
        message, rid, good_value, bad_value = ("Only the safe sysctls may be set.", "safe-sysctls", "0", "0")
        good_name, bad_name = "kernel.shm_rmid_forced", "kernel.msgmax"
    else:
        return Finding("sysctls", decline="mentions sysctls without saying which are allowed")
    expression = (f"!has({PS}.securityContext) || !has({PS}.securityContext.sysctls) || "
                  f"{PS}.securityContext.sysctls.all(s, {ok})")
    return pod_finding(ctx, "sysctls", PodCheck(
        rid, message.rstrip("."), expression, message,
        good=[{"containers": [c()]},
              {"containers": [c()], "securityContext": {"sysctls": [{"name": good_name, "value": good_value}]}}],
        bad=[{"containers": [c()], "securityContext": {"sysctls": [{"name": bad_name, "value": bad_value}]}}],
        fields=["securityContext.sysctls"]))


def apparmor(ctx: Context) -> Finding | None:
    if not ctx.text.has("apparmor"):
        return None
    prefix = "container.apparmor.security.beta.kubernetes.io/"
    meta = "variables.podMetadata"
    annotations = (f"!has({meta}.annotations) || {meta}.annotations.all(k, "
                   f"!k.startsWith('{prefix}') || {meta}.annotations[k] == 'runtime/default' || "
                   f"{meta}.annotations[k].startsWith('localhost/'))")
    profiles = _on_pod_and_containers("appArmorProfile.type", "@ in ['RuntimeDefault', 'Localhost']")
    return pod_finding(ctx, "apparmor", PodCheck(
        "restrict-apparmor", "AppArmor must not be overridden except with runtime/default or localhost profiles",
        f"({annotations}) && {profiles}",
        "AppArmor profiles other than runtime/default or localhost/* are not allowed.",
        good=[{"containers": [c()]}, {"containers": [sc(appArmorProfile={"type": "RuntimeDefault"})]}],
        bad=[{"containers": [sc(appArmorProfile={"type": "Unconfined"})]}],
        fields=["securityContext.appArmorProfile.type"], with_metadata=True))


def run_as_non_root(ctx: Context) -> Finding | None:
    if "runasnonroot" not in ctx.text.lower.replace(" ", ""):
        return None
    pod = f"has({PS}.securityContext) && has({PS}.securityContext.runAsNonRoot) && " \
          f"{PS}.securityContext.runAsNonRoot == true"
    each = ("variables.containers.all(c, has(c.securityContext) && has(c.securityContext.runAsNonRoot) && "
            "c.securityContext.runAsNonRoot == true)")
    none_false = f"variables.containers.all(c, {_unset_or('c', 'securityContext.runAsNonRoot', '@ == true')})"
    return pod_finding(ctx, "run-as-non-root", PodCheck(
        "require-run-as-non-root", "Containers must run with runAsNonRoot: true",
        f"({pod} && {none_false}) || {each}",
        "runAsNonRoot must be true on the pod or on every container, and no container may set it to false.",
        good=[{"containers": [c()], "securityContext": {"runAsNonRoot": True}},
              {"containers": [sc(runAsNonRoot=True)]}],
        bad=[{"containers": [c()]}, {"containers": [sc(runAsNonRoot=False)],
                                     "securityContext": {"runAsNonRoot": True}}],
        fields=["securityContext.runAsNonRoot"]))


def run_as_user(ctx: Context) -> Finding | None:
    t = ctx.text
    if "runasuser" not in t.lower.replace(" ", "") or not t.has("non-root", "greater than zero", "> 0", "not 0",
                                                                   "non root", "nonzero", "non-zero"):
        return None
    if t.has("runasgroup", "fsgroup") and not t.has("non-root user"):
        return None
    return pod_finding(ctx, "run-as-user", PodCheck(
        "non-root-user", "Containers must not run as user 0",
        _on_pod_and_containers("runAsUser", "@ > 0"),
        "runAsUser must be unset or greater than 0.",
        good=[{"containers": [c()]}, {"containers": [sc(runAsUser=1000)]}],
        bad=[{"containers": [sc(runAsUser=0)]}, {"containers": [c()], "securityContext": {"runAsUser": 0}}],
        fields=["securityContext.runAsUser"]))


def privilege_escalation(ctx: Context) -> Finding | None:
    t = ctx.text
    if "allowprivilegeescalation" not in t.lower.replace(" ", "") and not t.matches(
            r"^(disallow|prevent|forbid|block|no) privilege escalation"):
        return None
    ok = "has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && " \
         "c.securityContext.allowPrivilegeEscalation == false"
    return pod_finding(ctx, "privilege-escalation", PodCheck(
        "no-privilege-escalation", "Containers must set allowPrivilegeEscalation: false",
        f"variables.containers.all(c, {ok})",
        "allowPrivilegeEscalation must be set to false.",
        good=[{"containers": [sc(allowPrivilegeEscalation=False)]}],
        bad=[{"containers": [c()]}, {"containers": [sc(allowPrivilegeEscalation=True)]}],
        fields=["securityContext.allowPrivilegeEscalation"]))


def read_only_root(ctx: Context) -> Finding | None:
    if not ctx.text.matches(r"read-?only root ?file ?system|readonlyrootfilesystem"):
        return None
    ok = "has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && " \
         "c.securityContext.readOnlyRootFilesystem == true"
    return pod_finding(ctx, "read-only-root", PodCheck(
        "read-only-root-filesystem", "Containers must use a read-only root filesystem",
        f"variables.containers.all(c, {ok})", "readOnlyRootFilesystem must be true.",
        good=[{"containers": [sc(readOnlyRootFilesystem=True)]}],
        bad=[{"containers": [c()]}, {"containers": [sc(readOnlyRootFilesystem=False)]}],
        fields=["securityContext.readOnlyRootFilesystem"]))


def volume_types(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.matches(r"volume types?|types? of volumes?") or not _framed(ctx):
        return None
    allowed = _list(["name", *RESTRICTED_VOLUMES])
    return pod_finding(ctx, "volume-types", PodCheck(
        "restrict-volume-types", "Only core volume types may be used",
        f"!has({PS}.volumes) || {PS}.volumes.all(v, v.all(k, k in {allowed}))",
        f"Only these volume types are allowed: {', '.join(RESTRICTED_VOLUMES)}.",
        good=[{"containers": [c()], "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}]}],
        bad=[{"containers": [c()], "volumes": [{"name": "nfs", "nfs": {"server": "nfs.local", "path": "/"}}]}],
        fields=["volumes"]))


_CAP = re.compile(r"\b(?:CAP_)?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|ALL|KILL|CHOWN|MKNOD|SETUID|SETGID|SETPCAP)\b")


def _drop_check(names: list[str]) -> str:
    wanted = _list(names)
    return ("variables.containers.all(c, has(c.securityContext) && has(c.securityContext.capabilities) && "
            "has(c.securityContext.capabilities.drop) && c.securityContext.capabilities.drop.exists(d, "
            f"d.upperAscii() in {wanted}))")


def capabilities(ctx: Context) -> Finding | None:
    t = ctx.text
    if not t.has("capabilit") and not re.search(r"\bCAP_[A-Z]+(?:_[A-Z0-9]+)*\b", t.raw):
        return None
    raw_caps = [m.group(1) for m in _CAP.finditer(t.raw) if m.group(1) not in ("PSS", "CVE")]
    checks: list[PodCheck] = []
    if t.matches(r"\bdrop") and (t.has("drop all", "`all`", '"all"', "drop: [") or "ALL" in raw_caps):
        checks.append(PodCheck(
            "drop-all-capabilities", "Containers must drop ALL capabilities", _drop_check(["ALL"]),
            "Every container must drop ALL capabilities.",
            good=[{"containers": [sc(capabilities={"drop": ["ALL"]})]}],
            bad=[{"containers": [c()]}, {"containers": [sc(capabilities={"drop": ["NET_RAW"]})]}],
            fields=["securityContext.capabilities.drop"]))
    elif t.matches(r"\bdrop") and raw_caps:
        names = sorted({n for cap in raw_caps for n in (cap, f"CAP_{cap}")} | {"ALL"})
        checks.append(PodCheck(
            "drop-capabilities", f"Containers must drop {', '.join(sorted(set(raw_caps)))}", _drop_check(names),
            f"Every container must drop {', '.join(sorted(set(raw_caps)))} (or ALL).",
            good=[{"containers": [sc(capabilities={"drop": [raw_caps[0]]})]}],
            bad=[{"containers": [c()]}, {"containers": [sc(capabilities={"drop": ["SYS_TIME_X"]})]}],
            fields=["securityContext.capabilities.drop"]))
    if t.matches(r"\badd(ing)? (any )?(capabilities|capability)|capabilities (beyond|other than)") and t.negated():
        listed = [cap for cap in raw_caps if cap != "ALL"]
        allowed = sorted(set(listed)) if listed else list(BASELINE_CAPABILITIES)
        ok = f"@.all(a, a in {_list(allowed)})"
        checks.append(PodCheck(
            "restrict-added-capabilities", f"Containers may only add {', '.join(allowed)}",
            f"variables.containers.all(c, {_unset_or('c', 'securityContext.capabilities.add', ok)})",
            f"Only these capabilities may be added: {', '.join(allowed)}.",
            good=[{"containers": [c()]}, {"containers": [sc(capabilities={"add": [allowed[0]], "drop": ["ALL"]})]}],
            bad=[{"containers": [sc(capabilities={"add": ["SYS_ADMIN"], "drop": ["ALL"]})]}],
            fields=["securityContext.capabilities.add"]))
    if not checks:
        return None
    return pod_finding(ctx, "capabilities", *checks)


DETECTORS = (host_namespaces, host_path, host_ports, host_process, proc_mount, selinux, seccomp, sysctls,
             apparmor, run_as_non_root, run_as_user, privilege_escalation, read_only_root, volume_types,
             capabilities)
