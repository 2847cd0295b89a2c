"""Use cases on top of the repository ports: recording events, reading and waiting for status, searching,
authenticating. No Flask here; failures are domain or store errors."""
