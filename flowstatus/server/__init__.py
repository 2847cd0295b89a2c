"""The production WSGI server that runs the app."""
