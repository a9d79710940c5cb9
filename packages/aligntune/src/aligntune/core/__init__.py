"""Spec-compatible module paths (``aligntune.core.*``)."""
