"""Writes of models: user models, and restoring a model's system prompt.

Every rule lives on the model (`clean()`, constraints); these functions apply a validated
change in one transaction and record who made it (`actor`) on the version. They raise
Django's `ValidationError` (keyed by model field) and `core.exceptions.Conflict`, never an
HTTP error: core's exception handler maps them.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import generations
from core.audit import record_bulk_update, wire_name
from core.db import ensure_used_only_within, lock_for_reference, validate_for_write, validate_unique_constraints
from core.exceptions import Conflict
from core.history import copy_to_history, delete_with_actor, save_with_actor
from models_registry import lifecycle
from models_registry.entitlements import Entitlement, entitled_set
from models_registry.lifecycle import LifecycleStatus
from models_registry.models import COMPOSITION_NOT_VISIBLE, PARENT_DISABLED, AIModel, child_limit_errors
from models_registry.selectors import MODEL_PROMPT_FIELDS, MODEL_PROMPT_RESTORE_REASON
from prompts.models import PromptComposition


def _lock_composition(instance: AIModel) -> None:
    """Keep the model's composition from being deleted until this write commits: a concurrent
    delete then waits and finds the model using it (409), or went first and the composition is
    missing here (400), never a foreign key failing at commit."""
    composition_id = instance.system_prompt_composition_id
    if composition_id is None:
        return
    if not lock_for_reference(PromptComposition, [composition_id]):
        raise ValidationError({"system_prompt_composition": [COMPOSITION_NOT_VISIBLE.format(pk=composition_id)]})


SLUG_ATTEMPTS = 20  # creates racing for slugs made from similar names: each loser takes the next


class _SlugTaken(Exception):
    """A racing create took the slug made from the name; make the next one and try again."""


def _save(
    instance: AIModel, *, actor: str, check_quota: bool = False, slug_made: bool = False, **save_kwargs: Any
) -> AIModel:
    """Save in a transaction; a unique constraint that a racing writer won is a ValidationError
    naming the field. `slug_made`: the slug is made from the name here, not given. The slug the
    name makes (`slug_base()`) is tried first, as it is: the unique constraint says whether it
    is taken, so the usual create reads no slugs. If only it was taken, the first free one is
    made from the slugs taken (`ensure_slug()`) and the save tried again (a client is never told
    about a slug it did not send)."""
    if slug_made:
        instance.slug = instance.slug_base()
    for _ in range(SLUG_ATTEMPTS):
        try:
            return _save_once(instance, actor=actor, check_quota=check_quota, slug_made=slug_made, **save_kwargs)
        except _SlugTaken:
            instance.slug = ""
            instance.ensure_slug()
    raise Conflict("Too many models were created at once with this name's slug; retry.")


def _save_once(instance: AIModel, *, actor: str, check_quota: bool, slug_made: bool, **save_kwargs: Any) -> AIModel:
    try:
        with transaction.atomic():
            if check_quota:
                ensure_within_quota(instance.organization_id)
            _lock_composition(instance)
            save_with_actor(instance, actor=actor, **save_kwargs)
    except IntegrityError:
        # Two writers can both pass validation; the unique constraint decides, and says why.
        validate_unique_constraints(instance, exclude={"slug"} if slug_made else None)
        if slug_made:
            raise _SlugTaken() from None
        raise
    return instance


def ensure_open_for_new_models(parent: AIModel) -> None:
    """A user model may be built on, or moved onto, an active system model only: a deprecated or
    retired one keeps the models already on it, and takes no new ones."""
    status = parent.lifecycle_status()
    if status != LifecycleStatus.ACTIVE:
        successor = parent.successor if parent.successor_id else None
        reason = lifecycle.closed_reason(
            name=parent.name, status=status, successor=(str(successor.pk), successor.name) if successor else None
        )
        raise ValidationError({"parent": [reason]})


def ensure_entitled(parent: AIModel, organization_id: str) -> None:
    """The organization may build on this system model (its entitlement: models_registry.entitlements).
    Told in the words of a missing model, as for another organization's object. A parent read
    with the answer for this organization (`selectors.with_entitlement`, as the API's `parentId`
    is) costs no query."""
    if getattr(parent, "entitlement_for", None) == organization_id:
        entitled = parent.entitled
    else:
        entitled = entitled_set(organization_id).allows(parent.pk)
    if not entitled:
        raise ValidationError({"parent": [f"No system model with id {parent.pk}."]})


def ensure_within_quota(organization_id: str) -> None:
    """An organization with a quota of user models may not go past it: `Conflict`. The
    entitlement row is locked so that concurrent creates count one after the other."""
    entitlement = Entitlement.objects.select_for_update().filter(organization_id=organization_id).first()
    if entitlement is None or entitlement.max_user_models is None:
        return
    count = AIModel.objects.filter(is_system=False, organization_id=organization_id).count()
    if count >= entitlement.max_user_models:
        raise Conflict(
            f"Your organization has reached its quota of {entitlement.max_user_models} user models; "
            "delete one or ask us to raise the quota."
        )


def user_model_create(*, organization_id: str, actor: str, data: dict[str, Any]) -> AIModel:
    return _create(AIModel(organization_id=organization_id, is_system=False, **data), actor=actor)


def _create(instance: AIModel, *, actor: str, change_reason: str | None = None) -> AIModel:
    """The rules every new user model meets, whichever way it is made: an open, entitled base,
    the organization's quota, and a slug made from the name when none was given."""
    ensure_open_for_new_models(instance.parent)
    ensure_entitled(instance.parent, instance.organization_id)
    slug_made = not instance.slug
    return _save(instance, actor=actor, check_quota=True, slug_made=slug_made, change_reason=change_reason)


