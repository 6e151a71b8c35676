"""Long names: the labels written on proposals and policies and the selectors that find them agree (issue 12).

A 63-character pattern passed validation, then approval failed forever: the applied policies carried the
proposal's name `<pattern>-g1` (66 characters) as a label. Elsewhere names were cut at 63, which can make
two patterns share a label, and the ownership check cut them yet another way.
"""

from __future__ import annotations

import re

import pytest

from patternpolicy import constants as c
from patternpolicy.analysis.offline import OfflineAnalyzer
from patternpolicy.discovery.catalog import KindCatalog
from patternpolicy.labels import label_value, pattern_selector
from patternpolicy.models.pattern import Pattern, PatternRef, PatternSpec
from patternpolicy.reconcile.proposals import build_proposal
from patternpolicy.services.apply import desired, foreign
from patternpolicy.services.pipeline import run_pipeline

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
CATALOG = KindCatalog.builtin()


def valid_labels(labels: dict[str, str]) -> bool:
    return all(len(v) <= 63 and LABEL_VALUE.match(v) for v in labels.values())


@pytest.mark.parametrize("name", ["p" * 253, "a" * 63, "limits"])
def test_a_pattern_name_of_any_length_yields_valid_consistent_labels(name: str) -> None:
    pattern = Pattern(ref=PatternRef(name=name, uid="u-1", generation=12),
                      spec=PatternSpec(description="Containers must not run in privileged mode"))
    generated = run_pipeline(pattern, OfflineAnalyzer(), CATALOG)
    assert generated.policies, generated.reason
    proposal = build_proposal(generated)
    proposal_name = proposal["metadata"]["name"]
    assert len(proposal_name) <= 253 and SUBDOMAIN.match(proposal_name)
    assert valid_labels(proposal["metadata"]["labels"]), proposal["metadata"]["labels"]

    # The selector the operator lists a pattern's proposals with finds this proposal's label.
    key, value = pattern_selector(name).split("=")
    assert proposal["metadata"]["labels"][key] == value

    for policy in generated.policies:
        assert len(policy["metadata"]["name"]) <= 253 and SUBDOMAIN.match(policy["metadata"]["name"])
        applied = desired(policy, proposal_name, lambda obj: obj["metadata"].update(ownerReferences=[
            {"apiVersion": c.API_VERSION, "kind": "PolicyProposal", "name": proposal_name, "uid": "uid-1"}]))
        labels = applied["metadata"]["labels"]
        assert valid_labels(labels), labels
        assert labels[key] == value  # the same selector finds the applied policies
        assert labels[c.PROPOSAL_LABEL] == label_value(proposal_name)
        # ... and the ownership check recognises them as the pattern's own, so approval can apply them.
        assert foreign(applied, name, {proposal_name: "uid-1"}) is None
        # A pattern whose name differs only past the 63rd character does not own them.
        other = name[:-1] + ("q" if name[-1] != "q" else "r")
        assert foreign(applied, other, {proposal_name: "uid-1"}) is not None


def test_long_names_that_share_their_first_63_characters_get_different_labels() -> None:
    first, second = "p" * 100 + "-one", "p" * 100 + "-two"
    assert label_value(first) != label_value(second)
    assert pattern_selector(first) != pattern_selector(second)
