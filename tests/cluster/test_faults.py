"""Faults on the real control plane: the operator SIGKILLed at each step, kube-apiserver restarted under it.

The operator runs as its own process (`patternpolicy run --standalone`) so that it can be killed without
any cleanup and started again; after the restart the flow must converge with nothing duplicated and
nothing lost. Where a kill has to land in a window too short to hit by timing (between two API writes),
the real apiserver holds the flow there: a ValidatingAdmissionPolicy denies the next write, the operator
is killed, the policy is removed, the operator is started again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.controlplane import ControlPlane, control_plane
from tests.support.fake_anthropic import KEY, fake_anthropic, tool_use
from tests.support.kube import eventually, get_or_none, install_crds
from tests.support.operator_process import OperatorProcess
from tests.unit.test_claude_analyzer import GOOD_ANSWER

pytestmark = pytest.mark.cluster
G, V = "patternpolicy.io", "v1alpha1"
VP = ("policies.kyverno.io", "v1", "validatingpolicies")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # the machine is shared: validation runs the real Kyverno CLI
PRIVILEGED = "Containers must not run in privileged mode"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One capability index for every operator process of this module: a restart re-embeds nothing."""
    return tmp_path_factory.mktemp("faults-index")


@pytest.fixture
def operator_process(cluster: ControlPlane, kyverno_cli: Path, index_dir: Path,
                     tmp_path: Path) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(cluster.kubeconfig, kyverno_cli, tmp_path,
                           env={"PATTERNPOLICY_INDEX_PATH": str(index_dir)})
    yield proc
    proc.stop()


def pattern(name: str, description: str = PRIVILEGED, **generation: Any) -> dict[str, Any]:
    return {"apiVersion": f"{G}/{V}", "kind": "Pattern", "metadata": {"name": name},
            "spec": {"description": description, **({"policyGeneration": generation} if generation else {})}}


def proposal(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    return get_or_none(api, G, V, "policyproposals", name) or {}


def proposals_of(api: client.CustomObjectsApi, pattern_name: str) -> list[str]:
    items = api.list_cluster_custom_object(G, V, "policyproposals",
                                           label_selector=f"patternpolicy.io/pattern={pattern_name}")["items"]
    return sorted(p["metadata"]["name"] for p in items)


def policies_of(api: client.CustomObjectsApi, pattern_name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.list_cluster_custom_object(
        *VP, label_selector=f"patternpolicy.io/pattern={pattern_name}")["items"]
    return found


def pattern_status(api: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    found: dict[str, Any] = (get_or_none(api, G, V, "patterns", name) or {}).get("status") or {}
    return found


def validated(api: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    found = proposal(api, name)
    return found if found.get("status", {}).get("phase") else None


def assert_proposed(api: client.CustomObjectsApi, name: str, operator: OperatorProcess) -> dict[str, Any]:
    """Exactly one proposal, validated and Pending, and the pattern's status saying so."""
    found = eventually(lambda: validated(api, f"{name}-g1"), timeout=TIMEOUT,
                       what=f"{name}-g1 validated after the restart")
    status = found["status"]
    assert status["phase"] == "Pending", status
    assert status["validation"]["behaviour"]["result"] == "Passed", status["validation"]
    assert status["digest"].startswith("sha256:")
    assert found["spec"]["approved"] is False
    assert proposals_of(api, name) == [f"{name}-g1"]
    try:
        recorded = eventually(lambda: (s := pattern_status(api, name)).get("proposals") and s, timeout=30,
                              what=f"{name}'s status naming its proposal")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\npattern status: {pattern_status(api, name)}\n"
                             f"operator log:\n{operator.output()[-4000:]}") from None
    assert recorded["proposals"] == [f"{name}-g1"], recorded
    assert recorded.get("observedGeneration") == 1, recorded
    analysis = recorded.get("analysis") or {}
    assert (analysis.get("generation"), analysis.get("enforceable")) == (1, "True"), recorded
    conditions = {c["type"]: c["status"] for c in recorded.get("conditions") or []}
    assert (conditions.get("Analyzed"), conditions.get("ProposalReady")) == ("True", "True"), recorded
    return found


def start_with_model(api: client.CustomObjectsApi, operator: OperatorProcess, model_url: str, name: str) -> None:
    """The operator on the Claude path (the wire double counts the model calls), then a pattern to analyse."""
    operator.env.update({"PATTERNPOLICY_ANALYSER": "claude", "PATTERNPOLICY_ANTHROPIC_API_KEY": KEY,
                         "PATTERNPOLICY_ANTHROPIC_BASE_URL": model_url})
    operator.start()
    api.create_cluster_custom_object(G, V, "patterns", pattern(name, "Deployments must not use the host network"))


# --- holding a write with the real apiserver -------------------------------------------------------------------

def deny_writes(name: str, resource: str, operation: str, object_name: str) -> None:
    """A ValidatingAdmissionPolicy (and its binding) that denies one kind of write to one object."""
    admission = client.AdmissionregistrationV1Api()
    admission.create_validating_admission_policy({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": [G], "apiVersions": ["*"],
                                                         "operations": [operation], "resources": [resource]}]},
                 "matchConditions": [{"name": "one-object",
                                      "expression": f"object.metadata.name == '{object_name}'"}],
                 "validations": [{"expression": "false", "message": f"fault injection: {name}"}]}})
    admission.create_validating_admission_policy_binding({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name}, "spec": {"policyName": name, "validationActions": ["Deny"]}})


