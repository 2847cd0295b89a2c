"""The app factory: Flask, wired from the composition root."""

from __future__ import annotations

import atexit

from flask import Flask, g, request

from flowstatus import ui
from flowstatus.api import auth, bulk, error_handlers, health, methods, observability, openapi, status, steps
from flowstatus.api import search as search_route
from flowstatus.api.components import attach
from flowstatus.api.converters import CONVERTERS
from flowstatus.api.params import response_options
from flowstatus.api.status_fast import FastStatus
from flowstatus.composition import Components
from flowstatus.repository.port import StateRepository, StateSearch
from flowstatus.repository.step_port import StepStore, TemplateStore
from flowstatus.settings import Settings, load_settings


def _parse_response_options() -> None:
    # Parsed before any view, as OpenSearch's REST channel does, so that a bad
    # ``pretty`` is refused on every route and errors are pretty when asked.
    g.response_options = response_options(request.args)


def create_app(
    settings: Settings | None = None,
    *,
    components: Components | None = None,
    repository: StateRepository | None = None,
    search: StateSearch | None = None,
    step_store: StepStore | None = None,
    templates: TemplateStore | None = None,
    observe: bool = False,
) -> Flask:
    """Build the flowstatus WSGI app.

    Its collaborators come from ``components``, by default
    :class:`~flowstatus.composition.Components` for ``settings`` (default:
    :func:`flowstatus.settings.load_settings`, the environment), with
    ``repository``, ``search``, ``step_store`` and ``templates`` replacing
    the OpenSearch adapters when given.  Building the app opens no
    connection, unless ``observe`` is true and ``FLOWSTATUS_STEP_OBSERVER``
    on: then this process's step observer starts (``flowstatus serve`` does
    this in each worker; the lease keeps one observing per deployment).  An
    unusable users file raises
    :class:`~flowstatus.services.passwords.UsersFileError`, and an unusable
    OpenSearch CA bundle, client certificate, key or credential file
    :class:`~flowstatus.repository.errors.StoreSettingsError`, here, at start,
    not on a request.  What OpenSearch itself refuses (a CA that did not sign
    its certificate, missing permissions) ``/_ready`` says.
    """
    if components is None:
        components = Components(settings or load_settings(), repository=repository, search=search,
                                step_store=step_store, templates=templates)
    components.authenticator  # noqa: B018 - built now, so a bad users file stops the start
    components.repository  # noqa: B018 - built now (its clients read the TLS and credential files)
    app = Flask(__name__, static_folder="ui/static", template_folder="ui/templates")
    # Keep "//" and trailing slashes as sent: OpenSearch does not redirect.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.url_map.converters.update(CONVERTERS)
    app.config["MAX_CONTENT_LENGTH"] = components.settings.max_bulk_bytes
    attach(app, components)
    app.before_request(_parse_response_options)
    observability.init_app(app)
    auth.init_app(app)
    methods.init_app(app)
    error_handlers.init_app(app)
    for blueprint in (status.bp, steps.bp, bulk.bp, search_route.bp, health.bp, openapi.bp):
        app.register_blueprint(blueprint)
    ui.init_app(app)
    # Plain status reads skip Flask's per-request machinery; they answer as the view does.
    app.wsgi_app = FastStatus(  # type: ignore[method-assign]
        app.wsgi_app, components, app.view_functions["status.get_workflow_status"], status.STATUS_PATH)
    if observe and components.settings.step_observer:
        components.step_observer.start()
        # A worker that exits (SIGTERM, a restart) gives up its lease, so another
        # process observes at once instead of after the lease expires.
        atexit.register(components.step_observer.stop)
    return app
