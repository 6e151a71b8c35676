"""Proving generated policies: engine test suites and their results."""
