"""``make bench``: flowstatus against raw OpenSearch and the Flow Framework plugin's own endpoints (see bench/run.py)."""
