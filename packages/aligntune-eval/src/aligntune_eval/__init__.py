"""Evaluation metrics and the evaluator of AlignTune.

Not built yet: this release ships the package skeleton; the metrics are absent, not stubbed.
"""

__version__ = "0.1.0"
