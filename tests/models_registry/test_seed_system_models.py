"""`manage.py seed_system_models`: the bundled catalog, idempotence, all-or-nothing validation.

A bad catalog file, problem by problem: test_seed_system_models_bad_files.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import AutoField, Model
from django.test.utils import CaptureQueriesContext

from models_registry import limits
from models_registry.models import AIModel
from models_registry.seeding import (
    CATALOG_FIELDS,
    CREATE_BATCH_SIZE,
    DEFAULT_CATALOG_PATH,
    HISTORY_ACTOR,
    UPDATE_BATCH_SIZE,
    load_catalog,
    seed_system_models,
)
from tests.factories import UserModelFactory
from tests.models_registry.seed_helpers import entry, seed, seed_error, stamps, write

pytestmark = pytest.mark.django_db


# --- The bundled catalog -------------------------------------------------------------------


def test_bundled_catalog_is_large_varied_and_valid() -> None:
    entries = load_catalog(DEFAULT_CATALOG_PATH)

    assert len(entries) >= 15
    assert len({item["provider"] for item in entries}) >= 4
    for item in entries:
        assert item["maxTokens"] < item["contextWindow"] <= limits.CONTEXT_WINDOW_MAX
        assert item["maxTokens"] <= limits.MAX_TOKENS_MAX
    result = seed_system_models(entries, dry_run=True)  # raises if one entry fails validation
    assert (result.created, result.updated, result.unchanged) == (len(entries), 0, 0)
    assert not AIModel.objects.exists()


def test_first_run_creates_every_bundled_model_as_a_system_model() -> None:
    count = len(load_catalog(DEFAULT_CATALOG_PATH))

    out = seed()

    assert f"created {count}, updated 0, unchanged 0" in out
    assert AIModel.objects.count() == count
    assert not AIModel.objects.exclude(is_system=True, parent=None, organization_id=None).exists()
    gpt = AIModel.objects.get(provider="openai", provider_model_id="gpt-4o")
    assert (gpt.context_window, gpt.max_tokens, gpt.supports_vision) == (128000, 16384, True)


def test_second_run_changes_nothing_and_says_so() -> None:
    count = len(load_catalog(DEFAULT_CATALOG_PATH))
    seed()
    before = stamps()

    out = seed()

    assert f"created 0, updated 0, unchanged {count} (nothing to change)" in out
    assert stamps() == before


def test_a_changed_entry_is_updated_and_only_it(tmp_path: Path) -> None:
    entries = [entry(n) for n in range(1, 6)]
    path = write(tmp_path, entries)
    seed("--file", str(path))
    before = stamps()
    entries[2]["contextWindow"] = 16384
    entries[2]["supportsVision"] = True
    write(tmp_path, entries)

    out = seed("--file", str(path), "--verbosity", "2")

    assert "created 0, updated 1, unchanged 4" in out
    assert "update provider-a/model-3: contextWindow, supportsVision" in out
    after = stamps()
    assert after["model-3"] > before["model-3"]
    assert {k: v for k, v in after.items() if k != "model-3"} == {k: v for k, v in before.items() if k != "model-3"}
    changed = AIModel.objects.get(provider_model_id="model-3")
    assert (changed.context_window, changed.supports_vision) == (16384, True)


def test_new_entries_are_created_next_to_existing_ones(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1)])
    seed("--file", str(path))
    write(tmp_path, [entry(1), entry(2)])

    assert "created 1, updated 0, unchanged 1" in seed("--file", str(path))


def test_rows_missing_from_the_file_are_left_alone(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1), entry(2)])))

    out = seed("--file", str(write(tmp_path, [entry(2)], "smaller.json")))

    assert "created 0, updated 0, unchanged 1" in out
    assert AIModel.objects.filter(provider_model_id="model-1").exists()


def test_credit_multiplier_as_number_or_string_is_the_same_value(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1, creditMultiplier=2.5)])))

    out = seed("--file", str(write(tmp_path, [entry(1, creditMultiplier="2.50")])))

    assert "unchanged 1" in out
    assert str(AIModel.objects.get().credit_multiplier.normalize()) == "2.5"


def test_optional_fields_take_their_defaults(tmp_path: Path) -> None:
    optional = [key for key, spec in CATALOG_FIELDS.items() if not spec.required]
    seed("--file", str(write(tmp_path, [entry(1, **dict.fromkeys(optional, ...))])))

    row = AIModel.objects.get()
    assert row.description == ""
    assert (row.supports_streaming, row.is_enabled) == (True, True)
    assert (row.supports_tools, row.supports_vision, row.supports_reasoning) == (False, False, False)


def test_text_fields_are_trimmed_like_the_api_does(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1, name="  Padded  ", provider=" provider-a ")])))

    row = AIModel.objects.get()
    assert (row.name, row.provider) == ("Padded", "provider-a")


# --- All or nothing ------------------------------------------------------------------------


def test_one_bad_entry_among_good_ones_writes_nothing(tmp_path: Path) -> None:
    bad = entry(provider="provider-a", providerModelId="broken-1", name="Broken", contextWindow=0)
    path = write(tmp_path, [entry(1), bad, entry(3)])

    message = seed_error(path)

    assert "entry 2 (provider-a/broken-1): contextWindow: Ensure this value is greater than or equal to 1." in message
    assert "nothing written" in message
    assert not AIModel.objects.exists()


def test_a_bad_entry_also_blocks_updates_to_existing_rows(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1), entry(2)])
    seed("--file", str(path))
    before = stamps()
    write(tmp_path, [entry(1, contextWindow=32768), entry(2, maxTokens=0), entry(3)])

    seed_error(path)

    assert stamps() == before
    assert AIModel.objects.get(provider_model_id="model-1").context_window == 8192


def test_every_bad_entry_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1, maxTokens=0), entry(2), entry(3, creditMultiplier="-1", supportsTools="yes")])

    message = seed_error(path)

    assert "3 error(s) in 2 entries" in message
    assert "entry 1 (provider-a/model-1): maxTokens: Ensure this value is greater than or equal to 1." in message
    assert "entry 3 (provider-a/model-3): creditMultiplier: Ensure this value is greater than 0." in message
    assert "entry 3 (provider-a/model-3): supportsTools: Must be true or false (got a string)." in message


def test_the_report_is_capped(tmp_path: Path) -> None:
    message = seed_error(write(tmp_path, [entry(n, contextWindow=0) for n in range(1, 31)]))

    assert "30 error(s) in 30 entries" in message
    assert "entry 20 (" in message
    assert "entry 21 (" not in message
    assert "... and 10 more error(s)" in message


# --- Rows built on a system model ----------------------------------------------------------


def test_a_change_that_would_break_a_user_model_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1, contextWindow=128000, maxTokens=8192)])
    seed("--file", str(path))
    parent = AIModel.objects.get()
    UserModelFactory(name="Support bot", organization_id="org-a", parent=parent, context_window=100000, max_tokens=None)
    write(tmp_path, [entry(1, contextWindow=32768, maxTokens=8192, supportsStreaming=False)])

    message = seed_error(path)

    assert "entry 1 (provider-a/model-1): contextWindow: 1 user model(s) built on this model" in message
    assert "'Support bot' (org-a)" in message
    assert "supportsStreaming: 1 user model(s)" in message
    assert AIModel.objects.get(pk=parent.pk).context_window == 128000


def test_a_change_that_keeps_user_models_valid_is_applied(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1, contextWindow=128000, maxTokens=8192)])
    seed("--file", str(path))
    UserModelFactory(name="Support bot", organization_id="org-a", parent=AIModel.objects.get(), context_window=32000)
    write(tmp_path, [entry(1, contextWindow=64000, maxTokens=16000)])

    assert "updated 1" in seed("--file", str(path))


# --- Dry run ---------------------------------------------------------------------------------


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    count = len(load_catalog(DEFAULT_CATALOG_PATH))

    out = seed("--dry-run")

    assert f"dry run: would create {count}, update 0, leave 0 unchanged" in out
    assert not AIModel.objects.exists()


def test_dry_run_reports_updates_without_applying_them(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1), entry(2)])
    seed("--file", str(path))
    before = stamps()
    write(tmp_path, [entry(1, isEnabled=False), entry(2), entry(3)])

    out = seed("--file", str(path), "--dry-run")

    assert "dry run: would create 1, update 1, leave 1 unchanged" in out
    assert stamps() == before
    assert AIModel.objects.get(provider_model_id="model-1").is_enabled


def test_dry_run_still_reports_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="entry 1"):
        seed("--file", str(write(tmp_path, [entry(1, maxTokens=0)])), "--dry-run")


# --- History ---------------------------------------------------------------------------------


def test_created_and_updated_models_get_a_historical_row_by_the_seed(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(1), entry(2)])
    seed("--file", str(path))
    write(tmp_path, [entry(1, maxTokens=2048), entry(2)])
    seed("--file", str(path))
    seed("--file", str(path))  # unchanged: no new historical row

    changed = AIModel.objects.get(provider_model_id="model-1")
    records = list(changed.history.order_by("history_date", "history_id"))
    assert [(r.history_type, r.max_tokens) for r in records] == [("+", 4096), ("~", 2048)]
    assert {r.history_actor for r in records} == {HISTORY_ACTOR}
    assert records[-1].history_date == changed.updated_at
    assert AIModel.objects.get(provider_model_id="model-2").history.count() == 1


def test_a_dry_run_or_a_bad_catalog_adds_no_history(tmp_path: Path) -> None:
    seed("--file", str(write(tmp_path, [entry(1)])), "--dry-run")
    with pytest.raises(CommandError):
        seed("--file", str(write(tmp_path, [entry(1), entry(2, maxTokens=0)])))

    assert not AIModel.history.exists()


# --- Query counts ----------------------------------------------------------------------------


def batches(model: type[Model], count: int, batch_size: int) -> int:
    """How many INSERT statements bulk_create needs for `count` new rows of `model` on this
    backend: SQLite allows 999 parameters per statement, so fewer rows fit in one than on
    PostgreSQL. (Same field list as QuerySet.bulk_create: no auto-increment key when unset.)"""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoField)]
    size = min(batch_size, connection.ops.bulk_batch_size(fields, [None] * count))
    return math.ceil(count / size)


def run_captured(entries: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The INSERT statements and the other statements of one seeding."""
    with CaptureQueriesContext(connection) as ctx:
        seed_system_models(entries, dry_run=False)
    statements = [query["sql"] for query in ctx.captured_queries]
    inserts = [sql for sql in statements if sql.startswith("INSERT")]
    return inserts, [sql for sql in statements if not sql.startswith("INSERT")]


