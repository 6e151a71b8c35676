"""Typed models shared by every layer."""