# --- Cloning -------------------------------------------------------------------------------------

CLONE_CHANGE_REASON = "Cloned from {name} ({pk})"
# What a clone of a user model copies (besides its base): every value it may override.
CLONED_FIELDS = (
    "description",
    "context_window",
    "max_tokens",
    "supports_streaming",
    "is_enabled",
    "system_prompt_composition_id",
    "system_prompt_override",
)


def clone_values(source: AIModel) -> dict[str, Any]:
    """The values a clone of `source` starts from, before its new name and slug.

    A user model: its base and every override it has (limits, streaming, enabled flag,
    description, system prompt). A system model: a user model built on it with its limits
    (context window and streaming copied; max tokens and description inherited, so they follow
    it), enabled, and its system prompt (a global composition or an override text).
    """
    if source.is_system:
        return {
            "parent": source,
            "context_window": source.context_window,
            "max_tokens": None,
            "supports_streaming": source.supports_streaming,
            "is_enabled": True,
            "description": "",
            "system_prompt_composition_id": source.system_prompt_composition_id,
            "system_prompt_override": source.system_prompt_override,
        }
    return {"parent": source.parent, **{field: getattr(source, field) for field in CLONED_FIELDS}}


def user_model_clone(*, source: AIModel, organization_id: str, actor: str, name: str, slug: str = "") -> AIModel:
    """A new user model of the organization copied from `source` (`clone_values`), named `name`,
    with `slug` or one made from the name. It is checked as a create is: the model's own rules
    (name unique in the organization, limits against the base, a composition it may use), an
    enabled, open and entitled base, and the quota. Recorded as a created version whose reason
    names the source."""
    if not source.is_system and source.organization_id != organization_id:
        raise ValidationError("A user model can be cloned only within its own organization.")
    instance = AIModel(organization_id=organization_id, is_system=False, name=name, slug=slug, **clone_values(source))
    if not instance.parent.is_enabled:
        raise ValidationError({"parent": [PARENT_DISABLED.format(name=repr(instance.parent.name))]})
    later = set() if slug else {"slug"}  # made from the name when saved, free at that moment
    # The relations are checked by the save: the composition is locked then, the base above.
    validate_for_write(instance, exclude=later, relations_checked={"parent", "system_prompt_composition"})
    return _create(instance, actor=actor, change_reason=CLONE_CHANGE_REASON.format(name=source.name, pk=source.pk))


def user_model_update(*, instance: AIModel, actor: str, data: dict[str, Any]) -> AIModel:
    """Change a user model; a new `parent` moves it (checked like a create against the new base)."""
    new_parent = data.get("parent")
    if new_parent is not None and new_parent.pk != instance.parent_id:
        ensure_open_for_new_models(new_parent)
        ensure_entitled(new_parent, instance.organization_id)
    for field, value in data.items():
        setattr(instance, field, value)
    return _save(instance, actor=actor)


@transaction.atomic
def user_model_delete(*, instance: AIModel, actor: str) -> None:
    delete_with_actor(instance, actor=actor)


