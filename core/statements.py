"""Prepared statements for the hottest reads, and SQL the ORM compiles once per process.

PostgreSQL parses and plans every statement it is sent. Django's psycopg cursors bind values
on the client (`ClientCursor`), so a statement's text changes with its values and is planned
again each time: the models list's page spent 0.6 ms of its 0.85 ms of database CPU planning
(measured on this project's benchmark data, psycopg in a loop). A prepared statement is parsed
and planned once per database connection and then only executed.

- `cursor()` is a cursor whose statements are prepared: psycopg's server-binding cursor with
  `prepare=True`, wrapped as Django wraps its own (query counts, the debug log and
  `connection.execute_wrapper` see its statements). On SQLite, or with
  `DATABASE_PREPARED_STATEMENTS=false` (a pooler that cannot keep them, see the README), it is
  Django's ordinary cursor. Only statements of fixed text belong there (values as parameters,
  never written into the SQL): psycopg keeps the last 100 of a connection prepared.
- psycopg deallocates a connection's prepared statements on every ROLLBACK (a savepoint's
  too: a refused write inside a transaction) and after DDL, and prepares each again on its next
  use; a statement whose result type a migration changed fails once on each connection and is
  prepared again.
- `Template` is a statement built from querysets, compiled by the ORM once per process instead
  of on every request: the querysets are built with a marker in place of each value that
  changes from call to call (`Template.compile`), and each call binds the values to the
  markers' places. The querysets stay the one home of their rules (the selectors'); the
  template only skips compiling them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg.pq import Format

_TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid


class PreparingCursor(psycopg.Cursor):
    """psycopg's server-binding cursor that prepares every statement it runs."""

    def execute(self, query, params=None, *, prepare=None, binary=None):  # noqa: ANN001 (psycopg's signature)
        return super().execute(query, params, prepare=True, binary=binary)


def prepares(using: str = "default") -> bool:
    """Whether `cursor(using)` prepares its statements."""
    return connections[using].vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


def cursor(using: str = "default") -> CursorWrapper:
    """A cursor of the connection `using` whose statements are prepared (see the module)."""
    connection = connections[using]
    if not prepares(using):
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = PreparingCursor(connection.connection)
    # As Django's own cursors: timestamps in the connection's time zone where its loader's differs.
    loader = raw.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
    if getattr(loader, "timezone", None) != connection.timezone:
        register_tzloader(connection.timezone, raw)
    return PreparedDebugWrapper(raw, connection) if connection.queries_logged else connection.make_cursor(raw)


class PreparedDebugWrapper(CursorDebugWrapper):
    """Django's debug wrapper (`connection.queries`, the `django.db.backends` log), recording the
    statement with its values written in: a server-binding cursor has no text of that to give."""

    def execute(self, sql, params=None):  # noqa: ANN001 (Django's signature)
        with self.debug_sql(self._logged(sql, params), params):
            return CursorWrapper.execute(self, sql, params)

    def _logged(self, sql: str, params: Sequence[Any] | None) -> str:
        if not params:
            return sql
        try:
            return self.db.ops.compose_sql(sql, params)
        except psycopg.DataError:  # a value that cannot be written in: the statement as sent
            return sql


def fetch_rows(sql: str, params: Sequence[Any], using: str = "default") -> list[tuple]:
    """The rows of a prepared statement."""
    with cursor(using) as db:
        db.execute(sql, params)
        return db.fetchall()


# --- Templates ---------------------------------------------------------------------------------


class Slot:
    """The place of a named value in a template's parameters."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Markers:
    """Values to build a template's querysets with, one per slot, that no real value equals.

    `text(name)` stands for a string (a filter's value: `organization_id=markers.text("org")`),
    `uuids(name)` for a list of UUIDs (as one array parameter: `pk__any=markers.uuids("ids")`).
    """

    def __init__(self) -> None:
        self._by_value: dict[Any, str] = {}
        self._texts: list[str] = []

    def text(self, name: str) -> str:
        value = f"\x1eslot:{name}:{uuid.uuid4().hex}"
        self._by_value[value] = name
        self._texts.append(value)
        return value

    def uuids(self, name: str) -> list[uuid.UUID]:
        value = uuid.uuid4()
        self._by_value[(value,)] = name
        self._texts.extend((str(value), value.hex))  # as PostgreSQL and as SQLite take a UUID
        return [value]

    def slot_of(self, param: Any) -> Slot | None:
        """The slot a compiled parameter stands for; None for a constant. A marker changed on its
        way into the SQL (quoted, cast, wrapped in `%...%`) is refused: its place could not be bound."""
        if isinstance(param, Slot):
            return param
        key = tuple(param) if isinstance(param, (list, tuple)) else param
        try:
            if key in self._by_value:
                return Slot(self._by_value[key])
        except TypeError:  # an unhashable constant
            pass
        self.refuse_in(param if isinstance(param, str) else repr(param), "a parameter")
        return None

    def refuse_in(self, text: str, where: str) -> None:
        for marker in self._texts:
            if marker in text:
                raise ImproperlyConfigured(
                    f"A template's marker reached {where} changed ({text[:80]!r}): "
                    "build the queryset with it as a filter's value."
                )


class Template:
    """A statement's SQL and its parameters, constants and slots, compiled once."""

    def __init__(self, sql: str, params: Sequence[Any]) -> None:
        self.sql = sql
        self.params = list(params)
        self.slots = {param.name for param in self.params if isinstance(param, Slot)}

    @classmethod
    def compile(cls, build: Callable[[Markers], tuple[str, Sequence[Any]]]) -> Template:
        """The template of what `build(markers)` returns, SQL and parameters (compiled from
        querysets built with the markers, and `Slot`s for the parameters it writes itself)."""
        markers = Markers()
        sql, params = build(markers)
        markers.refuse_in(sql, "the SQL text")
        slots = [markers.slot_of(param) for param in params]
        return cls(sql, [slot if slot is not None else param for slot, param in zip(slots, params, strict=True)])

    def bind(self, **values: Any) -> list[Any]:
        """The parameters with each slot's value."""
        missing = self.slots - set(values)
        if missing:
            raise TypeError(f"A value for {', '.join(sorted(missing))} is missing.")
        return [values[param.name] if isinstance(param, Slot) else param for param in self.params]
