"""Strong ETags for status responses, so pollers can ask "has anything changed?".

A tag names one document version (``_primary_term`` and ``_seq_no``, which
every write changes) and one representation (``all``, ``filter_path``,
``pretty``): two different bodies never share a tag.
"""

from __future__ import annotations

import functools
import hashlib

from flask import Response

from flowstatus.api.params import ResponseOptions
from flowstatus.repository import Versioned

# Bump when the rendering of a status changes, so cached tags of the old
# rendering stop matching.
RENDERING = "1"


@functools.lru_cache(maxsize=256)  # a poller asks for the same few representations again and again
def representation_digest(representation: str) -> str:
    """A short digest of a representation's description, part of every tag."""
    return hashlib.blake2b(representation.encode(), digest_size=6).hexdigest()


def status_etag(versioned: Versioned, *, full: bool, options: ResponseOptions) -> str:
    """The (unquoted) strong ETag of this version in this representation."""
    digest = representation_digest(f"{RENDERING}|{int(full)}|{int(options.pretty)}|{options.filter_path or ''}")
    return f"{versioned.primary_term}-{versioned.seq_no}-{digest}"


def not_modified(etag: str) -> Response:
    """304 with no body."""
    response = Response(status=304)
    tag(response, etag)
    return response


def tag(response: Response, etag: str) -> Response:
    """Set the ETag, and ``Cache-Control: no-cache`` so caches revalidate every time."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response
