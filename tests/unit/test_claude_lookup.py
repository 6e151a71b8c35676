"""The Claude analyser's kind lookup: the model asks for kinds discovery did not offer, and their fields.

Real catalog, real capability index (MiniLM in embedded Qdrant), real schemas (built-in OpenAPI and a
CRD file); only Anthropic's servers are replaced, at the wire, by a double that enforces the documented
tool-use contract (every tool_use answered, in order, thinking blocks unchanged).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.adapters.anthropic_api import ClaudeClient, ModelConfig, ModelRejected
from patternpolicy.adapters.anthropic_replay import replay_server
from patternpolicy.analysis.claude.analyzer import ClaudeAnalyzer
from patternpolicy.analysis.claude.lookup import MAX_RESULT_CHARS, KindLookup, LookupRequest
from patternpolicy.analysis.claude.prompt import estimate_tokens
from patternpolicy.discovery.catalog import POD_CONTROLLERS, KindCatalog
from patternpolicy.discovery.stage import discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.schemas import schema_source
from patternpolicy.services.pipeline import run_pipeline
from patternpolicy.validate.field_check import make_field_checker
from tests.support.fake_anthropic import KEY, fake_anthropic, look_up, together, tool_use
from tests.support.indexed import indexed_catalog

ROOT = Path(__file__).resolve().parents[2]
UPJET = [d for d in yaml.safe_load_all((ROOT / "tests/data/crds/upjet-azure-postgresql.yaml").read_text()) if d]
PG = "dbforpostgresql.azure.upbound.io"


def _mysql_namesake() -> dict[str, Any]:
    """A second FlexibleServer (Azure MySQL), whose group sorts first: a bare name alone would pick it."""
    crd = copy.deepcopy(next(d for d in UPJET if d["spec"]["group"] == PG))
    crd["metadata"]["name"] = "flexibleservers.dbformysql.azure.upbound.io"
    crd["spec"]["group"] = "dbformysql.azure.upbound.io"
    for version in crd["spec"]["versions"]:
        version["schema"]["openAPIV3Schema"]["description"] = "Manages a MySQL Flexible Server."
    return crd


CRDS = [*UPJET, _mysql_namesake()]
PATTERN = Pattern(ref=PatternRef(name="server-resource-group", uid="u1", generation=1),
                  spec=PatternSpec(description="Every database server must reference a resource group."))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindCatalog]:
    with indexed_catalog(tmp_path_factory.mktemp("index"), CRDS) as searchable:
        yield searchable


def server(name: str, resource_group: str | None) -> dict[str, Any]:
    provider: dict[str, Any] = {"location": "westeurope"}
    if resource_group:
        provider["resourceGroupName"] = resource_group
    return {"apiVersion": f"{PG}/v1beta2", "kind": "FlexibleServer", "metadata": {"name": name},
            "spec": {"forProvider": provider}}


ANSWER: dict[str, Any] = {
    "enforceable": True, "reason": "",
    "rules": [{
        "summary": "PostgreSQL flexible servers must name their resource group",
        "kinds": ["FlexibleServer"],
        "validations": [{"expression": "has(object.spec.forProvider.resourceGroupName) || "
                                       "has(object.spec.forProvider.resourceGroupNameRef)",
                         "message": "set spec.forProvider.resourceGroupName or resourceGroupNameRef"}],
        "compliant": [server("with-group", "rg-payments")],
        "violating": [server("without-group", None)],
    }],
}


def analyzer(url: str, lookups: int = 2) -> ClaudeAnalyzer:
    client = ClaudeClient(ModelConfig(api_key=KEY, base_url=url, timeout=10.0, max_retries=0))
    return ClaudeAnalyzer(client, max_attempts=3, max_lookups=lookups)


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of a request's last (user) turn."""
    return [b for b in request["json"]["messages"][-1]["content"] if b["type"] == "tool_result"]


def prompt_tokens(request: dict[str, Any]) -> int:
    """What the double reports as the request's input tokens (its usage rule)."""
    return len(json.dumps({k: request["json"].get(k) for k in ("system", "tools", "messages")})) // 4