def allow_writes(name: str) -> None:
    admission = client.AdmissionregistrationV1Api()
    admission.delete_validating_admission_policy_binding(name)
    admission.delete_validating_admission_policy(name)


def denied(write: Any) -> bool:
    """True when a dry-run of the write is refused by the fault-injection policy."""
    try:
        write()
    except ApiException as exc:
        return "fault injection" in (exc.body or "")
    return False


# --- 1. killed right after analysis ---------------------------------------------------------------------------

def test_killed_after_analysis_before_the_proposal_was_created(
        api: client.CustomObjectsApi, operator_process: OperatorProcess) -> None:
    """The model answered, the proposal's creation is held: the kill loses the analysis, nothing else."""
    name = "fault-unproposed"
    deny_writes("fault-proposal-create", "policyproposals", "CREATE", f"{name}-g1")
    try:
        dummy = {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", "metadata": {"name": f"{name}-g1"},
                 "spec": {"patternRef": {"name": name, "uid": "x", "generation": 1}, "approved": False,
                          "policies": [], "tests": []}}
        eventually(lambda: denied(lambda: api.create_cluster_custom_object(
            G, V, "policyproposals", dummy, dry_run="All")), what="the proposal's creation denied")
        with fake_anthropic(*[tool_use(GOOD_ANSWER)] * 3) as model:
            start_with_model(api, operator_process, model.url, name)
            eventually(lambda: "fault injection: fault-proposal-create" in operator_process.output() or None,
                       timeout=TIMEOUT, what="the proposal's creation refused")
            operator_process.kill()
            assert len(model.requests) == 1
            assert proposals_of(api, name) == []
            allow_writes("fault-proposal-create")
            operator_process.start()
            assert_proposed(api, name, operator_process)
            # The status recorded the analysis but not its content, so it is made again once: never more.
            assert len(model.requests) <= 2, len(model.requests)
    finally:
        if get_or_none(api, G, V, "patterns", name):
            api.delete_cluster_custom_object(G, V, "patterns", name)
        with contextlib.suppress(ApiException):
            allow_writes("fault-proposal-create")


# --- 2. killed right after the proposal was created -----------------------------------------------------------

