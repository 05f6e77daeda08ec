"""Cross-cutting pieces: base model, audit log, tenancy, layout and home page."""
