"""Metrics, structured logs and the request id that follows a request into OpenSearch."""
