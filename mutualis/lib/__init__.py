"""Framework-free helpers: environment parsing, identifiers, tabular exports."""
