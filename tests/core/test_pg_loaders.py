"""core.pg_loaders: PostgreSQL's timestamps read by `datetime.fromisoformat`, exactly as before.

The loader replaces Django's (psycopg's pure-Python one) on every PostgreSQL connection whose
datetimes are UTC. Each value must come back as the same aware UTC datetime that was sent, and
as psycopg's loader reads the same text; what that loader refuses is still refused.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import DataError, connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

from core import pg_loaders

UTC = datetime.UTC
TIMESTAMPTZ_OID = 1184


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: its timestamp loaders; this run uses {connection.vendor}")


def _read(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_postgresql_connection_reads_timestamps_with_it(postgresql) -> None:
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, 0)

    assert loader is pg_loaders.UTCTimestamptzLoader
    assert _read("SELECT '2026-12-04 01:20:42.5+00'::timestamptz") == datetime.datetime(
        2026, 12, 4, 1, 20, 42, 500000, tzinfo=UTC
    )


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.datetimes(
        min_value=datetime.datetime(1, 1, 2),
        max_value=datetime.datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [
                UTC,
                datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                datetime.timezone(-datetime.timedelta(hours=8)),
            ]
        ),
    )
)
def test_every_timestamp_comes_back_as_sent_and_as_psycopgs_loader_reads_it(postgresql, value) -> None:
    read = _read("SELECT %s::timestamptz", value)
    text = _read("SELECT %s::timestamptz::text", value)

    assert read == value and read.tzinfo is UTC
    assert read == PythonTimestamptzLoader(TIMESTAMPTZ_OID, connection.connection).load(text.encode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("literal", "message"), [("0044-03-15 00:00:00+00 BC", "before year 1"), ("infinity", "after year 10K")]
)
def test_what_python_cannot_hold_is_still_refused_by_psycopgs_loader(postgresql, literal, message) -> None:
    with pytest.raises(DataError, match=message):
        _read(f"SELECT '{literal}'::timestamptz")


@pytest.mark.django_db
def test_another_session_time_zone_still_gives_utc(postgresql) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")
        try:
            cursor.execute(
                "SELECT '2020-01-01 00:00:00.5+00'::timestamptz, '2020-01-01 00:00:00.5+00'::timestamptz::text"
            )
            value, text = cursor.fetchone()
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")

    assert text.endswith("+05:30")
    assert value == datetime.datetime(2020, 1, 1, 0, 0, 0, 500000, tzinfo=UTC) and value.tzinfo is UTC


@pytest.mark.parametrize(
    ("vendor", "timezone"),
    [("sqlite", UTC), ("postgresql", None), ("postgresql", datetime.timezone(datetime.timedelta(hours=1)))],
)
def test_it_is_installed_only_where_django_reads_utc_datetimes_from_postgresql(vendor, timezone) -> None:
    adapters = mock.Mock()
    fake = SimpleNamespace(vendor=vendor, timezone=timezone, connection=SimpleNamespace(adapters=adapters))

    pg_loaders.install(sender=None, connection=fake)

    adapters.register_loader.assert_not_called()
    pg_loaders.install(
        sender=None, connection=SimpleNamespace(vendor="postgresql", timezone=UTC, connection=fake.connection)
    )
    adapters.register_loader.assert_called_once_with("timestamptz", pg_loaders.UTCTimestamptzLoader)
