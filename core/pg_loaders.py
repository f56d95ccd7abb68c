"""PostgreSQL: read `timestamptz` values with `datetime.fromisoformat` (C) instead of a regex in Python.

Django registers its own loader for `timestamptz` on every psycopg connection, a subclass of
psycopg's pure-Python loader (psycopg's C loaders cannot be subclassed), so every timestamp a
query reads goes through a regular expression and a dozen Python calls: 100 of them in a list
page of 50 models, two per entry of the OpenAI catalog. Django sets the session's TimeZone to
UTC when USE_TZ is on, so PostgreSQL writes each value as `2026-12-04 01:20:42.123456+00`, which
`datetime.fromisoformat` reads as a UTC datetime, about 40 times faster. A value Python does not
read (a BC date, `infinity`) goes to psycopg's loader, which refuses it as before; another offset
(a session's `SET TIME ZONE`) is converted to UTC.

`install` is connected to `connection_created` (core.apps): it replaces Django's loader on the
new connection only when Django's would give UTC datetimes (USE_TZ on, no database TIME_ZONE).
`timezone` is the attribute Django's cursor compares with the connection's before it trusts a
connection's loader (`DatabaseWrapper.create_cursor`).
"""

from __future__ import annotations

import datetime
from typing import Any

from psycopg.adapt import Loader
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

UTC = datetime.UTC


class UTCTimestamptzLoader(Loader):
    """`timestamptz` in text, as a UTC datetime (see the module's docstring)."""

    timezone = UTC

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._fallback = PythonTimestamptzLoader(oid, context)

    def load(self, data: Any) -> datetime.datetime:
        try:
            value = datetime.datetime.fromisoformat(bytes(data).decode())
        except ValueError:  # not ISO 8601 as Python reads it: BC, infinity
            return self._fallback.load(data)
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None:  # never from timestamptz; read as psycopg would
            return self._fallback.load(data)
        return value.astimezone(UTC)


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On a new PostgreSQL connection whose datetimes Django reads as UTC, this module's loader."""
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    connection.connection.adapters.register_loader("timestamptz", UTCTimestamptzLoader)
