"""Execution engines (TRL, Unsloth) and model loading for AlignTune.

Not built yet: this release ships the package skeleton; the engines are absent, not stubbed.
"""

__version__ = "0.1.0"