def test_a_kind_discovery_did_not_offer_is_looked_up_by_description_and_becomes_the_target(
        catalog: KindCatalog) -> None:
    assert "FlexibleServer" not in {k.kind for k in discover(PATTERN, catalog).kinds()}  # what the model starts from
    with fake_anthropic(look_up(describe="PostgreSQL database servers in Azure"), tool_use(ANSWER)) as fake:
        generated = run_pipeline(PATTERN, analyzer(fake.url), catalog,
                                 field_check=make_field_checker(catalog.schemas or schema_source()))
    assert fake.refusals == []  # every tool_use answered, thinking blocks passed back unchanged
    first = fake.requests[0]["json"]
    assert [t["name"] for t in first["tools"]] == ["propose_rules", "look_up_kinds"]
    assert first["tool_choice"] == {"type": "auto"} and "look_up_kinds" in first["system"]
    (result,) = tool_results(fake.requests[1])
    call = fake.requests[1]["json"]["messages"][1]["content"][-1]
    assert result["tool_use_id"] == call["id"] and call["name"] == "look_up_kinds" and not result.get("is_error")
    # Two kinds are called FlexibleServer here: the result names this one with its group.
    assert f"- FlexibleServer.{PG} (apiVersion {PG}/v1beta2, cluster-scoped; similar in meaning" in result["content"]
    assert "dbformysql" not in result["content"]
    assert "spec.forProvider.resourceGroupName (string)" in result["content"]
    assert estimate_tokens(result["content"]) < 1500

    analysis = generated.analysis
    assert generated.enforceable, (analysis.reason, generated.dropped)
    (rule,) = analysis.rules
    # The model wrote the bare name; the kind it looked up is the one meant, not its MySQL namesake.
    assert [(k.group, k.kind) for k in rule.targets] == [(PG, "FlexibleServer")]
    assert {(t["resource"]["apiVersion"], t["resource"]["kind"]) for t in generated.tests} == {
        (f"{PG}/v1beta2", "FlexibleServer")}
    assert "flexibleservers" in json.dumps(generated.policies)
    assert analysis.attempts == 2 and analysis.input_tokens == sum(prompt_tokens(r) for r in fake.requests)
    assert any(n.startswith("kinds looked up by the model:") and f"FlexibleServer.{PG}" in n for n in analysis.notes)


def test_lookups_by_name_say_which_kinds_are_not_served_and_list_fields_below_a_path(catalog: KindCatalog) -> None:
    asked = look_up(names=[f"FlexibleServer.{PG}", "AzureSqlServer", "Endpoints"], under="spec.forProvider")
    with fake_anthropic(asked, tool_use(ANSWER)) as fake:
        analysis = analyzer(fake.url).analyze(PATTERN, catalog, discover(PATTERN, catalog))
    assert analysis.enforceable and fake.refusals == []
    (result,) = tool_results(fake.requests[1])
    text = result["content"]
    assert f"- FlexibleServer.{PG} (apiVersion {PG}/v1beta2, cluster-scoped; named in the lookup)" in text
    assert "fields below spec.forProvider (paths relative to it): administratorLogin (string)" in text
    assert "resourceGroupNameRef.name (string)" in text
    assert "AzureSqlServer: not served by this cluster" in text
    assert "Endpoints: served, but generated policies never govern it" in text


def test_a_bare_name_two_looked_up_kinds_share_is_asked_back_not_guessed(catalog: KindCatalog) -> None:
    qualified = json.loads(json.dumps(ANSWER))
    qualified["rules"][0]["kinds"] = [f"FlexibleServer.{PG}"]
    with fake_anthropic(look_up(names=["FlexibleServer"]), tool_use(ANSWER), tool_use(qualified)) as fake:
        analysis = analyzer(fake.url).analyze(PATTERN, catalog, discover(PATTERN, catalog))
    (listed,) = tool_results(fake.requests[1])
    assert f"- FlexibleServer.{PG} (apiVersion" in listed["content"]
    assert "- FlexibleServer.dbformysql.azure.upbound.io (apiVersion" in listed["content"]
    (asked_back,) = tool_results(fake.requests[2])
    assert "kind 'FlexibleServer' names several kinds offered" in asked_back["content"]
    assert analysis.enforceable and analysis.attempts == 3 and fake.refusals == []
    assert [(k.group, k.kind) for k in analysis.rules[0].targets] == [(PG, "FlexibleServer")]


def test_a_result_stays_bounded_however_much_is_asked(catalog: KindCatalog) -> None:
    names = ["Pod", *POD_CONTROLLERS[:6], "FlexibleServer"]  # as many as a request may name
    found = KindLookup(catalog).answer(LookupRequest(names=names, describe="database servers"))
    assert len(found.text) <= MAX_RESULT_CHARS and estimate_tokens(found.text) < 1500
    assert [k.kind for k in found.kinds] == names[:6]
    assert "more not shown: look them up by name" in found.text
    assert "pod spec at object.spec.template.spec (variables.podSpec)" in found.text
    assert "look up again with under=<path>" in found.text  # a Pod has far more fields than fit


