"""SFT helpers at the spec's module path."""
