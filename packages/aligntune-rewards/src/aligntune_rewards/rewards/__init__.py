"""The built-in rewards, one module per family. Each module lists its classes in ``REWARDS`` and its
alias names in ``ALIASES``; ``aligntune_rewards`` registers them all at import."""
