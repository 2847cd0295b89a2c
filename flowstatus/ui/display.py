"""How the status page writes times and durations (Jinja filters)."""

from __future__ import annotations

import datetime as dt

from flask import Flask


def utc_time(epoch_ms: int | None) -> str:
    """``2024-03-14 16:26:01 UTC``; an empty string for no time."""
    if epoch_ms is None:
        return ""
    try:
        moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return str(epoch_ms)  # outside what datetime can hold: show the stored number
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(epoch_ms: int | None) -> str:
    """The ISO 8601 form for a ``<time datetime>`` attribute; empty if there is none."""
    if epoch_ms is None:
        return ""
    try:
        return dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        return ""


def duration(ms: int | None) -> str:
    """``850 ms``, ``12.3 s``, ``4 min 5 s``, ``2 h 3 min``, ``3 d 4 h``; empty for none."""
    if ms is None:
        return ""
    if ms < 0:
        return "-" + duration(-ms)
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    seconds = ms // 1000
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def init_app(app: Flask) -> None:
    """Register the filters on ``app``'s Jinja environment."""
    app.add_template_filter(utc_time)
    app.add_template_filter(iso_time)
    app.add_template_filter(duration)
