"""Kind resolution through the capability index (real model, real embedded Qdrant), and what it leads to.

The Azure-like CRDs are the example ones (examples/crds/azure-postgresql.yaml); their schemas
come from the same file, as `generate --crds` reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.adapters.anthropic_api import ClaudeClient, ModelConfig
from patternpolicy.analysis.claude.analyzer import ClaudeAnalyzer
from patternpolicy.analysis.claude.prompt import candidate_kinds, user_message
from patternpolicy.analysis.memo import MemoizedAnalyzer
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.index import CapabilityIndex
from patternpolicy.discovery.stage import discover
from patternpolicy.discovery.subjects import NO_INDEX
from patternpolicy.models.pattern import Pattern, PatternRef, parse_pattern_spec
from patternpolicy.models.rules import Analysis
from patternpolicy.schemas import schema_source
from patternpolicy.services.files import kind_from_crd
from patternpolicy.services.kind_index import fill
from patternpolicy.services.pipeline import run_pipeline
from patternpolicy.validate.field_check import NO_SCHEMA, make_field_checker
from patternpolicy.validate.kyverno_suite import suite_files
from tests.support.fake_anthropic import KEY, fake_anthropic, tool_use
from tests.support.indexed import open_index, served

ROOT = Path(__file__).resolve().parents[2]
CRDS = [d for d in yaml.safe_load_all((ROOT / "examples" / "crds" / "azure-postgresql.yaml").read_text()) if d]
PG = "dbforpostgresql.azure.com"
PRD_TEXT = "Azure PostgreSQL requires ResourceGroup for infrastructure organization."


def pattern(description: str, **spec: Any) -> Pattern:
    return Pattern(ref=PatternRef(name="p", uid="u", generation=1),
                   spec=parse_pattern_spec({"description": description, **spec}))


def analyse(p: Pattern, catalog: KindCatalog) -> Analysis:
    """The offline analysis as the pipeline records it (with what discovery found)."""
    return run_pipeline(p, OfflineAnalyzer(), catalog).analysis


def base_catalog() -> KindCatalog:
    return served(CRDS)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CapabilityIndex]:
    opened = open_index(tmp_path_factory.mktemp("index"), base_catalog(), CRDS)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def catalog(index: CapabilityIndex) -> KindCatalog:
    return base_catalog().searchable(index, schema_source(crd_documents=CRDS))


def test_the_prd_example_targets_the_server_kind_on_its_reference_field(catalog: KindCatalog) -> None:
    analysis = analyse(pattern(PRD_TEXT), catalog)
    assert analysis.enforceable, analysis.reason
    (rule,) = analysis.rules
    assert [(k.group, k.kind) for k in rule.targets] == [(PG, "FlexibleServer")]
    (validation,) = rule.validations
    assert "object.spec.owner.name" in validation.expression and "object.spec.owner.armId" in validation.expression
    verdicts = {s.resource["metadata"]["name"]: s.expect for s in rule.samples}
    assert verdicts == {"with-reference": "allow", "without-reference": "deny"}
    # Every sample satisfies the CRD's own required fields, so it would be admitted but for the rule.
    assert all("location" in s.resource["spec"] for s in rule.samples)
    assert any("similar in meaning" in k and k.startswith(f"FlexibleServer.{PG}") for k in analysis.kinds_found)
    assert analysis.notes == []


def test_a_child_kind_is_chosen_when_the_text_uses_its_own_words(catalog: KindCatalog) -> None:
    analysis = analyse(pattern("Azure PostgreSQL databases must reference a FlexibleServer."),
                                         catalog)
    (rule,) = analysis.rules
    assert [k.kind for k in rule.targets] == ["FlexibleServersDatabase"]
    assert "object.spec.owner" in rule.validations[0].expression


def test_a_field_the_kind_lacks_is_dropped_with_where_it_does_exist(catalog: KindCatalog) -> None:
    check = make_field_checker(schema_source(crd_documents=CRDS))
    missing = run_pipeline(pattern("Azure PostgreSQL servers must set spec.backupRetentionDays."), OfflineAnalyzer(),
                           catalog, field_check=check)
    assert not missing.enforceable and missing.policies == []
    (dropped,) = missing.dropped
    assert dropped.reasons == [
        "FlexibleServer: object.spec.backupRetentionDays: no such field (known: administratorLogin, azureName, "
        "backup, location, owner, storage, ...); a field of that name exists at object.spec.backup.backupRetentionDays"]
    present = run_pipeline(pattern("Azure PostgreSQL servers must set spec.backup.backupRetentionDays."),
                           OfflineAnalyzer(), catalog, field_check=check)
    assert present.enforceable and present.dropped == []


def test_pattern_self_reference_and_weak_meaning_do_not_target_kinds(catalog: KindCatalog) -> None:
    # "This policy validates ..." is neither NetworkPolicy nor ValidatingWebhookConfiguration.
    analysis = analyse(pattern(
        "This policy validates that the label `app.kubernetes.io/name` is specified with some value."), catalog)
    assert not analysis.enforceable and "does not say on which kinds" in analysis.reason


def test_described_kinds_get_label_rules(catalog: KindCatalog) -> None:
    analysis = analyse(pattern("Azure PostgreSQL servers must carry the label `team`."), catalog)
    (rule,) = analysis.rules
    assert [k.kind for k in rule.targets] == ["FlexibleServer"]


def test_the_model_is_offered_described_kinds_with_the_reason(catalog: KindCatalog) -> None:
    kinds, subjects = candidate_kinds(discover(pattern(PRD_TEXT), catalog))
    assert {(k.group, k.kind) for k in kinds} >= {(PG, "FlexibleServer"), ("resources.azure.com", "ResourceGroup")}
    message = user_message(pattern(PRD_TEXT), kinds, subjects)
    line = next(x for x in message.splitlines() if x.startswith("- FlexibleServer"))
    assert f"apiVersion {PG}/v1api20221201" in line and "similar in meaning" in line


def test_without_a_model_the_search_is_lexical_and_says_so() -> None:
    lexical = CapabilityIndex(None, None, "lexical search only (no embedding model: not installed)")
    fill(lexical, base_catalog(), CRDS)
    catalog = base_catalog().searchable(lexical, schema_source(crd_documents=CRDS))
    analysis = analyse(pattern("PostgreSQL flexible servers need a resource group."), catalog)
    assert any(n.startswith("kind search was lexical only: lexical search only (no embedding model")
               for n in analysis.notes), analysis.notes


def test_without_an_index_only_named_kinds_are_found_and_the_status_says_so() -> None:
    analysis = analyse(pattern(PRD_TEXT), base_catalog())
    assert not analysis.enforceable
    assert analysis.notes == [NO_INDEX]


@pytest.mark.parametrize("text", ["Containers must set CPU and memory limits",
                                  "Workloads must set CPU limits",
                                  "Teams must not deploy privileged containers"])
def test_everyday_words_that_are_short_names_do_not_name_kinds(text: str) -> None:
    analysis = analyse(pattern(text), KindCatalog.builtin())
    assert analysis.enforceable, analysis.reason
    assert {k.kind for r in analysis.rules for k in r.targets} >= {"Pod", "Deployment", "CronJob"}


def test_kyverno_suites_carry_the_crds_of_custom_kinds() -> None:
    server = {"apiVersion": f"{PG}/v1api20221201", "kind": "FlexibleServer",
              "metadata": {"name": "s", "namespace": "default"}, "spec": {"location": "x"}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": {}}
    files = suite_files("t", [], [{"policy": "x", "expect": "deny", "resource": server}], CRDS)
    assert yaml.safe_load(files["kyverno-test.yaml"])["clusterResources"] == ["cluster-resources.yaml"]
    assert yaml.safe_load(files["cluster-resources.yaml"])["spec"]["crds"] == [
        f"crd-flexibleservers.{PG}.yaml"]
    assert yaml.safe_load(files[f"crd-flexibleservers.{PG}.yaml"])["spec"]["names"]["kind"] == "FlexibleServer"
    builtin_only = suite_files("t", [], [{"policy": "x", "expect": "deny", "resource": pod}], CRDS)
    assert "clusterResources" not in yaml.safe_load(builtin_only["kyverno-test.yaml"])


def test_claude_gets_the_described_kind_and_its_answer_maps_to_the_offered_namesake(index: CapabilityIndex) -> None:
    """Two kinds are called FlexibleServer (PostgreSQL and MySQL); the model answers with the bare name
    it was offered, and the rule targets the PostgreSQL one, on the field the cluster's schema has."""
    mysql = copy.deepcopy(next(d for d in CRDS if d["spec"]["names"]["kind"] == "FlexibleServer"))
    mysql["metadata"]["name"] = "flexibleservers.dbformysql.azure.com"
    mysql["spec"]["group"] = "dbformysql.azure.com"
    mysql["spec"]["versions"][0]["name"] = "v1api20231230"
    mysql["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = (
        "Generator information:\n- Generated from: /mysql/resource-manager/Microsoft.DBforMySQL/FlexibleServers/"
        "stable/2023-12-30/FlexibleServers.json")
    crds = [*CRDS, mysql]
    fill(index, base_catalog().with_kinds([k for k in (kind_from_crd(d) for d in crds) if k]), crds)
    catalog = (base_catalog().with_kinds([k for k in (kind_from_crd(d) for d in crds) if k])
               .searchable(index, schema_source(crd_documents=crds)))
    server = {"apiVersion": f"{PG}/v1api20221201", "kind": "FlexibleServer", "spec": {"location": "westeurope"}}
    answer = {"enforceable": True, "reason": "", "rules": [{
        "summary": "PostgreSQL servers must have an owner resource group",
        "kinds": ["FlexibleServer"],
        "validations": [{"expression": "has(object.spec.owner) && has(object.spec.owner.name)",
                         "message": "set spec.owner to a ResourceGroup"}],
        "compliant": [{**server, "metadata": {"name": "ok"}, "spec": {"location": "x", "owner": {"name": "rg"}}}],
        "violating": [{**server, "metadata": {"name": "bad"}}],
    }]}
    with fake_anthropic(tool_use(answer)) as fake:
        config = ModelConfig(api_key=KEY, base_url=fake.url, timeout=5.0, max_retries=0)
        analysis = run_pipeline(pattern(PRD_TEXT), ClaudeAnalyzer(ClaudeClient(config), max_attempts=1),
                                catalog).analysis
    prompt = fake.requests[0]["json"]["messages"][0]["content"]
    assert f"- FlexibleServer (apiVersion {PG}/v1api20221201" in prompt
    assert "dbformysql" not in prompt
    assert analysis.enforceable, analysis.reason
    (rule,) = analysis.rules
    assert [(k.group, k.kind) for k in rule.targets] == [(PG, "FlexibleServer")]
    assert any("similar in meaning" in k for k in analysis.kinds_found)
    fill(index, base_catalog(), CRDS)  # the module's other tests see the example CRDs only


def test_a_served_kind_without_a_published_schema_is_retried_not_refused(index: CapabilityIndex) -> None:
    """A CRD installed a moment ago: the kind is served, its schema not yet published."""
    catalog = base_catalog().searchable(index, schema_source())  # built-in schemas only
    memo = MemoizedAnalyzer(OfflineAnalyzer())
    first = memo.analyze(pattern(PRD_TEXT), catalog, discover(pattern(PRD_TEXT), catalog))
    assert not first.enforceable and NO_SCHEMA in first.reason and "FlexibleServer" in first.reason
    published = base_catalog().searchable(index, schema_source(crd_documents=CRDS))
    again = memo.analyze(pattern(PRD_TEXT), published, discover(pattern(PRD_TEXT), published))
    assert again.enforceable  # the retry analyses again
