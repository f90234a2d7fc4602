"""The canonical experiment suite (data): specs, per-claim READMEs and suite.toml."""
