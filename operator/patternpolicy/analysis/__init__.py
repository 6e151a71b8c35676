"""Analysers turn pattern text into rules; all share one interface."""
