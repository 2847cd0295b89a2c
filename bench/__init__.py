"""``make bench``: what flowstatus costs on top of OpenSearch (see bench/run.py)."""
