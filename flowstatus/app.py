"""The app factory: the single place where flowstatus is wired together."""

from __future__ import annotations

from flask import Flask, g, request

from flowstatus.api import error_handlers, events, health, status
from flowstatus.api.converters import CONVERTERS
from flowstatus.api.params import response_options
from flowstatus.api.services import EXTENSION_KEY, Services
from flowstatus.config import Settings, load_settings
from flowstatus.indexer import StatusIndexer
from flowstatus.repository import StateRepository


def _parse_response_options() -> None:
    # Parsed before any view, as OpenSearch's REST channel does, so that a bad
    # ``pretty`` is refused on every route and errors are pretty when asked.
    g.response_options = response_options(request.args)


def create_app(
    settings: Settings | None = None, *, repository: StateRepository | None = None
) -> Flask:
    """Build the flowstatus WSGI app.

    ``settings`` default to :func:`flowstatus.config.load_settings` (the
    environment); ``repository`` defaults to the OpenSearch adapter built
    from them.  Building the app opens no connection.
    """
    settings = settings or load_settings()
    if repository is None:
        from flowstatus.repository.opensearch import OpenSearchStateRepository

        repository = OpenSearchStateRepository.from_settings(settings)
    app = Flask(__name__)
    # Keep "//" and trailing slashes as sent: OpenSearch does not redirect.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.url_map.converters.update(CONVERTERS)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_bulk_bytes
    indexer = StatusIndexer(repository, retries=settings.conflict_retries)
    app.extensions[EXTENSION_KEY] = Services(settings=settings, repository=repository, indexer=indexer)
    app.before_request(_parse_response_options)
    error_handlers.init_app(app)
    app.register_blueprint(status.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(health.bp)
    return app
