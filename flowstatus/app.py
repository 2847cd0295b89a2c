"""The app factory: the single place where flowstatus is wired together."""

from __future__ import annotations

from flask import Flask, g, request

from flowstatus import ui
from flowstatus.api import auth, bulk, error_handlers, health, observability, openapi, search, status
from flowstatus.api.components import EXTENSION_KEY, Services
from flowstatus.api.converters import CONVERTERS
from flowstatus.api.params import response_options
from flowstatus.domain.access import AccessPolicy
from flowstatus.observability import metrics
from flowstatus.repository import StateRepository
from flowstatus.services.indexer import StatusIndexer
from flowstatus.services.long_poll import StatusWatcher
from flowstatus.settings import Settings, load_settings


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
        from flowstatus.repository.opensearch_state import OpenSearchStateRepository

        repository = OpenSearchStateRepository.from_settings(settings)
    app = Flask(__name__, static_folder="ui/static", template_folder="ui/templates")
    # Keep "//" and trailing slashes as sent: OpenSearch does not redirect.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.url_map.converters.update(CONVERTERS)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_bulk_bytes
    policy = AccessPolicy(settings.filter_by_backend_roles, settings.multi_tenancy)
    indexer = StatusIndexer(
        repository, retries=settings.conflict_retries, on_retry=metrics.CONFLICT_RETRIES.inc, policy=policy
    )
    watcher = StatusWatcher(
        repository,
        interval=settings.long_poll_interval,
        max_waiters=settings.long_poll_max_waiters,
        on_waiters=metrics.LONG_POLL_WAITERS.set,
    )
    app.extensions[EXTENSION_KEY] = Services(
        settings=settings, repository=repository, indexer=indexer, watcher=watcher, policy=policy
    )
    app.before_request(_parse_response_options)
    observability.init_app(app)
    auth.init_app(app, settings)
    error_handlers.init_app(app)
    app.register_blueprint(status.bp)
    app.register_blueprint(bulk.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    search.init_app(app, settings)
    ui.init_app(app)
    return app
