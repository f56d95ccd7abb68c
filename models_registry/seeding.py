"""Seed system models from a JSON catalog (`manage.py seed_system_models`).

The catalog (models_registry.catalog) is a JSON list of objects with the API's camelCase keys,
keyed on (provider, providerModelId). Every entry is checked (types through the catalog's
serializer, then the model's own validators, then uniqueness inside the file and against the
database) before anything is written; the
write is one transaction of bulk statements, so 10,000 entries take a few queries, not 10,000.
System models in the database that the file does not mention are left alone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from rest_framework import serializers
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core import generations
from models_registry import lifecycle
from models_registry.catalog import (  # noqa: F401 (load_catalog and CatalogError: the command's too)
    CAMEL_CASE,
    CATALOG_FIELDS,
    SEEDED_FIELDS,
    CatalogError,
    json_type,
    load_catalog,
)
from models_registry.models import AIModel
from models_registry.services import LIMIT_FIELDS, child_conflict_message, system_model_child_conflicts
from models_registry.slugs import slug_from

DEFAULT_CATALOG_PATH = Path(__file__).resolve().parent / "fixtures" / "system_models.json"

# Rows per INSERT / UPDATE statement. Django lowers it further where the backend needs
# (SQLite: 999 parameters per statement). UPDATE batches stay small because bulk_update
# writes one CASE WHEN per row and field, whose cost grows with the square of the batch.
CREATE_BATCH_SIZE = 500
UPDATE_BATCH_SIZE = 100
# Ids per query when looking up the user models built on the system models being changed.
LOOKUP_BATCH_SIZE = 500
MAX_REPORTED_ERRORS = 20
# Who made the change, in the historical rows (core.history's "system:<job>").
HISTORY_ACTOR = "system:seed"
HISTORY_CHANGE_REASON = "seed_system_models"


Key = tuple[str, str]


@dataclass
class SeedResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    # One line per created or updated row ("update openai/gpt-4o: contextWindow, maxTokens").
    changes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.dry_run:
            return f"dry run: would create {self.created}, update {self.updated}, leave {self.unchanged} unchanged"
        line = f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"
        if not self.created and not self.updated:
            line += " (nothing to change)"
        return line


# --- Validating entries --------------------------------------------------------------------


@dataclass
class _Entry:
    index: int  # 1-based, as error messages show it
    label: str  # "entry 3 (openai/gpt-4o)"
    instance: AIModel  # unsaved, validated
    successor_key: Key | None = None  # resolved to `instance.successor_id` by _resolve_successors
    slug_given: bool = True  # False: the default slug, used for a new row only

    @property
    def key(self) -> Key:
        return (self.instance.provider, self.instance.provider_model_id)


class _Errors:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.entries: set[int] = set()

    def add(self, index: int, label: str, message: str, field_name: str | None = None) -> None:
        self.entries.add(index)
        self.lines.append(f"{label}: {field_name}: {message}" if field_name else f"{label}: {message}")

    def raise_if_any(self) -> None:
        if not self.lines:
            return
        shown = self.lines[:MAX_REPORTED_ERRORS]
        hidden = len(self.lines) - len(shown)
        entries = len(self.entries)
        head = (
            f"invalid catalog, nothing written: {len(self.lines)} error(s) in "
            f"{entries} {'entry' if entries == 1 else 'entries'}:"
        )
        body = "\n".join(f"  {line}" for line in shown)
        tail = f"\n  ... and {hidden} more error(s)" if hidden else ""
        raise CatalogError(f"{head}\n{body}{tail}", self.lines)


def _label(index: int, raw: Any) -> str:
    if isinstance(raw, dict):
        provider, model_id = raw.get("provider"), raw.get("providerModelId")
        if isinstance(provider, str) and isinstance(model_id, str):
            return f"entry {index} ({provider.strip()}/{model_id.strip()})"
    return f"entry {index}"


def _validate_entry(index: int, raw: Any, errors: _Errors) -> _Entry | None:
    label = _label(index, raw)
    if not isinstance(raw, dict):
        errors.add(index, label, f"must be a JSON object, not {json_type(raw)}.")
        return None

    problems: list[tuple[str | None, str]] = []  # (camelCase key or None for the entry, message)
    for key in raw:
        if key not in CATALOG_FIELDS:
            close = difflib.get_close_matches(str(key), CATALOG_FIELDS, n=1)
            problems.append((str(key), f"Unknown field (did you mean {close[0]}?)." if close else "Unknown field."))

    values: dict[str, Any] = {}
    bad_fields: set[str] = set()
    for key, spec in CATALOG_FIELDS.items():
        if key not in raw:
            if spec.required:
                problems.append((key, "This field is required."))
                bad_fields.add(spec.field)
            else:
                values[spec.field] = spec.default
            continue
        try:
            values[spec.field] = spec.serializer_field.to_internal_value(raw[key])
        except serializers.ValidationError as exc:
            problems.extend((key, str(message)) for message in exc.detail)
            bad_fields.add(spec.field)

    successor_key = values.pop("successor_id", None)
    slug_given = values.get("slug") is not None
    if not slug_given:
        values["slug"] = slug_from(values.get("provider_model_id") or "")  # no query: see _check_unique_in_file
    instance = AIModel(is_system=True, parent=None, organization_id=None, **values)
    # full_clean() in its two steps, without validate_unique()/validate_constraints(): uniqueness
    # is checked below for the whole file at once, not with a query per row. Cross-field errors of
    # clean() about a field that already failed (or about maxTokens when contextWindow failed) are
    # dropped: "maxTokens must be below contextWindow (0)" adds nothing to "contextWindow: >= 1".
    field_errors: dict[str, list[str]] = {}
    try:
        instance.clean_fields(exclude=bad_fields)
    except ValidationError as exc:
        field_errors = exc.message_dict
    failed = bad_fields | field_errors.keys()
    row_errors: dict[str, list[str]] = {}
    try:
        instance.clean()
    except ValidationError as exc:
        row_errors = {
            name: messages
            for name, messages in exc.message_dict.items()
            if name not in failed and not (name == "max_tokens" and "context_window" in failed)
        }
    for field_name, messages in [*field_errors.items(), *row_errors.items()]:
        key = None if field_name == NON_FIELD_ERRORS else CAMEL_CASE.get(field_name, field_name)
        problems.extend((key, message) for message in messages)

    if not problems:
        return _Entry(index=index, label=label, instance=instance, successor_key=successor_key, slug_given=slug_given)
    # Unknown fields first, then in the catalog's field order, then errors about the whole entry.
    order = {key: position for position, key in enumerate(CATALOG_FIELDS)}
    problems.sort(key=lambda problem: len(order) if problem[0] is None else order.get(problem[0], -1))
    for key, message in problems:
        errors.add(index, label, message, key)
    return None


def _check_unique_in_file(entries: list[_Entry], errors: _Errors) -> None:
    by_key: dict[Key, _Entry] = {}
    by_name: dict[str, _Entry] = {}
    by_slug: dict[str, _Entry] = {}
    for entry in entries:
        first = by_key.setdefault(entry.key, entry)
        if first is not entry:
            errors.add(
                entry.index,
                entry.label,
                f"duplicate of entry {first.index}: provider and providerModelId must be unique in the file.",
            )
            continue
        first = by_slug.setdefault(entry.instance.slug, entry)
        if first is not entry:
            errors.add(entry.index, entry.label, f"{entry.instance.slug!r} is also the slug of {first.label}.", "slug")
        name = entry.instance.name
        first = by_name.setdefault(name.lower(), entry)
        if first is not entry:
            errors.add(
                entry.index,
                entry.label,
                f"{name!r} is also the name of {first.label}; names of system models are unique, ignoring case.",
                "name",
            )


def _check_names_against_database(entries: list[_Entry], existing: dict[Key, AIModel], errors: _Errors) -> None:
    """A name in the file may not belong to a system model that the file does not cover.

    Rows the file covers take the file's names, so swapping two names in one run is fine.
    """
    keys = {entry.key for entry in entries}
    taken = {row.name.lower(): row for key, row in existing.items() if key not in keys}
    slugs = {row.slug: row for key, row in existing.items() if key not in keys}
    for entry in entries:
        row = slugs.get(entry.instance.slug) if entry.slug_given or entry.key not in existing else None
        if row is not None:
            errors.add(
                entry.index,
                entry.label,
                f"{entry.instance.slug!r} is already the slug of the system model "
                f"{row.provider}/{row.provider_model_id}, which this file does not list.",
                "slug",
            )
        row = taken.get(entry.instance.name.lower())
        if row is not None:
            errors.add(
                entry.index,
                entry.label,
                f"{entry.instance.name!r} is already the name of the system model "
                f"{row.provider}/{row.provider_model_id}, which this file does not list.",
                "name",
            )


def _resolve_successors(entries: list[_Entry], existing: dict[Key, AIModel], errors: _Errors) -> None:
    """Each `successor` names a system model of the file or of the database that will be active
    and enabled after the seed, never the entry itself, and following successors never loops
    (`services.ensure_successor_fits`, for a whole catalog at once)."""
    in_file = {entry.key: entry for entry in entries}
    key_of_pk = {row.pk: key for key, row in existing.items()}
    successor_of: dict[Key, Key | None] = {
        key: key_of_pk.get(row.successor_id) for key, row in existing.items() if key not in in_file
    }
    for entry in entries:
        key = entry.successor_key
        successor_of[entry.key] = key
        if key is None:
            continue
        name = f"{key[0]}/{key[1]}"
        if key == entry.key:
            errors.add(entry.index, entry.label, "A model cannot be its own successor.", "successor")
            continue
        after_seed = in_file[key].instance if key in in_file else existing.get(key)
        if after_seed is None:
            errors.add(entry.index, entry.label, f"No system model {name} in the file or the database.", "successor")
            continue
        unfit = lifecycle.successor_unfit(name, after_seed.lifecycle_status(), is_enabled=after_seed.is_enabled)
        if unfit:
            errors.add(entry.index, entry.label, unfit, "successor")
            continue
        entry.instance.successor_id = existing[key].pk if key in existing else in_file[key].instance.pk
    for entry in entries:
        cycle = lifecycle.successor_cycle(entry.key, successor_of.get)
        if cycle:
            chain = " -> ".join(f"{provider}/{model_id}" for provider, model_id in cycle)
            errors.add(entry.index, entry.label, f"Successors would form a cycle: {chain}.", "successor")


def _check_children(updates: list[tuple[_Entry, AIModel, list[str]]], errors: _Errors) -> None:
    """The user models built on a changed system model must stay valid against its new limits."""
    watched = {row.pk: entry for entry, row, changed in updates if set(LIMIT_FIELDS).intersection(changed)}
    if not watched:
        return
    problems = system_model_child_conflicts(
        {pk: entry.instance for pk, entry in watched.items()}, batch_size=LOOKUP_BATCH_SIZE
    )
    for (parent_id, field_name), children in problems.items():
        entry = watched[parent_id]
        errors.add(entry.index, entry.label, child_conflict_message(field_name, children), CAMEL_CASE[field_name])


# --- The service ---------------------------------------------------------------------------


def seed_system_models(entries: list[dict], *, dry_run: bool) -> SeedResult:
    """Create or update one system model per catalog entry, all or nothing.

    Raises CatalogError (listing every bad entry, up to MAX_REPORTED_ERRORS lines) before
    writing anything if one entry is invalid. Rows not in `entries` are left alone.
    """
    errors = _Errors()
    valid = [entry for index, raw in enumerate(entries, start=1) if (entry := _validate_entry(index, raw, errors))]
    _check_unique_in_file(valid, errors)
    errors.raise_if_any()

    existing = {(row.provider, row.provider_model_id): row for row in AIModel.objects.filter(is_system=True)}
    _check_names_against_database(valid, existing, errors)
    _resolve_successors(valid, existing, errors)
    errors.raise_if_any()

    result = SeedResult(dry_run=dry_run)
    to_create: list[AIModel] = []
    to_update: list[tuple[_Entry, AIModel, list[str]]] = []
    for entry in valid:
        row = existing.get(entry.key)
        key = f"{entry.key[0]}/{entry.key[1]}"
        if row is None:
            to_create.append(entry.instance)
            result.changes.append(f"create {key}")
            continue
        if not entry.slug_given:
            entry.instance.slug = row.slug  # an existing row keeps its slug unless the file gives one
        changed = [name for name in SEEDED_FIELDS if getattr(row, name) != getattr(entry.instance, name)]
        if not changed:
            result.unchanged += 1
            continue
        to_update.append((entry, row, changed))
        result.changes.append(f"update {key}: {', '.join(CAMEL_CASE[name] for name in changed)}")
    _check_children(to_update, errors)
    errors.raise_if_any()

    result.created, result.updated = len(to_create), len(to_update)
    if dry_run or not (to_create or to_update):
        return result

    now = timezone.now()
    update_fields: set[str] = set()
    for entry, row, changed in to_update:
        for name in changed:
            setattr(row, name, getattr(entry.instance, name))
        row.updated_at = now  # bulk_update does not apply auto_now
        update_fields.update(changed)
    history = {
        "default_change_reason": HISTORY_CHANGE_REASON,
        "default_date": now,
        "custom_historical_attrs": {"history_actor": HISTORY_ACTOR},
    }
    try:
        with transaction.atomic():
            # The *_with_history helpers add one historical row per created or updated model,
            # in the same batches, since bulk statements send no save signals.
            if to_create:
                bulk_create_with_history(to_create, AIModel, batch_size=CREATE_BATCH_SIZE, **history)
            if to_update:
                bulk_update_with_history(
                    [row for _, row, _ in to_update],
                    AIModel,
                    [*sorted(update_fields), "updated_at"],
                    batch_size=UPDATE_BATCH_SIZE,
                    **history,
                )
            generations.bump_global()  # bulk statements send no save signals
    except DatabaseError as exc:
        # Most likely another writer created one of these system models since they were read.
        raise CatalogError(f"the database refused the changes, nothing written: {exc}") from exc
    return result
