"""marshmallow schemas: the only place where documents change shape (stored state, status, events, settings)."""