def test_creating_1_or_200_models_takes_the_same_queries_but_insert_batches() -> None:
    one_inserts, one_others = run_captured([entry(1)])
    AIModel.objects.all().delete()
    many_inserts, many_others = run_captured([entry(n) for n in range(1, 201)])

    assert len(one_inserts) == 2  # the models and their historical rows
    # PostgreSQL: 1 + 1 batches, the same as for one model. SQLite: its parameter limit splits them.
    assert len(many_inserts) == batches(AIModel, 200, CREATE_BATCH_SIZE) + batches(
        AIModel.history.model, 200, CREATE_BATCH_SIZE
    )
    assert len(many_others) == len(one_others)
    assert AIModel.objects.count() == 200


def test_an_unchanged_run_takes_one_query_whatever_the_size() -> None:
    small, large = [entry(1)], [entry(n) for n in range(1, 201)]
    seed_system_models(large, dry_run=False)

    for inserts, others in (run_captured(small), run_captured(large)):
        assert inserts == []
        assert len(others) == 1
        assert others[0].startswith("SELECT")


def test_updating_1_or_100_models_takes_the_same_queries_but_insert_batches() -> None:
    entries = [entry(n) for n in range(1, 101)]
    seed_system_models(entries, dry_run=False)

    one_inserts, one_others = run_captured([entry(1, description="new"), *entries[1:]])
    many_inserts, many_others = run_captured([entry(n, description="newer") for n in range(1, 101)])

    assert UPDATE_BATCH_SIZE >= 100
    assert len(many_others) == len(one_others)  # a SELECT and a single UPDATE (plus savepoints)
    assert len(one_inserts) == 1
    assert len(many_inserts) == batches(AIModel.history.model, 100, UPDATE_BATCH_SIZE)
    assert AIModel.objects.filter(description="newer").count() == 100