def test_a_model_that_only_keeps_looking_up_ends_with_a_clear_reason_and_bounded_calls(
        catalog: KindCatalog) -> None:
    with fake_anthropic(*[look_up(names=["Pod"]) for _ in range(8)]) as fake:
        analysis = analyzer(fake.url, lookups=2).analyze(PATTERN, catalog, discover(PATTERN, catalog))
    assert not analysis.enforceable
    assert analysis.reason == ("the model kept looking up kinds (2 lookups, 5 model calls) and never answered "
                               "with propose_rules")
    assert len(fake.requests) == analysis.attempts == 5 and fake.refusals == []  # 2 lookups + 3 answer rounds
    assert analysis.input_tokens == sum(prompt_tokens(r) for r in fake.requests)
    answered = [tool_results(r)[0] for r in fake.requests[1:]]
    assert [bool(r.get("is_error")) for r in answered] == [False, False, True, True]
    assert "Kind lookups are exhausted (2 per pattern): answer now with the propose_rules tool" in \
        answered[-1]["content"]


def test_a_reply_with_a_lookup_and_a_proposal_is_an_answer(catalog: KindCatalog) -> None:
    with fake_anthropic(together(look_up(names=["Pod"]), tool_use(ANSWER))) as fake:
        analysis = analyzer(fake.url).analyze(PATTERN, catalog, discover(PATTERN, catalog))
    assert analysis.enforceable and analysis.attempts == 1 and len(fake.requests) == 1

    wrong = json.loads(json.dumps(ANSWER))
    wrong["rules"][0]["kinds"] = ["PostgresServer"]
    with fake_anthropic(together(tool_use(wrong), look_up(names=[f"FlexibleServer.{PG}"])),
                        tool_use(ANSWER)) as fake:
        analysis = analyzer(fake.url).analyze(PATTERN, catalog, discover(PATTERN, catalog))
    assert analysis.enforceable and analysis.attempts == 2 and fake.refusals == []
    proposal, lookup = tool_results(fake.requests[1])  # both calls answered, in the order they were made
    assert proposal["is_error"] and "'PostgresServer' is not served" in proposal["content"]
    assert not lookup.get("is_error") and f"- FlexibleServer.{PG} (apiVersion" in lookup["content"]


def test_replay_records_the_turn_after_a_lookup_for_a_later_pass(catalog: KindCatalog, tmp_path: Path) -> None:
    def run() -> Any:
        with replay_server(tmp_path) as url:
            return analyzer(url).analyze(PATTERN, catalog, discover(PATTERN, catalog))

    def answer_open_request(content: list[dict[str, Any]]) -> dict[str, Any]:
        (request,) = [p for p in tmp_path.glob("*.request.json")
                      if not p.with_name(p.name.replace(".request.", ".answer.")).exists()]
        request.with_name(request.name.replace(".request.", ".answer.")).write_text(json.dumps(
            {"content": content, "stop_reason": "tool_use", "usage": {"input_tokens": 1000, "output_tokens": 100}}))
        body: dict[str, Any] = json.loads(request.read_text())
        return body

    with pytest.raises(ModelRejected, match="no answer recorded"):
        run()
    answer_open_request([{"type": "tool_use", "id": "toolu_lookup", "name": "look_up_kinds",
                          "input": {"names": [f"FlexibleServer.{PG}"]}}])
    with pytest.raises(ModelRejected, match="no answer recorded"):
        run()  # the lookup was answered locally; the turn after it is a new request, written out
    after = answer_open_request([{"type": "tool_use", "id": "toolu_rules", "name": "propose_rules",
                                  "input": ANSWER}])
    (result,) = after["messages"][-1]["content"]
    assert result["tool_use_id"] == "toolu_lookup" and f"- FlexibleServer.{PG} (apiVersion" in result["content"]
    analysis = run()
    assert analysis.enforceable and (analysis.attempts, analysis.input_tokens) == (2, 2000)


def test_fields_below_a_list_reach_what_a_rule_about_secrets_in_env_reads(catalog: KindCatalog) -> None:
    lookup = KindLookup(catalog)
    containers = lookup.answer(LookupRequest(names=["CronJob"], under="spec.jobTemplate.spec.template.spec.containers"))
    assert "pod spec at object.spec.jobTemplate.spec.template.spec (variables.podSpec)" in containers.text
    assert "[].image (string)" in containers.text and "[].env (array)" in containers.text
    env = lookup.answer(LookupRequest(names=["CronJob"], under="spec.jobTemplate.spec.template.spec.containers[].env"))
    assert "[].valueFrom.secretKeyRef.name (string)" in env.text and "more" not in env.text
    missing = lookup.answer(LookupRequest(names=["Secret"], under="spec.containers[]"))
    assert "fields: nothing below spec.containers[]" in missing.text
