"""Algorithm definitions and their maths (losses, advantages, PPO, NM-GRPO, Meta-ES) for AlignTune.

Not built yet: this release ships the package skeleton; the algorithms are absent, not stubbed.
"""

__version__ = "0.1.0"
