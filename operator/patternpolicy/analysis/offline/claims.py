"""What each rule family accounts for in the text.

A claim says which clauses a rule is about (`topic`), which qualifier
phrasings the rule really implements (`consumes`), and its polarity: a
prohibition (`forbid`) implements the clause's negation, and needs one (or a
positive wording of the same prohibition, `framing`: "unset or false"); a
requirement implements no negation it does not list. Claims are deliberately
narrow: a phrasing missing here declines, which is the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    topic: str
    consumes: tuple[str, ...] = ()
    forbid: bool = False
    framing: str = ""


_UNSET_OR = r"(?:either )?(?:be |is |are )?(?:unset|undefined|not set|absent)(?:,)? or (?:be )?(?:set to |to )?"
_IF_SET = r"if (?:it is |they are )?(?:present|set|defined|specified|used)"
_MODAL = r"(?:(?:must|should|shall) (?:always )?)?"
_FALSE = _MODAL + r"(?:set to |be |is |are )?`?false`?"
_ALL_CONTAINERS = r"(?:all|every|each) (?:of the )?containers"

# By rule id (exact, or a prefix ending in "-").
CLAIMS: dict[str, Claim] = {
    "require-labels": Claim(r"\blabels?\b", (r"(?:is |are )?(?:specified |set |present |defined )?with (?:some|any|a "
                                             r"non-?empty) value",)),
    "min-replicas": Claim(r"\breplicas?\b", (
        r"(?:at least|a minimum of|minimum of|min\.?|more than|no fewer than|not less than|>=)\s+"
        r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+replicas?",)),
    "no-privileged": Claim(r"\bprivileged (?:mode|containers?|pods?)\b|^(?:disallow )?privileged\b", forbid=True),
    "no-latest-tag": Claim(r"\blatest\b|\btags?\b", (r"(?:a )?tag other than `?'?:?latest", r"(?:or )?(?:a )?digest",
                                                     r"specif(?:y|ies) a tag"), forbid=True),
    "require-limits": Claim(r"\b(?:cpu|memory)\b|\b(?:resource )?(?:limits?|requests?)\b", (
        r"(?:something|a value) specified for",)),
    "require-requests": Claim(r"\b(?:cpu|memory)\b|\b(?:resource )?(?:limits?|requests?)\b", (
        r"(?:something|a value) specified for",)),
    "no-host-namespaces": Claim(r"host ?(?:namespaces?|network|pid|ipc)\b|\bhost(?:network|pid|ipc)\b", (
        _UNSET_OR + "`?false`?", _FALSE, r"fields? (?:which|that) make(?:s)? use of", r"access to host"),
        forbid=True, framing=r"unset|undefined|false"),
    "no-host-path": Claim(r"host ?path", (r"(?:are |is )?in use",), forbid=True),
    "restrict-host-ports": Claim(r"host ?ports?\b", (_IF_SET, _UNSET_OR + r"`?(?:0|zero)`?",
                                                     r"(?:set to |a value of |to )`?(?:0|zero)`?",
                                                     r"(?:outside (?:of )?)?(?:the |a )?(?:allowed )?(?:port )?range"
                                                     r"(?: of| from)? \d{2,5}\s*(?:-|to|and)\s*\d{2,5}",
                                                     # The strict option of two the text allows.
                                                     r"not be allowed, or at minimum restricted to a known list"),
                                 forbid=True, framing=r"unset|undefined|\b0\b|zero"),
    "no-host-process": Claim(r"host ?process", (_IF_SET, _UNSET_OR + "`?false`?", _FALSE), forbid=True,
                             framing=r"\bfalse\b"),
    "default-proc-mount": Claim(r"proc ?mount|/proc\b", (r"nothing but the default",), forbid=True,
                                framing=r"\bdefault\b"),
    "restrict-selinux": Claim(r"selinux", forbid=True),
    "restrict-seccomp": Claim(r"seccomp", (_UNSET_OR + r"`?runtimedefault`? or `?localhost`?",
                                           r"(?:explicitly )?set to `?unconfined`?"), forbid=True,
                              framing=r"unset or"),
    "require-seccomp": Claim(r"seccomp", (r"(?:also )?not allow an unset value", r"not be unset",
                                          r"(?:explicitly )?set to `?unconfined`?",
                                          r"(?:is |be )?set to `?runtimedefault`? or `?localhost`?"), forbid=True,
                             framing=r"set to `?runtimedefault"),
    "sysctl-values": Claim(r"sysctl", (r"with \+ or = in (?:their|the) values?", r"\+ or =",
                                       r"containing (?:a )?\+ or (?:an? )?="), forbid=True),
    "safe-sysctls": Claim(r"sysctl|\"?safe\"? subsets?", (r"except for (?:an? )?(?:allowed )?\"?safe\"? subsets?",
                                      r"only (?:those )?\"?safe\"?"), forbid=True, framing=r"\bonly\b"),
    "restrict-apparmor": Claim(r"apparmor", (r"other (?:apparmor )?profiles than `?runtime/default`? or "
                                             r"`?localhost/\*`?",), forbid=True),
    "require-run-as-non-root": Claim(r"run ?as ?non ?root|non-?root users?", (
        _MODAL + r"(?:is |be )?(?:set to )?`?true`?",)),
    "non-root-user": Claim(r"run ?as ?user|non-?root users?", (
        r"(?:is )?either unset or set to a number greater than (?:zero|0)", r"greater than (?:zero|0)"),
        forbid=True, framing=r"non-?root|greater than"),
    "no-privilege-escalation": Claim(r"privilege escalation|allowprivilegeescalation", (
        _FALSE, r"such as via set-user-id or set-group-id file mode"), forbid=True, framing=r"\bfalse\b"),
    "read-only-root-filesystem": Claim(r"read-?only root ?file ?system|readonlyrootfilesystem", (
        r"read-?only root ?file ?system",
        r"(?:define )?(?:a )?securitycontext with `?readonlyrootfilesystem: true`?",
        _MODAL + r"(?:set to |be |is )`?true`?")),
    "restrict-volume-types": Claim(r"volume types?|types? of volumes?|type of volume", (
        r"other than those in the allow list", r"any other type of volume other than"), forbid=True,
        framing=r"\bonly\b"),
    "drop-all-capabilities": Claim(r"\bdrop", (r"`?drop: \[\"all\"\]`?", r"with only those required added back")),
    "drop-capabilities": Claim(r"\bdrop",),
    "restrict-added-capabilities": Claim(r"\badd(?:ing|ed)?\b", (
        r"other than `?[a-z_]+`?(?:(?:,| or| and) `?[a-z_]+`?)*",), forbid=True),
    "require-probes": Claim(r"probe", (r"(?:one|any) of", r"either", r"at least one")),
    "allowed-registries": Claim(r"registr", (r"only (?:originate|come) from",), forbid=True, framing=r"\bonly\b"),
    "banned-registries": Claim(r"registr", forbid=True),
    "banned-image-name": Claim(r"\bimages?\b[^.]*\b(?:contain\w*|named)\b", (
        r"(?:an )?image containing the name",), forbid=True),
    "no-default-namespace": Claim(r"namespace", (r"other than `?default`?", r"default \(empty\) namespace"),
                                  forbid=True, framing=r"other than `?default"),
    "no-node-affinity": Claim(r"node ?affinity", (r"(?:is )?not used in a pod spec",), forbid=True),
    "no-control-plane-tolerations": Claim(r"toleration|control ?plane", (
        r"(?:setting )?a toleration in a pod spec which allows running on control plane nodes with the taint key "
        r"`?node-role\.kubernetes\.io/(?:master|control-plane)`?",), forbid=True),
    "no-cri-socket-mounts": Claim(r"\bsockets?\b", (r"used for cri engines",), forbid=True),
    "no-secrets": Claim(r"\bsecrets?\b", (r"in a pod definition",), forbid=True),
    "env-value": Claim(r"environment variable", (
        r"if the `?[a-z0-9_]+`? environment variable is defined", r"set to (?:a value of )?[`\"']+[^`\"']+[`\"']+"),
        forbid=True),
    "no-bare-pods": Claim(r"\bbare\b|not (?:created|managed|owned) by|workload controllers?", (
        r"unless they originate from a higher-level workload controller(?: of some sort)?",
        r"pods not created by workload controllers(?: such as deployments)?"), forbid=True),
    "no-localhost-externalname": Claim(r"externalname", (
        r"of type externalname", r"if the externalname field refers to localhost", r"which points back to localhost"),
        forbid=True),
    "no-nodeport-services": Claim(r"node ?port", (r"(?:the )?`?nodeport`? type", r"of type `?nodeport`?"),
                                  forbid=True),
    "no-loadbalancer-services": Claim(r"load ?balancer", (r"(?:the )?service type `?loadbalancer`?",
                                                          r"of type `?loadbalancer`?"), forbid=True),
    "no-external-ips": Claim(r"external ?ips", (r"is not set on a service", r"or limit to a known set of addresses"),
                             forbid=True),
    "no-wildcard-hosts": Claim(r"wildcard", (r"(?:any )?ingress host does not contain a wildcard",), forbid=True),
    "require-hosts": Claim(r"host ?names?\b|\bhosts?\b", (r"for each rule(?: defined)?",
                                                        r"in order to be valid")),
    "no-default-backend": Claim(r"default ?backend", forbid=True),
    "require-tls": Claim(r"\btls\b|https", (
        r"set the annotation `[^`]+` to `?\"?[\w.-]+\"?`?", r"by disabling http", r"only allow(?:ing)? (?:secure "
        r"traffic|https)"), forbid=False),
    "no-cluster-admin-bindings": Claim(r"cluster-admin", (r"in rolebinding or clusterrolebinding resources",),
                                       forbid=True),
    "no-system-group-bindings": Claim(r"system:|\bbindings?\b", (r"(?:including|such as) system:[^.]*",),
                                      forbid=True),
    "restrict-role-resources": Claim(r"\b[a-z]+/(?:proxy|exec|attach|portforward|token|approval)\b", (
        r"if it contains the [a-z]+/[a-z]+ resource", r"with [a-z]+/[a-z]+ resource access"), forbid=True),
    "no-token-automount": Claim(r"automount|service ?accounts? tokens?|mounting of", (
        r"(?:that )?mounting of these serviceaccount tokens is blocked", r"`?automountserviceaccounttoken`?: ?false"),
        forbid=True),
}


def claim_for(rule_id: str) -> Claim | None:
    if rule_id in CLAIMS:
        return CLAIMS[rule_id]
    for key, claim in CLAIMS.items():
        if key.endswith("-") and rule_id.startswith(key):
            return claim
    if rule_id.startswith("require-limits") or rule_id.startswith("require-requests"):
        return CLAIMS["require-limits"]
    return None