def test_killed_after_the_proposal_was_created_before_its_provenance(
        api: client.CustomObjectsApi, operator_process: OperatorProcess) -> None:
    """The proposal exists, its provenance write is held: after the restart the operator vouches for it (its
    content has the digest the pattern's status recorded before the creation) without asking the model again."""
    name = "fault-unvouched"
    held = f"{name}-g1"
    deny_writes("fault-provenance", "policyproposals/status", "UPDATE", held)
    try:
        # The probe needs an object of that name: a throwaway one, gone before the operator starts.
        dummy = {"apiVersion": f"{G}/{V}", "kind": "PolicyProposal", "metadata": {"name": held},
                 "spec": {"patternRef": {"name": name, "uid": "x", "generation": 1}, "approved": False,
                          "policies": [], "tests": []}}
        api.create_cluster_custom_object(G, V, "policyproposals", dummy)
        eventually(lambda: denied(lambda: api.patch_cluster_custom_object_status(
            G, V, "policyproposals", held, {"status": {"phase": "Pending"}}, dry_run="All")),
            what="the proposal's status writes denied")
        api.delete_cluster_custom_object(G, V, "policyproposals", held)
        eventually(lambda: get_or_none(api, G, V, "policyproposals", held) is None, what="throwaway proposal gone")
        with fake_anthropic(*[tool_use(GOOD_ANSWER)] * 3) as model:
            start_with_model(api, operator_process, model.url, name)
            eventually(lambda: "fault injection: fault-provenance" in operator_process.output() or None,
                       timeout=TIMEOUT, what="the provenance write refused")
            operator_process.kill()
            created = proposal(api, held)
            assert created and not (created.get("status") or {}).get("provenance"), created.get("status")
            recorded = pattern_status(api, name).get("analysis") or {}
            assert recorded.get("proposalDigest", "").startswith("sha256:"), recorded
            allow_writes("fault-provenance")
            operator_process.start()
            found = assert_proposed(api, name, operator_process)
            assert found["metadata"]["uid"] == created["metadata"]["uid"], "the proposal must be kept, not re-made"
            assert found["status"]["provenance"]["digest"] == recorded["proposalDigest"]
            assert len(model.requests) == 1, "the analysis recorded before the kill must not be paid for twice"
    finally:
        if get_or_none(api, G, V, "patterns", name):
            api.delete_cluster_custom_object(G, V, "patterns", name)
        with contextlib.suppress(ApiException):
            allow_writes("fault-provenance")


# --- 3. killed while applying ---------------------------------------------------------------------------------

def approved_and_killed_while_applying(api: client.CustomObjectsApi, operator: OperatorProcess, name: str,
                                       hold_status: bool) -> str:
    """Approves the Pending proposal and kills the operator within 0.5 s, as soon as the policy exists.

    `hold_status`: the proposal's status write is denied meanwhile, so the kill surely lands between the
    policy's apply and the proposal's Applied phase. Returns what was seen at the kill.
    """
    operator.start()
    api.create_cluster_custom_object(G, V, "patterns", pattern(name))
    eventually(lambda: proposal(api, f"{name}-g1").get("status", {}).get("phase") == "Pending", timeout=TIMEOUT,
               what="proposal Pending")
    if hold_status:
        deny_writes("fault-proposal-status", "policyproposals/status", "UPDATE", f"{name}-g1")
        probe = {"status": {"phase": "Pending"}}
        eventually(lambda: denied(lambda: api.patch_cluster_custom_object_status(
            G, V, "policyproposals", f"{name}-g1", probe, dry_run="All")), what="the proposal's status writes denied")
    api.patch_cluster_custom_object(G, V, "policyproposals", f"{name}-g1", {"spec": {"approved": True}})
    if hold_status:
        eventually(lambda: policies_of(api, name), timeout=TIMEOUT, interval=0.05, what="policy applied")
        eventually(lambda: "fault injection: fault-proposal-status" in operator.output() or None, timeout=TIMEOUT,
                   what="the proposal's status write refused")
    else:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and not policies_of(api, name):
            time.sleep(0.02)
    operator.kill()
    seen = (f"phase at the kill: {proposal(api, f'{name}-g1').get('status', {}).get('phase')}, "
            f"policies: {[p['metadata']['name'] for p in policies_of(api, name)]}")
    if hold_status:
        assert proposal(api, f"{name}-g1")["status"]["phase"] == "Pending", seen
        allow_writes("fault-proposal-status")
    return seen


