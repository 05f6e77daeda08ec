"""Commands that load or generate demo data."""
