"""The HTTP layer: blueprints, parameter parsing, responses and error handling."""
