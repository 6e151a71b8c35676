"""The static field checker: real rules pass, misspelt or misplaced fields are reported per kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.analysis.podspec import POD_METADATA, POD_SPEC, POD_VARIABLES, pod_spec_path
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.discovery.stage import Discovery, discover
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.models.rules import Analysis, KindRef, Rule, Validation, Variable
from patternpolicy.schemas import CrdSchemas, builtin_schemas, format_path, schema_source
from patternpolicy.services.bench import case_pattern
from patternpolicy.services.pipeline import run_pipeline
from patternpolicy.validate.field_check import collect_reads, leaves, make_field_checker, parse_rule

CATALOG = KindCatalog.builtin()
CHECK = make_field_checker(builtin_schemas())
ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "policy-bench" / "cases-dev.json"


def kind(name: str) -> KindRef:
    found = CATALOG.by_kind(name)
    assert found is not None, name
    return found


POD_KINDS = [kind("Pod"), *CATALOG.pod_controllers()]


def rule(*expressions: str, targets: list[KindRef] | None = None, variables: list[Variable] | None = None) -> Rule:
    return Rule(id="r", description="d", targets=targets or POD_KINDS,
                variables=[*POD_VARIABLES, POD_METADATA] if variables is None else variables,
                validations=[Validation(expression=e, message="m") for e in expressions])


def pattern(text: str) -> Pattern:
    return Pattern(ref=PatternRef(name="p"), spec=PatternSpec(description=text))


def reads(r: Rule, kind_name: str) -> set[str]:
    """The deepest paths the rule reads on that kind (their prefixes are implied)."""
    return {format_path(p[0], p[1:]) for p in leaves(collect_reads(parse_rule(r), kind_name).all_reads())}


# --- rules the offline analyser writes ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Containers must not run in privileged mode",
    "Deployments must define CPU and memory limits",
    "Services must not use the `NodePort` type",
    "Ingress hosts must not contain a wildcard",
    "Pods must carry the labels `team` and `app.kubernetes.io/name`",
])
def test_offline_rules_pass_the_field_check_and_compile(text: str) -> None:
    result = run_pipeline(pattern(text), OfflineAnalyzer(), CATALOG, field_check=CHECK)
    assert result.analysis.rules, result.analysis.reason
    assert not result.dropped, result.dropped
    assert len(result.policies) == len(result.analysis.rules)


def test_every_offline_rule_for_the_bench_cases_passes() -> None:
    if not CASES.exists():
        raise FileNotFoundError(f"{CASES} is missing: this test needs shared/policy-bench beside the repo")
    cases = json.loads(CASES.read_text())["cases"]
    checked, problems = 0, []
    for case in cases:
        for r in OfflineAnalyzer().analyze(case_pattern(case), CATALOG, discover(case_pattern(case), CATALOG)).rules:
            checked += 1
            problems += [f"{case['id']}/{r.id}: {p}" for p in CHECK(r)]
    assert checked > 20  # the analyser still enforces most cases; otherwise this test proves nothing
    assert problems == []


# --- what a user sees when a field is wrong ----------------------------------------------------

def test_misspelt_container_field_is_reported_with_kind_and_path() -> None:
    problems = CHECK(rule("variables.containers.all(c, !has(c.securityContext) || "
                          "c.securityContext.privilegd == false)"))
    assert ("Deployment: object.spec.template.spec.containers[].securityContext.privilegd: "
            "no such field (known: privileged") in "\n".join(problems)
    assert any(p.startswith("Pod: object.spec.containers[].securityContext.privilegd: ") for p in problems)
    assert any(p.startswith("CronJob: object.spec.jobTemplate.spec.template.spec.containers[]") for p in problems)
    # One line per kind, not one per container list (containers, initContainers, ephemeralContainers).
    assert len(problems) == len(POD_KINDS)


def test_a_misspelt_rule_is_dropped_by_the_pipeline_with_the_reason() -> None:
    class Typo:
        name = "typo"

        def analyze(self, pattern: Pattern, catalog: KindCatalog, discovery: Discovery) -> Analysis:
            return Analysis(analyzer=self.name, enforceable=True, rules=[
                rule("!has(object.spec.hostNetwerk)", targets=[kind("Pod")], variables=[]),
                rule("!has(object.spec.hostNetwork)", targets=[kind("Pod")], variables=[]).model_copy(
                    update={"id": "good"})])

    result = run_pipeline(pattern("no host network"), Typo(), CATALOG, field_check=CHECK)
    assert [d.rule for d in result.dropped] == ["r"]
    assert result.dropped[0].reasons == [
        "Pod: object.spec.hostNetwerk: no such field (known: hostNetwork, hostUsers, ...)"]
    assert len(result.policies) == 1


def test_a_pod_field_read_directly_fails_on_the_controllers() -> None:
    problems = CHECK(rule("!has(object.spec.hostNetwork) || object.spec.hostNetwork == false", variables=[]))
    failing = {p.split(":")[0] for p in problems}
    assert failing == {k.kind for k in POD_KINDS} - {"Pod"}
    assert "Deployment: object.spec.hostNetwork: no such field" in "\n".join(problems)


def test_the_pod_spec_variable_lands_on_each_kinds_pod_spec() -> None:
    r = rule("has(variables.podSpec.hostNetwork)", variables=[POD_SPEC])
    for k in POD_KINDS:
        spec = f"object.{pod_spec_path(k.kind)}"
        # Only the branch this kind takes is read: object.spec.template does not exist on a Pod.
        assert reads(r, k.kind) == {"object.kind", f"{spec}.hostNetwork"}


def test_kinds_are_told_apart_by_object_kind_not_by_has() -> None:
    targets = [kind("Pod"), kind("Deployment"), kind("CronJob")]
    by_kind = ("object.kind in ['Pod'] ? object.spec.hostNetwork : (object.kind == 'CronJob' ? "
               "object.spec.jobTemplate.spec.template.spec.hostNetwork : object.spec.template.spec.hostNetwork)")
    assert CHECK(rule(f"{by_kind} != true", targets=targets, variables=[])) == []
    # has() does not tell kinds apart: on a Pod this rule would quietly allow everything.
    by_has = "has(object.spec.template) ? object.spec.template.spec.hostNetwork != true : true"
    problems = CHECK(rule(by_has, targets=targets, variables=[]))
    assert [p.split(": ")[:2] for p in problems] == [["Pod", "object.spec.template"],
                                                      ["CronJob", "object.spec.template"]]
    assert problems[1].endswith("no such field (known: jobTemplate, ...); "
                                "a field of that name exists at object.spec.jobTemplate.spec.template")


def test_two_variable_comprehensions() -> None:
    assert CHECK(rule("object.metadata.labels.all(k, v, k.size() < 64 && v != '')", variables=[])) == []
    problems = CHECK(rule("variables.containers.all(i, c, i < 10 && c.imag != '')"))
    assert problems and all("containers[].imag: no such field (known: image" in p for p in problems)


def test_containers_variable_covers_init_and_ephemeral_containers() -> None:
    found = reads(rule("variables.containers.all(c, c.image != '')"), "Deployment")
    base = "object.spec.template.spec"
    assert {f"{base}.containers[].image", f"{base}.initContainers[].image",
            f"{base}.ephemeralContainers[].image"} <= found


def test_pod_metadata_variable() -> None:
    found = reads(rule("'team' in variables.podMetadata.labels"), "CronJob")
    assert "object.spec.jobTemplate.spec.template.metadata.labels" in found
    assert CHECK(rule("'team' in variables.podMetadata.lables"))[0].startswith(
        "Pod: object.metadata.lables: no such field (known: labels")


def test_map_index_checks_the_map_not_the_key() -> None:
    assert CHECK(rule("object.metadata.labels['app.kubernetes.io/name'] == 'x'", variables=[])) == []
    problems = CHECK(rule("object.metadata.labelz['team'] == 'x'", targets=[kind("Service")], variables=[]))
    assert problems == ["Service: object.metadata.labelz: no such field (known: labels, ...)"]


@pytest.mark.parametrize("expression", [
    "variables.containers.exists(c, has(c.ports) && c.ports.exists_one(p, p.containerPort == 80))",
    "variables.containers.map(c, c.image).all(i, i.startsWith('registry.example.com/'))",
    "variables.containers.filter(c, has(c.securityContext)).all(c, c.securityContext.runAsNonRoot == true)",
    "variables.containers.map(c, c.resources).all(r, has(r.limits) && 'cpu' in r.limits)",
    "size(variables.podSpec.volumes.filter(v, has(v.hostPath))) == 0",
    "variables.podSpec.containers[0].name != ''",
    "dyn(variables.podSpec).hostPID != true",
])
def test_macros_and_helpers_with_real_fields_pass(expression: str) -> None:
    assert CHECK(rule(expression)) == []


@pytest.mark.parametrize(("expression", "wrong"), [
    ("variables.containers.exists(c, c.ports.exists_one(p, p.containerPrt == 80))", "ports[].containerPrt"),
    ("variables.containers.map(c, c.resources).all(r, has(r.limit))", "resources.limit"),
    ("variables.containers.filter(c, has(c.securityContxt)).size() == 0", "securityContxt"),
    ("variables.podSpec.containers[0].nme != ''", "containers[].nme"),
])
def test_macros_with_misspelt_fields_are_reported(expression: str, wrong: str) -> None:
    problems = CHECK(rule(expression))
    assert problems and all(wrong in p for p in problems), problems


def test_method_calls_are_not_fields() -> None:
    assert CHECK(rule("variables.containers.all(c, c.image.startsWith('a') && c.image.lowerAscii().size() > 0)")) \
        == []


def test_user_variables_are_followed_recursively() -> None:
    variables = [*POD_VARIABLES,
                 Variable(name="images", expression="variables.containers.map(c, c.image)"),
                 Variable(name="pullPolicies", expression="variables.containers.map(c, c.imagePullPolcy)"),
                 Variable(name="first", expression="variables.images[0]")]
    problems = CHECK(rule("variables.first != '' && size(variables.pullPolicies) > 0", variables=variables))
    assert problems and all("imagePullPolcy: no such field (known: imagePullPolicy" in p for p in problems)
    assert "variables.nope is not defined in the rule" in CHECK(rule("variables.nope == 1"))


def test_old_object_is_checked_like_object() -> None:
    problems = CHECK(rule("oldObject.spec.replcas == object.spec.replicas", targets=[kind("Deployment")],
                          variables=[]))
    assert problems == ["Deployment: oldObject.spec.replcas: no such field (known: replicas, ...)"]


def test_request_and_other_roots_are_not_object_fields() -> None:
    assert CHECK(rule("request.operation == 'CREATE' && namespaceObject.metadata.name != ''", variables=[])) == []


# --- expressions the checker cannot read -------------------------------------------------------

def test_optional_syntax_cannot_be_checked_and_says_so() -> None:
    problems = CHECK(rule("object.spec.?replicas.orValue(1) > 1", targets=[kind("Deployment")], variables=[]))
    assert len(problems) == 1
    assert problems[0].startswith("validations[0]: cannot be checked:") and "`.?`" in problems[0]


def test_syntax_errors_are_reported() -> None:
    problems = CHECK(rule("object.spec.replicas >== 2", targets=[kind("Deployment")], variables=[]))
    assert problems == ["validations[0]: does not parse as CEL at line 1, column 24, near `= 2`"]
    bad_variable = [Variable(name="x", expression="object.spec.(")]
    assert CHECK(rule("variables.x", targets=[kind("Deployment")], variables=bad_variable))[0].startswith(
        "variables.x: does not parse as CEL")


# --- custom kinds -------------------------------------------------------------------------------

CRD = yaml.safe_load("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: databases.example.com}
spec:
  group: example.com
  names: {kind: Database, plural: databases}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer}
              backup:
                type: object
                properties:
                  enabled: {type: boolean}
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
""")
DATABASE = KindRef(group="example.com", version="v1", kind="Database", plural="databases")


def test_custom_kind_fields_are_checked_against_the_crd() -> None:
    check = make_field_checker(schema_source(crd_documents=[CRD]))
    assert check(rule("object.spec.backup.enabled == true && object.spec.extra.any.thing != 1 && "
                      "'team' in object.metadata.labels", targets=[DATABASE], variables=[])) == []
    assert check(rule("object.spec.backup.enabld == true", targets=[DATABASE], variables=[])) == [
        "Database: object.spec.backup.enabld: no such field (known: enabled)"]


def test_a_kind_without_schema_is_a_problem_unless_allowed() -> None:
    r = rule("object.spec.replicas > 1", targets=[DATABASE], variables=[])
    assert CHECK(r) == ["Database: no schema known for example.com/v1 Database, so its fields cannot be checked"]
    assert make_field_checker(CrdSchemas(), require_schema=False)(r) == []


def test_checker_output_is_stable() -> None:
    r = rule("variables.containers.all(c, c.securityContext.privilegd)")
    first: list[Any] = CHECK(r)
    assert CHECK(r) == first
