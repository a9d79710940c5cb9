"""The TRL engine: TRL's trainers built from a resolved UnifiedConfig."""
