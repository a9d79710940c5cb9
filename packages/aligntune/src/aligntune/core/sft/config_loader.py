"""``from aligntune.core.sft.config_loader import SFTConfigLoader`` (the spec's path).

SFTConfigLoader is aligntune_config's ConfigLoader with ``algo: sft`` as the default, so the spec's SFT
YAML (which has no ``algo`` key) loads into a UnifiedConfig.
"""

from aligntune_config.loader import SFTConfigLoader

__all__ = ["SFTConfigLoader"]
