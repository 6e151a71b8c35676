"""patternpolicy: written Kubernetes patterns to reviewed admission policies."""

__version__ = "0.1.0"