@transaction.atomic
def model_prompt_restore(*, model: AIModel, record: Any, actor: str) -> AIModel:
    """Bring a version of the model's system prompt fields back (`record` from
    `selectors.model_prompt_version`), as a new version. Only the prompt fields change.

    A version whose composition has since been deleted cannot come back: `Conflict`.
    """
    number = record.version_number
    composition_id = record.system_prompt_composition_id
    if composition_id is not None and not PromptComposition.objects.filter(pk=composition_id).exists():
        raise Conflict(
            f"Version {number} cannot be restored: its prompt composition ({composition_id}) has since been deleted."
        )
    model.system_prompt_override = record.system_prompt_override
    model.system_prompt_composition_id = composition_id
    return _save(
        model,
        actor=actor,
        change_reason=MODEL_PROMPT_RESTORE_REASON.format(number=number),
        update_fields=[*MODEL_PROMPT_FIELDS, "updated_at"],
    )


def ensure_composition_owner_fits_models(composition: PromptComposition, organization_id: str | None) -> None:
    """A composition given to one organization may be used only by that organization's user models
    (a global one fits every model)."""
    ensure_used_only_within(composition.models.all(), organization_id, what="models")


# --- A system model's new limits against the user models built on it --------------------------

# The system model fields whose change can invalidate the user models built on it.
LIMIT_FIELDS = ("context_window", "max_tokens", "supports_streaming")
CHILD_CONFLICT_REASONS = {
    "context_window": "a larger context window than the new value",
    "max_tokens": "more max tokens than the new value, or would inherit max tokens not below their context window",
    "supports_streaming": "streaming on",
}


def _may_conflict(parent_id: Any, new: AIModel) -> Q:
    """The user models of `parent_id` that the new limits in `new` may break: a filter that narrows
    what is read, never the rule. It keeps every row `child_limit_errors` could refuse (a test holds
    the two together); the rule then decides."""
    candidates = Q(context_window__gt=new.context_window) | Q(max_tokens__gte=F("context_window"))
    if new.max_tokens is not None:
        candidates |= Q(max_tokens__gt=new.max_tokens)
        candidates |= Q(max_tokens__isnull=True, context_window__lte=new.max_tokens)  # inherits a max too large
    if not new.supports_streaming:
        candidates |= Q(supports_streaming=True)
    return Q(parent_id=parent_id) & candidates


def system_model_child_conflicts(
    new_values: dict[Any, AIModel], *, batch_size: int = 500
) -> dict[tuple[Any, str], list[str]]:
    """Which user models the new limits of system models would make invalid.

    `new_values` maps a system model's pk to an instance holding its new values. The answer
    maps (pk, field) to the names of the user models that break, by `child_limit_errors`, the
    rule `AIModel.clean()` applies, so a change can be refused before it leaves them inconsistent.
    The database returns only the children that may break (`_may_conflict`), so a system model
    with a million user models costs one indexed scan, not a million rows in Python.
    """
    problems: dict[tuple[Any, str], list[str]] = defaultdict(list)
    ids = list(new_values)
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        may_conflict = Q()
        for pk in batch:
            may_conflict |= _may_conflict(pk, new_values[pk])
        children: Iterable[tuple] = AIModel.objects.filter(may_conflict).values_list(
            "parent_id", "name", "organization_id", "context_window", "max_tokens", "supports_streaming"
        )
        for parent_id, name, organization_id, context_window, max_tokens, streaming in children:
            errors = child_limit_errors(
                new_values[parent_id],
                context_window=context_window,
                max_tokens=max_tokens,
                supports_streaming=streaming,
            )
            for field in errors:
                problems[(parent_id, field)].append(f"{name!r} ({organization_id})")
    return problems


def ensure_system_model_fits_children(instance: AIModel, changed: set[str] | None = None) -> None:
    """The new limits of a saved system model must keep every user model built on it valid:
    a `ValidationError` per limit field that would break one (only `changed` fields, if given)."""
    fields = set(LIMIT_FIELDS) if changed is None else set(LIMIT_FIELDS) & changed
    if instance._state.adding or not fields:
        return
    conflicts = system_model_child_conflicts({instance.pk: instance})
    errors = {field: [child_conflict_message(field, children)] for (_, field), children in conflicts.items()}
    errors = {field: messages for field, messages in errors.items() if field in fields}
    if errors:
        raise ValidationError(errors)


