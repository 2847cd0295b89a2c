"""flowstatus: the OpenSearch Flow Framework's workflow status, served and recorded."""

__version__ = "0.1.0"
