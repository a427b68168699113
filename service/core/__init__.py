"""Cross-cutting plumbing shared by every capability: settings, database, errors, logging."""
