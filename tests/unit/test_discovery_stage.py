"""The discovery stage (real model, real embedded Qdrant): the kinds each analyser is handed, and why.

The sentences are shaped like texts whose kinds were missed on unseen cases: a kind named in a
sentence that states no rule, roles bound or granted, pod-spec fields, a Secret consumed by pods,
an ingress controller's ConfigMap, RBAC verbs, and two sibling kinds the text describes equally well.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.analysis.claude.prompt import candidate_kinds, user_message
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog
from patternpolicy.discovery.relations import composed_kinds
from patternpolicy.discovery.stage import MAX_CANDIDATES, Discovery, discover
from patternpolicy.models.pattern import Pattern, PatternRef, parse_pattern_spec
from patternpolicy.models.rules import KindRef
from patternpolicy.services.pipeline import run_pipeline
from tests.support.indexed import indexed_catalog

ROOT = Path(__file__).resolve().parents[2]
PG = "dbforpostgresql.azure.com"
POD_KINDS = {"Pod", *POD_CONTROLLERS}


def _single_server(flexible: dict[str, Any]) -> dict[str, Any]:
    """Azure's older PostgreSQL kind beside the flexible one, in the same group (as ASO serves both)."""
    server = copy.deepcopy(flexible)
    server["metadata"]["name"] = f"servers.{PG}"
    server["spec"]["names"] = {"kind": "Server", "listKind": "ServerList", "plural": "servers", "singular": "server"}
    server["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = (
        "Generator information:\n- Generated from: /postgresql/resource-manager/Microsoft.DBforPostgreSQL/stable/"
        "2017-12-01/postgresql.json\n- ARM URI: /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        "/providers/Microsoft.DBforPostgreSQL/servers/{serverName}")
    return server


def _mysql_namesake(flexible: dict[str, Any]) -> dict[str, Any]:
    """A second kind called FlexibleServer, in Azure's MySQL group."""
    mysql = copy.deepcopy(flexible)
    mysql["metadata"]["name"] = "flexibleservers.dbformysql.azure.com"
    mysql["spec"]["group"] = "dbformysql.azure.com"
    mysql["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = (
        "Generator information:\n- Generated from: /mysql/resource-manager/Microsoft.DBforMySQL/FlexibleServers/"
        "stable/2023-12-30/FlexibleServers.json")
    return mysql


EXAMPLE_CRDS = [d for d in yaml.safe_load_all((ROOT / "examples" / "crds" / "azure-postgresql.yaml").read_text()) if d]
_FLEXIBLE = next(d for d in EXAMPLE_CRDS if d["spec"]["names"]["kind"] == "FlexibleServer")
CRDS = [*EXAMPLE_CRDS, _single_server(_FLEXIBLE), _mysql_namesake(_FLEXIBLE)]


def pattern(description: str, **spec: Any) -> Pattern:
    return Pattern(ref=PatternRef(name="p", uid="u", generation=1),
                   spec=parse_pattern_spec({"description": description, **spec}))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindCatalog]:
    with indexed_catalog(tmp_path_factory.mktemp("index"), CRDS) as searchable:
        yield searchable


def kinds(found: Discovery) -> set[str]:
    return {k.kind for k in found.kinds()}


def why(found: Discovery, kind: str) -> str:
    return next(c.explanation for c in found.candidates if c.kind.kind == kind)


def test_a_kind_named_outside_the_rules_sentences_is_a_candidate(catalog: KindCatalog) -> None:
    found = discover(pattern("Containers must not request more than four CPUs. It applies to Pod objects. "
                             "It only applies to objects in the namespace staging."), catalog)
    assert "Pod" in kinds(found) and why(found, "Pod").startswith("named in the text")