@pytest.mark.parametrize("hold_status", [False, True], ids=["within-half-a-second", "before-the-status"])
def test_killed_while_applying_an_approved_proposal(api: client.CustomObjectsApi,
                                                    operator_process: OperatorProcess, hold_status: bool) -> None:
    name = f"fault-applying-{int(hold_status)}"
    try:
        seen = approved_and_killed_while_applying(api, operator_process, name, hold_status)
    finally:
        with contextlib.suppress(ApiException):
            allow_writes("fault-proposal-status")
    operator_process.start()
    applied = eventually(lambda: (p := proposal(api, f"{name}-g1")).get("status", {}).get("phase") == "Applied"
                         and p, timeout=TIMEOUT, what=f"proposal Applied after the restart ({seen})")
    policies = policies_of(api, name)
    assert [p["metadata"]["name"] for p in policies] == [f"{name}-no-privileged"], seen
    owners = policies[0]["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o["uid"], o.get("controller")) for o in owners] == \
        [("PolicyProposal", f"{name}-g1", applied["metadata"]["uid"], True)], seen
    assert [(a["apiVersion"], a["kind"], a["name"]) for a in applied["status"]["appliedPolicies"]] == [
        ("policies.kyverno.io/v1", "ValidatingPolicy", f"{name}-no-privileged")]
    assert {c["type"]: c["status"] for c in applied["status"]["conditions"]}["Applied"] == "True"
    assert proposals_of(api, name) == [f"{name}-g1"]
    eventually(lambda: pattern_status(api, name).get("summary") == f"Applied ({name}-g1)", timeout=30,
               what="the pattern's status recording the applied policy")
    api.delete_cluster_custom_object(G, V, "patterns", name)
    eventually(lambda: not policies_of(api, name), timeout=TIMEOUT, what="policy garbage-collected")


# --- 4. killed during delete ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("on_delete", "hold_finalizer"), [("Delete", False), ("Orphan", False), ("Orphan", True)],
                         ids=["Delete", "Orphan", "Orphan-after-the-handler"])
def test_killed_while_the_pattern_is_deleted(api: client.CustomObjectsApi, operator_process: OperatorProcess,
                                             on_delete: str, hold_finalizer: bool) -> None:
    """Killed at the instant of the deletion (frozen, then killed: the deletion is never seen), or, with
    `hold_finalizer`, after the Orphan handler stripped ownership but before the finalizer was released."""
    name = f"fault-delete-{on_delete.lower()}{'-held' if hold_finalizer else ''}"
    policy = f"{name}-no-privileged"
    operator_process.start()
    api.create_cluster_custom_object(G, V, "patterns", pattern(name, onDelete=on_delete))
    eventually(lambda: proposal(api, f"{name}-g1").get("status", {}).get("phase") == "Pending", timeout=TIMEOUT,
               what="proposal Pending")
    api.patch_cluster_custom_object(G, V, "policyproposals", f"{name}-g1", {"spec": {"approved": True}})
    eventually(lambda: proposal(api, f"{name}-g1").get("status", {}).get("phase") == "Applied", timeout=TIMEOUT,
               what="proposal Applied")
    if hold_finalizer:
        deny_writes("fault-pattern-update", "patterns", "UPDATE", name)
        try:
            eventually(lambda: denied(lambda: api.patch_cluster_custom_object(
                G, V, "patterns", name, {"metadata": {"labels": {"probe": "x"}}}, dry_run="All")),
                what="the pattern's updates denied")
            api.delete_cluster_custom_object(G, V, "patterns", name)
            eventually(lambda: (found := get_or_none(api, *VP, policy)) is not None
                       and not found["metadata"].get("ownerReferences"), timeout=TIMEOUT, what="policy orphaned")
            time.sleep(2)  # the handler returned; its release of the finalizer is what the policy refuses
            held = get_or_none(api, G, V, "patterns", name)
            assert held and held["metadata"].get("finalizers"), "the fault did not hold the finalizer"
            operator_process.kill()
        finally:
            with contextlib.suppress(ApiException):
                allow_writes("fault-pattern-update")
    else:
        # Held still from the instant the deletion is sent, then killed: this process never sees the deletion.
        operator_process.freeze()
        api.delete_cluster_custom_object(G, V, "patterns", name)
        operator_process.kill()
    if on_delete == "Orphan":
        held = get_or_none(api, G, V, "patterns", name)
        assert held and held["metadata"].get("deletionTimestamp"), "the finalizer must hold the pattern"
    operator_process.start()
    eventually(lambda: get_or_none(api, G, V, "patterns", name) is None, timeout=TIMEOUT, what="pattern gone")
    eventually(lambda: not proposals_of(api, name), timeout=TIMEOUT, what="proposal garbage-collected")
    if on_delete == "Delete":
        eventually(lambda: not policies_of(api, name), timeout=TIMEOUT, what="policy garbage-collected")
        return
    time.sleep(3)  # the garbage collector had time to act on a policy still owned
    kept = get_or_none(api, *VP, policy)
    assert kept is not None, "onDelete: Orphan must keep the applied policy"
    assert not kept["metadata"].get("ownerReferences"), kept["metadata"]
    assert kept["metadata"]["labels"]["patternpolicy.io/orphaned"] == "true"
    assert [p["metadata"]["name"] for p in policies_of(api, name)] == [policy]
    api.delete_cluster_custom_object(*VP, policy)