def ensure_successor_fits(instance: AIModel) -> None:
    """A system model's successor is active and enabled, and following successors from it never
    comes back to the model (no cycle): the rules of models_registry.lifecycle, on saved rows."""
    if instance.successor_id is None:
        return
    successor = AIModel.objects.filter(pk=instance.successor_id, is_system=True).first()
    if successor is None:
        raise ValidationError({"successor": ["Must be an existing system model."]})
    unfit = lifecycle.successor_unfit(
        repr(successor.name), successor.lifecycle_status(), is_enabled=successor.is_enabled
    )
    if unfit:
        raise ValidationError({"successor": [unfit]})
    names = {instance.pk: instance.name, successor.pk: successor.name}

    def successor_of(pk: Any) -> Any:
        if pk == instance.pk:
            return instance.successor_id
        row = AIModel.objects.filter(pk=pk).values_list("successor_id", "successor__name").first()
        if row is None or row[0] is None:
            return None
        names[row[0]] = row[1]
        return row[0]

    cycle = lifecycle.successor_cycle(instance.pk, successor_of)
    if cycle:
        raise ValidationError(
            {"successor": [f"Successors would form a cycle: {' -> '.join(names[pk] for pk in cycle)}."]}
        )


@transaction.atomic
def system_model_save(*, instance: AIModel, actor: str, changed: set[str] | None = None) -> AIModel:
    """Create or change a system model (staff, in the admin); the seed command writes in bulk."""
    ensure_system_model_fits_children(instance, changed)
    ensure_successor_fits(instance)
    return _save(instance, actor=actor)


def child_conflict_message(field: str, children: list[str]) -> str:
    example = ", ".join(children[:3]) + (", ..." if len(children) > 3 else "")
    return (
        f"{len(children)} user model(s) built on this model have {CHILD_CONFLICT_REASONS[field]}: {example}. "
        "Change them first."
    )


# --- Moving user models from one system model to another -------------------------------------

MOVE_BATCH_SIZE = 500
MOVE_CHANGE_REASON = "Moved from {source} to {target}"


@dataclass
class MoveResult:
    models: list[AIModel]  # the user models moved (or, in a dry run or with problems, that would be)
    problems: list[str]  # one line per user model and field that would break on the new base
    dry_run: bool

    @property
    def moved(self) -> bool:
        return not self.dry_run and not self.problems


def move_user_models(
    *, source: AIModel, target: AIModel, actor: str, organization_id: str | None = None, dry_run: bool = False
) -> MoveResult:
    """Move every user model built on `source` (of one organization, if given) onto `target`,
    all or nothing: each is checked against the new base's limits as a create would be, and if
    any would break, none moves and `problems` says which and why. Each move is a version and
    an audit event. Written in bulk (one UPDATE per batch), so 10,000 models take seconds."""
    if not (source.is_system and target.is_system):
        raise ValidationError("Both models must be system models.")
    if source.pk == target.pk:
        raise ValidationError({"successor": ["The models to move from and to are the same."]})
    ensure_open_for_new_models(target)
    with transaction.atomic():
        queryset = AIModel.objects.filter(parent=source, is_system=False)
        if organization_id is not None:
            queryset = queryset.filter(organization_id=organization_id)
        models = list(queryset.select_for_update().order_by("organization_id", "name", "id"))
        problems = [
            f"{model.name!r} ({model.organization_id}, {model.pk}): {wire_name(AIModel, field)}: {message}"
            for model in models
            for field, message in child_limit_errors(
                target,
                context_window=model.context_window,
                max_tokens=model.max_tokens,
                supports_streaming=model.supports_streaming,
            ).items()
        ]
        result = MoveResult(models=models, problems=problems, dry_run=dry_run)
        if not result.moved or not models:
            return result
        now = timezone.now()
        ids = [model.pk for model in models]
        for start in range(0, len(ids), MOVE_BATCH_SIZE):
            AIModel.objects.filter(pk__in=ids[start : start + MOVE_BATCH_SIZE]).update(parent=target, updated_at=now)
        for model in models:
            model.parent, model.updated_at = target, now
        copy_to_history(
            AIModel,
            ids,
            actor=actor,
            reason=MOVE_CHANGE_REASON.format(source=source.name, target=target.name),
            when=now,
            batch_size=MOVE_BATCH_SIZE,
        )
        record_bulk_update(models, fields=["parent"], actor=actor, occurred_at=now, batch_size=MOVE_BATCH_SIZE)
        for organization in sorted({model.organization_id for model in models}):
            generations.bump(organization)  # bulk statements send no save signals
    return result
