"""Side effects at the edge: Kubernetes API, Kyverno CLI, model endpoints."""