# --- 5. kube-apiserver restarted under a running operator ------------------------------------------------------

@pytest.fixture
def restartable(binaries: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of its own: restarting its apiserver must not disturb the session's."""
    with control_plane(binaries, tmp_path_factory.mktemp("restartable"), controller_manager=False) as cp:
        yield cp


def own_api(cp: ControlPlane) -> client.ApiClient:
    cfg = client.Configuration()
    config.load_kube_config(str(cp.kubeconfig), client_configuration=cfg)
    return client.ApiClient(cfg)


def test_operator_rides_out_an_apiserver_restart(restartable: ControlPlane, binaries: Path, kyverno_cli: Path,
                                                 index_dir: Path, tmp_path: Path) -> None:
    api_client = own_api(restartable)
    crds = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
    crds += [yaml.safe_load(p.read_text())
             for p in sorted((binaries / "crds" / "policies.kyverno.io").glob("*validatingpolicies.yaml"))]
    install_crds(client.ApiextensionsV1Api(api_client), crds)
    api = client.CustomObjectsApi(api_client)
    operator = OperatorProcess(restartable.kubeconfig, kyverno_cli, tmp_path,
                               env={"PATTERNPOLICY_INDEX_PATH": str(tmp_path / "index")})
    operator.start()
    try:
        api.create_cluster_custom_object(G, V, "patterns", pattern("before-restart"))
        eventually(lambda: validated(api, "before-restart-g1"), timeout=TIMEOUT, what="proposal before the restart")
        offset = len(operator.output())

        restartable.stop_apiserver()
        time.sleep(8)  # long enough for the watches to break and their reconnection attempts to fail
        restartable.start_apiserver()
        api_client.close()
        api_client = own_api(restartable)
        api = client.CustomObjectsApi(api_client)

        api.create_cluster_custom_object(G, V, "patterns", pattern("after-restart"))
        found = eventually(lambda: validated(api, "after-restart-g1"), timeout=TIMEOUT,
                           what="proposal after the apiserver restart")
        assert found["status"]["phase"] == "Pending", found["status"]
        assert found["status"]["validation"]["behaviour"]["result"] == "Passed", found["status"]["validation"]
        assert operator.running and operator.starts == 1, "the operator must recover without a restart"
        after = operator.output(offset)
        assert "will retry" in after or "retrying" in after, after[-4000:]
        names = sorted(p["metadata"]["name"] for p in api.list_cluster_custom_object(G, V, "policyproposals")["items"])
        assert names == ["after-restart-g1", "before-restart-g1"]
    finally:
        operator.stop()
        api_client.close()
