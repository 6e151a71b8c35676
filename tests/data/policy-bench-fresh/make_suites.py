#!/usr/bin/env python3
"""Writes one `kyverno test` suite per case of cases.json into suites/<case-id-with-dashes>/.

Each suite applies reference/<case-id-with-dashes>.yaml to the case's resources and expects
`fail` for every resource labelled deny and `pass` for every resource labelled allow, so
`kyverno test suites/` checks the labels of cases.json directly.
"""
import json
import os
import shutil
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def main(out=None):
    out = out or os.path.join(HERE, "suites")
    cases = json.load(open(os.path.join(HERE, "cases.json")))["cases"]
    if os.path.isdir(out):
        shutil.rmtree(out)
    for c in cases:
        slug = c["id"].replace("/", "-")
        d = os.path.join(out, slug)
        os.makedirs(d)
        ref = os.path.join(HERE, "reference", slug + ".yaml")
        policy = yaml.safe_load(open(ref))
        with open(os.path.join(d, "resources.yaml"), "w") as f:
            yaml.safe_dump_all(c["resources"], f, sort_keys=False)
        groups = {}
        for k, verdict in c["expected"].items():
            kind, name = k.split("/", 1)
            groups.setdefault((kind, "fail" if verdict == "deny" else "pass"), []).append(name)
        results = [{"policy": policy["metadata"]["name"], "isValidatingPolicy": True, "kind": kind,
                    "resources": sorted(names), "result": result}
                   for (kind, result), names in sorted(groups.items())]
        test = {"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Test",
                "metadata": {"name": slug},
                "policies": [os.path.relpath(ref, d)],
                "resources": ["resources.yaml"],
                "results": results}
        with open(os.path.join(d, "kyverno-test.yaml"), "w") as f:
            yaml.safe_dump(test, f, sort_keys=False)
    print("wrote %d suites to %s" % (len(cases), out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
