"""Export and import of an organization's configuration: its user models, particles and compositions
as one JSON document (`GET /v1/export`, `POST /v1/import`).

The document refers to objects by what stays the same from one organization (or one deployment) to
the next, never by database id:

- a user model by its `slug`; its `parent` by the system model's slug;
- a particle or a composition by its `name` (they have no slug; a name is what a person finds them
  by), with a `scope`: `organization` for the organization's own, `global` for staff's.

So the organization's own particles and compositions must each have a distinct name to be exported
(`Conflict` otherwise, naming them), and so must the global ones the document refers to.

An import matches each object of the document to the organization's object with the same key and
creates it, updates it or leaves it unchanged. It never deletes: an object missing from the
document is left as it is. Every write goes through the services the API uses (particle,
composition and user model create/update), after the model's own `full_clean()` as the API's
serializers run it, so every rule, version, audit event and cache bump happens as for the API.
The whole import is one transaction: any object in error and nothing is written. A dry run does
the same work and rolls it back, so its report is what the real run would do.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.db import validate_for_write
from core.exceptions import Conflict, reference_of
from core.serializers import iso_timestamp
from models_registry import limits, services
from models_registry.entitlements import EntitledSet, entitled_set
from models_registry.models import AIModel
from prompts import selectors as prompt_selectors
from prompts import services as prompt_services
from prompts.models import ParticleKind, PromptComposition, PromptParticle

FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = (FORMAT_VERSION,)


class Scope(StrEnum):
    """Whose particle or composition a reference names."""

    ORGANIZATION = "organization"
    GLOBAL = "global"


class Result(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


# {model attribute: the document's name} of each kind of object, in the document's key order.
# A reference (`parent`, `system_prompt_composition`, `particle_ids`) is written as a key, not an id.
PARTICLE_FIELDS = {"name": "name", "kind": "kind", "content": "content"}
COMPOSITION_FIELDS = {"name": "name", "description": "description", "particle_ids": "particles"}
MODEL_FIELDS = {
    "slug": "slug",
    "name": "name",
    "description": "description",
    "parent": "parent",
    "context_window": "contextWindow",
    "max_tokens": "maxTokens",
    "supports_streaming": "supportsStreaming",
    "is_enabled": "isEnabled",
    "system_prompt_composition": "systemPromptComposition",
    "system_prompt_override": "systemPromptOverride",
}
# The document's lists, in the order they are applied (a composition needs its particles, a model
# its composition).
SECTIONS = ("particles", "compositions", "models")


# --- Export ------------------------------------------------------------------------------------


def _scope_of(obj: PromptParticle | PromptComposition) -> Scope:
    return Scope.GLOBAL if obj.is_system else Scope.ORGANIZATION


def reference(obj: PromptParticle | PromptComposition) -> dict[str, str]:
    return {"scope": _scope_of(obj).value, "name": obj.name}


def _ensure_names_distinct(objects: Iterable[models.Model], what: str) -> None:
    """A name identifies a particle or composition in the document: two with one name cannot be told
    apart by an import, so the export is refused with both named (409)."""
    by_key: dict[tuple[bool, str], list[models.Model]] = defaultdict(list)
    for obj in objects:
        by_key[(obj.is_system, obj.name)].append(obj)
    shared = [group for group in by_key.values() if len(group) > 1]
    if shared:
        names = ", ".join(sorted(f"{group[0].name!r} ({len(group)})" for group in shared))
        raise Conflict(
            f"Several {what} share a name ({names}); a name identifies a {what[:-1]} in an export. "
            "Rename all but one of each before exporting.",
            references=[reference_of(obj) for group in shared for obj in group],
        )


def ensure_countable(counts: dict[str, int]) -> None:
    """`Conflict` when a list of the document (`counts`: its length per section) would hold more
    than TRANSFER_MAX_ITEMS objects, the most an import takes, naming which."""
    too_long = [name for name in SECTIONS if counts[name] > limits.TRANSFER_MAX_ITEMS]
    if too_long:
        listed = ", ".join(f"{counts[name]} {name}" for name in too_long)
        raise Conflict(
            f"This configuration is too large for one document ({listed}; an import takes at most "
            f"{limits.TRANSFER_MAX_ITEMS} of each)."
        )


def ensure_importable(document: dict[str, Any]) -> None:
    """An export is only worth making if an import takes it: `Conflict` when a list holds more than
    TRANSFER_MAX_ITEMS objects or the document is larger than a request body may be
    (DATA_UPLOAD_MAX_MEMORY_SIZE), naming which."""
    ensure_countable({name: len(document[name]) for name in SECTIONS})
    size = len(orjson.dumps(document))
    if size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise Conflict(
            f"This configuration is too large for one document ({size} bytes; an import takes at most "
            f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE}, the request size limit DATA_UPLOAD_MAX_MEMORY_SIZE)."
        )


def export_document(*, organization_id: str, organization_slug: str | None = None) -> dict[str, Any]:
    """The organization's user models, particles and compositions as one document (FORMAT_VERSION).

    Deterministic: the same configuration always gives the same document but for `exportedAt`
    (particles and compositions by name, models by slug, a composition's particles in order).
    `Conflict` when two particles or compositions it names share a name (see the module), or when
    no import could take it (`ensure_importable`): a list over the import's bound is refused from
    its count, before any of it is read (an organization of 100,000 models is one index count,
    not 100,000 rows read to be refused).
    """
    own = {
        "particles": PromptParticle.objects.filter(is_system=False, organization_id=organization_id),
        "compositions": PromptComposition.objects.filter(is_system=False, organization_id=organization_id),
        "models": AIModel.objects.filter(is_system=False, organization_id=organization_id),
    }
    ensure_countable({name: queryset.count() for name, queryset in own.items()})
    particles = list(own["particles"].order_by("name", "id"))
    compositions = list(prompt_selectors.with_particles(own["compositions"]).order_by("name", "id"))
    user_models = list(own["models"].select_related("parent", "system_prompt_composition").order_by("slug", "id"))
    used_particles = {item.particle for composition in compositions for item in composition.items.all()}
    used_compositions = {model.system_prompt_composition for model in user_models if model.system_prompt_composition}
    # The global objects referred to, against every global object of their name.
    global_particle_names = {particle.name for particle in used_particles if particle.is_system}
    global_composition_names = {composition.name for composition in used_compositions if composition.is_system}
    _ensure_names_distinct(
        [*particles, *PromptParticle.objects.filter(is_system=True, name__in=global_particle_names)], "particles"
    )
    _ensure_names_distinct(
        [*compositions, *PromptComposition.objects.filter(is_system=True, name__in=global_composition_names)],
        "compositions",
    )
    document = {
        "formatVersion": FORMAT_VERSION,
        "exportedAt": iso_timestamp(timezone.now()),
        "organization": {"id": organization_id, "slug": organization_slug},
        "particles": [
            {"name": particle.name, "kind": particle.kind, "content": particle.content} for particle in particles
        ],
        "compositions": [
            {
                "name": composition.name,
                "description": composition.description,
                "particles": [
                    reference(item.particle) for item in sorted(composition.items.all(), key=lambda i: i.position)
                ],
            }
            for composition in compositions
        ],
        "models": [
            {
                "slug": model.slug,
                "name": model.name,
                "description": model.description,
                "parent": model.parent.slug,
                "contextWindow": model.context_window,
                "maxTokens": model.max_tokens,
                "supportsStreaming": model.supports_streaming,
                "isEnabled": model.is_enabled,
                "systemPromptComposition": reference(model.system_prompt_composition)
                if model.system_prompt_composition
                else None,
                "systemPromptOverride": model.system_prompt_override,
            }
            for model in user_models
        ],
    }
    ensure_importable(document)
    return document


# --- Import ------------------------------------------------------------------------------------


@dataclass
class ObjectReport:
    """What the import did, or would do, with one object of the document."""

    path: str  # where it is in the document: "models[2]"
    type: str  # "prompt-particle", "prompt-composition" or "model"
    key: str  # its name (a particle, a composition) or slug (a model)
    result: Result = Result.UNCHANGED
    id: Any = None  # the organization's object it matched or became (None when created in a dry run)
    errors: dict[str, list[str]] = field(default_factory=dict)  # keyed by document path, as a 400's


@dataclass
class ImportReport:
    dry_run: bool
    objects: list[ObjectReport]

    @property
    def errors(self) -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for report in self.objects:
            for path, messages in report.errors.items():
                merged.setdefault(path, []).extend(messages)
        return merged

    @property
    def valid(self) -> bool:
        return not any(report.errors for report in self.objects)

    def summary(self) -> dict[str, int]:
        counts = {result.value: 0 for result in Result}
        for report in self.objects:
            counts[report.result.value] += 1
        return counts


class _ObjectError(Exception):
    """One object of the document cannot be applied: {document field name or "": [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _fail(name: str, message: str) -> _ObjectError:
    return _ObjectError({name: [message]})


def _as_object_errors(exc: ValidationError, names: dict[str, str]) -> dict[str, list[str]]:
    """A model's or service's `ValidationError` keyed by the document's names ("" for the object)."""
    if not hasattr(exc, "error_dict"):
        return {"": exc.messages}
    errors: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        errors.setdefault(names.get(key, "") if key != NON_FIELD_ERRORS else "", []).extend(messages)
    return errors


def _changes(instance: models.Model, data: dict[str, Any]) -> dict[str, Any]:
    """The values of `data` that differ from the instance's (relations compared by id)."""
    changed = {}
    for name, value in data.items():
        current = getattr(instance, name)
        if isinstance(value, models.Model) or isinstance(current, models.Model):
            if getattr(current, "pk", None) != getattr(value, "pk", None):
                changed[name] = value
        elif current != value:
            changed[name] = value
    return changed


def _one(objects: list, *, name: str, what: str, where: str) -> Any:
    """The only object of a name, or None; several are an error naming `name`."""
    if len(objects) > 1:
        raise _fail(
            name,
            f"{len(objects)} {what}{where} are named {objects[0].name!r}; an import cannot tell them apart. "
            "Rename all but one.",
        )
    return objects[0] if objects else None


class _Importer:
    def __init__(self, organization_id: str, actor: str, document: dict[str, Any]) -> None:
        self.organization_id = organization_id
        self.actor = actor
        self.document = document
        self.reports: list[ObjectReport] = []
        self._entitled: EntitledSet | None = None
        # What the document's own particles and compositions became, by name (None: in error).
        self.imported: dict[str, dict[str, Any]] = {"particles": {}, "compositions": {}}
        self.paths: dict[str, dict[str, str]] = {"particles": {}, "compositions": {}}
        own = {"is_system": False, "organization_id": organization_id}
        self.own_particles = self._by_name(PromptParticle.objects.filter(**own))
        self.own_compositions = self._by_name(PromptComposition.objects.filter(**own))
        self.global_particles = self._by_name(self._referenced_globals(PromptParticle, "particles"))
        self.global_compositions = self._by_name(self._referenced_globals(PromptComposition, "compositions"))

    @staticmethod
    def _by_name(queryset: models.QuerySet) -> dict[str, list]:
        grouped: dict[str, list] = defaultdict(list)
        for obj in queryset.order_by("created_at", "id"):
            grouped[obj.name].append(obj)
        return grouped

    def _referenced_globals(self, model: type[models.Model], kind: str) -> models.QuerySet:
        if kind == "particles":
            refs = [ref for item in self.document["compositions"] for ref in item["particle_ids"]]
        else:
            refs = [item.get("system_prompt_composition") for item in self.document["models"]]
        names = {ref["name"] for ref in refs if ref and ref["scope"] == Scope.GLOBAL}
        return model.objects.filter(is_system=True, name__in=names)

    # --- Running ------------------------------------------------------------------------------
    def run(self) -> list[ObjectReport]:
        appliers: dict[str, tuple[str, str, Callable[[dict[str, Any], ObjectReport], None]]] = {
            "particles": ("prompt-particle", "name", self._particle),
            "compositions": ("prompt-composition", "name", self._composition),
            "models": ("model", "slug", self._model),
        }
        for section in SECTIONS:
            object_type, key_field, apply = appliers[section]
            for index, item in enumerate(self.document[section]):
                path = f"{section}[{index}]"
                report = ObjectReport(path=path, type=object_type, key=item[key_field])
                self.reports.append(report)
                try:
                    with transaction.atomic():  # one object's partial writes go if it fails
                        apply(item, report)
                except _ObjectError as exc:
                    report.result = Result.ERROR
                    report.errors = {
                        f"{path}.{name}" if name else path: messages for name, messages in exc.errors.items()
                    }
                if section in self.imported:
                    self.paths[section][item["name"]] = path
        return self.reports

    def _write(
        self,
        report: ObjectReport,
        *,
        existing: models.Model | None,
        candidate: models.Model,
        data: dict[str, Any],
        changed: dict[str, Any],
        names: dict[str, str],
        exclude: set[str],
        create: Callable[[dict[str, Any]], models.Model],
        update: Callable[[models.Model, dict[str, Any]], models.Model],
    ) -> models.Model:
        """Create (`data`) or update (`changed`) through the service, after the model's own checks on
        the new state (`candidate`); or, with nothing changed, leave the object as it is."""
        if existing is not None and not changed:
            report.result, report.id = Result.UNCHANGED, existing.pk
            return existing
        columns = {model_field.name for model_field in candidate._meta.concrete_fields}
        for name, value in (data if existing is None else changed).items():
            if name in columns:
                setattr(candidate, name, value)
        try:
            validate_for_write(candidate, exclude=exclude)
            obj = create(data) if existing is None else update(existing, changed)
        except ValidationError as exc:
            raise _ObjectError(_as_object_errors(exc, names)) from exc
        except Conflict as exc:
            raise _ObjectError({"": [exc.message]}) from exc
        report.result = Result.CREATED if existing is None else Result.UPDATED
        report.id = obj.pk
        return obj

    # --- Each kind of object ------------------------------------------------------------------
    def _particle(self, item: dict[str, Any], report: ObjectReport) -> None:
        name = item["name"]
        self.imported["particles"][name] = None
        existing = _one(self.own_particles.get(name, []), name="name", what="particles", where=" of your organization")
        data = {"name": name, "kind": item.get("kind", ParticleKind.CUSTOM), "content": item["content"]}
        owner = {"organization_id": self.organization_id, "is_system": False}
        self.imported["particles"][name] = self._write(
            report,
            existing=existing,
            candidate=copy.copy(existing) if existing else PromptParticle(**owner, **data),
            data=data,
            changed=_changes(existing, data) if existing else data,
            names=PARTICLE_FIELDS,
            exclude=set(),
            create=lambda data: prompt_services.particle_create(
                organization_id=self.organization_id, actor=self.actor, data=data
            ),
            update=lambda obj, changed: prompt_services.particle_update(particle=obj, actor=self.actor, data=changed),
        )

    def _resolve(self, kind: str, ref: dict[str, str], *, name: str) -> Any:
        """The particle or composition a reference names (`name`: where the reference is)."""
        noun = kind[:-1]
        if ref["scope"] == Scope.GLOBAL:
            candidates = (self.global_particles if kind == "particles" else self.global_compositions).get(
                ref["name"], []
            )
            found = _one(candidates, name=name, what=f"global {kind}", where="")
            if found is None:
                raise _fail(name, f"No global {noun} is named {ref['name']!r}.")
            return found
        if ref["name"] in self.imported[kind]:
            found = self.imported[kind][ref["name"]]
            if found is None:
                path = self.paths[kind].get(ref["name"], kind)
                raise _fail(name, f"The {noun} {ref['name']!r} ({path}) cannot be imported; see its errors.")
            return found
        own = self.own_particles if kind == "particles" else self.own_compositions
        found = _one(own.get(ref["name"], []), name=name, what=kind, where=" of your organization")
        if found is None:
            raise _fail(name, f"No {noun} is named {ref['name']!r} in this document or in your organization.")
        return found

    def _composition(self, item: dict[str, Any], report: ObjectReport) -> None:
        name = item["name"]
        self.imported["compositions"][name] = None
        existing = _one(
            self.own_compositions.get(name, []), name="name", what="compositions", where=" of your organization"
        )
        errors: dict[str, list[str]] = {}
        particle_ids = []
        seen: dict[tuple[str, str], int] = {}
        for index, ref in enumerate(item["particle_ids"]):
            first = seen.setdefault((ref["scope"], ref["name"]), index)
            if first != index:
                errors[f"particles[{index}]"] = [f"Each particle may appear once; already at particles[{first}]."]
                continue
            try:
                particle_ids.append(self._resolve("particles", ref, name=f"particles[{index}]").pk)
            except _ObjectError as exc:
                errors.update(exc.errors)
        if errors:
            raise _ObjectError(errors)
        fields = {"name": name, "description": item.get("description", "")}
        data = {**fields, "particle_ids": particle_ids}
        changed = data
        if existing is not None:
            changed = _changes(existing, fields)
            if prompt_selectors.composition_particle_ids(existing) != particle_ids:
                changed["particle_ids"] = particle_ids
        owner = {"organization_id": self.organization_id, "is_system": False}
        self.imported["compositions"][name] = self._write(
            report,
            existing=existing,
            candidate=copy.copy(existing) if existing else PromptComposition(**owner, **fields),
            data=data,
            changed=changed,
            names=COMPOSITION_FIELDS,
            exclude=set(),
            create=lambda data: prompt_services.composition_create(
                organization_id=self.organization_id, actor=self.actor, data=data
            ),
            update=lambda obj, changed: prompt_services.composition_update(
                composition=obj, actor=self.actor, data=changed
            ),
        )

    def _parent(self, slug: str) -> AIModel:
        if self._entitled is None:  # read once an import
            self._entitled = entitled_set(self.organization_id)
        parent = AIModel.objects.filter(is_system=True, slug=slug).filter(self._entitled.q()).first()
        if parent is None:
            # A system model the organization may not use is told in the words of a missing one.
            raise _fail("parent", f"No system model with slug {slug!r}.")
        if not parent.is_enabled:
            raise _fail("parent", f"Must reference an enabled system model; {parent.name!r} is disabled.")
        return parent

    def _model(self, item: dict[str, Any], report: ObjectReport) -> None:
        errors: dict[str, list[str]] = {}
        parent = composition = None
        try:
            parent = self._parent(item["parent_slug"])
        except _ObjectError as exc:
            errors.update(exc.errors)
        if item.get("system_prompt_composition") is not None:
            try:
                composition = self._resolve(
                    "compositions", item["system_prompt_composition"], name="systemPromptComposition"
                )
            except _ObjectError as exc:
                errors.update(exc.errors)
        if errors:
            raise _ObjectError(errors)
        existing = (
            AIModel.objects.filter(is_system=False, organization_id=self.organization_id, slug=item["slug"])
            .select_related("parent", "system_prompt_composition")
            .first()
        )
        # A field the document leaves out takes its create default, on an update too: the document
        # states the whole object.
        data = {
            "slug": item["slug"],
            "name": item["name"],
            "description": item.get("description", ""),
            "parent": parent,
            "context_window": item.get("context_window", parent.context_window),
            "max_tokens": item.get("max_tokens"),
            "supports_streaming": item.get("supports_streaming", parent.supports_streaming),
            "is_enabled": item.get("is_enabled", True),
            "system_prompt_composition": composition,
            "system_prompt_override": item.get("system_prompt_override", ""),
        }
        owner = {"organization_id": self.organization_id, "is_system": False}
        self._write(
            report,
            existing=existing,
            candidate=copy.copy(existing) if existing else AIModel(**owner, **data),
            data=data,
            changed=_changes(existing, data) if existing else data,
            names=MODEL_FIELDS,
            exclude={"parent", "system_prompt_composition"},  # looked up above
            create=lambda data: services.user_model_create(
                organization_id=self.organization_id, actor=self.actor, data=data
            ),
            update=lambda obj, changed: services.user_model_update(instance=obj, actor=self.actor, data=changed),
        )


def import_document(*, organization_id: str, actor: str, document: dict[str, Any], dry_run: bool) -> ImportReport:
    """Apply a document (as the API's document serializer validated it: model attribute names,
    references as {"scope", "name"}, a model's parent as `parent_slug`) to the organization.

    All or nothing, in one transaction: if any object is in error, nothing is written and a
    `ValidationError` keyed by document path ("models[2].parent") says why. With `dry_run` the same
    work is done and rolled back, and the report says what would happen, errors included.
    """
    with transaction.atomic():
        report = ImportReport(dry_run=dry_run, objects=_Importer(organization_id, actor, document).run())
        if dry_run or not report.valid:
            transaction.set_rollback(True)
    if dry_run:
        for item in report.objects:
            if item.result == Result.CREATED:
                item.id = None  # rolled back: it does not exist
    if not dry_run and not report.valid:
        raise ValidationError(report.errors)
    return report
