"""Reconcile logic: decisions from observed state, free of API calls."""
