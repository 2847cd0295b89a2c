"""The flowstatus app behind an ASGI front: each request handed to a pool of 16 threads (a2wsgi).

The shape an asynchronous server would take if it were to hold long polls on
its event loop while the Flask app runs in threads; bench/servers.py measures
what the hand-off costs a status read.
"""

from a2wsgi import WSGIMiddleware

from bench.wsgi_app import app as wsgi_app

app = WSGIMiddleware(wsgi_app, workers=16)  # type: ignore[arg-type]  # two spellings of one WSGI protocol