def test_binding_roles_offers_the_binding_kinds(catalog: KindCatalog) -> None:
    found = discover(pattern("Nobody but the platform team may bind roles or cluster roles to users."), catalog)
    assert {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} <= kinds(found)
    # Found twice over: they refer to roles (roleRef), and their names' words are all in the text.
    composed = {r.kind for r in composed_kinds("Nobody may bind cluster roles.", catalog)}
    assert composed == {"ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def test_granting_a_role_offers_the_kinds_that_refer_to_roles(catalog: KindCatalog) -> None:
    found = discover(pattern("The cluster-admin role may only be granted to members of the ops group."), catalog)
    assert {"Role", "RoleBinding", "ClusterRoleBinding"} <= kinds(found)
    assert why(found, "RoleBinding") == "refers to Role objects by its field roleRef"


def test_probe_fields_offer_pods_and_their_controllers(catalog: KindCatalog) -> None:
    found = discover(pattern("A readinessProbe.httpGet.host must stay empty so that checks reach the workload "
                             "itself."), catalog)
    assert kinds(found) >= POD_KINDS
    assert "readinessProbe" in why(found, "Deployment")
    spoken = discover(pattern("Health probes must never target another host."), catalog)
    assert kinds(spoken) >= POD_KINDS


def test_a_consumed_kind_offers_the_pods_that_consume_it(catalog: KindCatalog) -> None:
    found = discover(pattern("Secrets must not be handed over as environment variables."), catalog)
    assert {"Secret", *POD_KINDS} <= kinds(found)
    assert why(found, "CronJob") == "refers to Secret objects by its field secretRef"
    # The Claude analyser is offered the same list, each kind with why it is there.
    offered, subjects = candidate_kinds(found)
    prompt = user_message(pattern("Secrets must not be handed over as environment variables."), offered, subjects)
    assert "- CronJob (apiVersion batch/v1, namespaced, pod spec at object.spec.jobTemplate.spec.template.spec; " \
           "refers to Secret objects by its field secretRef)" in prompt


def test_an_ingress_controllers_configmap_is_a_candidate(catalog: KindCatalog) -> None:
    found = discover(pattern("The ingress-nginx controller's ConfigMap must keep allow-snippet-annotations "
                             "set to false."), catalog)
    assert "ConfigMap" in kinds(found)


def test_rbac_verbs_offer_roles(catalog: KindCatalog) -> None:
    found = discover(pattern("Granting the use verb on securitycontextconstraints is reserved for "
                             "cluster administrators."), catalog)
    assert {"Role", "ClusterRole"} <= kinds(found)


def test_siblings_the_text_describes_equally_well_are_offered_and_the_choice_is_noted(catalog: KindCatalog) -> None:
    text = "Azure PostgreSQL has to sit in a resource group."
    found = discover(pattern(text), catalog)
    servers = {(c.kind.group, c.kind.kind): c for c in found.candidates if c.kind.group == PG}
    assert set(servers) == {(PG, "Server"), (PG, "FlexibleServer")}, found.kinds_found()
    # The offline analyser writes its rule on the one the index scores highest, and the status says so.
    chosen = next(s for s in found.subjects.found if s.kind.group == PG)
    (sibling,) = found.subjects.near
    assert {chosen.kind.kind, sibling.kind.kind} == {"Server", "FlexibleServer"}
    (note,) = found.notes
    assert f"{chosen.kind.kind} scores highest" in note and str(sibling.kind) in note
    generated = run_pipeline(pattern(text), OfflineAnalyzer(), catalog)
    assert note in generated.analysis.notes
    assert {k.kind for r in generated.analysis.rules for k in r.targets if k.group == PG} <= {chosen.kind.kind}
    # The Claude analyser is offered both.
    offered, _ = candidate_kinds(found)
    assert {(PG, "Server"), (PG, "FlexibleServer")} <= {(k.group, k.kind) for k in offered}


def test_a_name_several_kinds_share_is_left_to_the_index(catalog: KindCatalog) -> None:
    """Outside the rule's sentences nothing tells the two FlexibleServers apart: neither is offered for the name."""
    found = discover(pattern("Backups must be kept for 30 days. The flexible server team owns this."), catalog)
    assert not [c for c in found.candidates if c.kind.kind == "FlexibleServer" and c.reason == "exact"]


def test_the_confident_part_is_what_the_rules_sentences_name(catalog: KindCatalog) -> None:
    found = discover(pattern("Deployments must run two replicas. Teams usually start from a Helm chart that "
                             "also creates a Service."), catalog)
    assert [k.kind for k in found.named] == ["Deployment"]
    assert "Service" in kinds(found)  # offered to the model, but no offline rule is written on it


def test_hints_come_first_and_nothing_is_searched(catalog: KindCatalog) -> None:
    found = discover(pattern("Servers need an owner.", suggestedResources=["FlexibleServer"]), catalog)
    assert [k.kind for k in found.named] == ["FlexibleServer"] and found.subjects.found == ()
    assert found.candidates[0].reason == "hint"


def test_the_candidate_list_is_bounded(catalog: KindCatalog) -> None:
    found = discover(pattern("Pods, deployments, services, ingresses, secrets, config maps, roles, role bindings, "
                             "namespaces, jobs, cron jobs, nodes, stateful sets, daemon sets, network policies, "
                             "storage classes and service accounts must all carry the label team."), catalog)
    assert len(found.candidates) == MAX_CANDIDATES


def test_a_text_that_names_nothing_offers_pod_kinds(catalog: KindCatalog) -> None:
    found = discover(pattern("Images must come from registry.example.com."), catalog)
    assert kinds(found) >= POD_KINDS


PROPOSAL_KIND = KindRef(group="patternpolicy.io", version="v1alpha1", kind="PolicyProposal", plural="policyproposals",
                        namespaced=False)


def test_kind_hints_that_cannot_be_used_are_named_and_the_text_decides() -> None:
    """Issue 12: an unknown or self-referencing suggestedResources entry was dropped without a word."""
    catalog = KindCatalog.builtin().with_kinds([(PROPOSAL_KIND, ())])
    pattern = Pattern(ref=PatternRef(name="p"), spec=parse_pattern_spec({
        "description": "Containers must not run in privileged mode",
        "suggestedResources": ["FooWidget", "PolicyProposal", "Deployment"]}))
    found = discover(pattern, catalog)
    kinds = [k.kind for k in found.kinds()]
    assert kinds[0] == "Deployment" and "PolicyProposal" not in kinds, kinds  # the usable hint leads
    assert list(found.notes[:2]) == [
        "spec.suggestedResources names 'FooWidget', which this cluster does not serve; ignored",
        "spec.suggestedResources names 'PolicyProposal', a kind generated policies must never govern; ignored"]
