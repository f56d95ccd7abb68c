"""Admin pieces every app uses, the site's branding, and the read-only audit trail."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from core import audit
from core.history import actor_of, describe_actor, numbered
from core.models import AuditEvent

admin.site.site_header = "Model Registry"
admin.site.site_title = "Model Registry admin"
admin.site.index_title = "Curation"
# No navigation sidebar: at 1280 px it would leave a changelist with filters some 630 px, too
# narrow for the system models' columns. The breadcrumbs and the index page navigate.
admin.site.enable_nav_sidebar = False

EMPTY = "—"


def adopt_saved(obj, saved) -> None:
    """The admin's unsaved form instance becomes the row a service created, so the admin's
    log entry and redirect name it."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def staff_actor(request) -> str:
    """The actor an admin write records: "staff:<username>"."""
    return actor_of(request.user)


class VersionHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin's "History" page, numbered like the API's versions and saying who made
    each one: a member, an M2M client, a staff account or a system job (simple-history's own
    "Changed by" knows only Django users, so it said "None" for every change made through the API)."""

    object_history_list_template = "admin/version_history_list.html"
    # simple-history sets each of these on every listed version (the template reads them).
    history_list_display = ("changed_by", "reason")

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        return numbered(super().get_history_queryset(request, history_manager, pk_name, object_id))

    def changed_by(self, record):
        described = describe_actor(getattr(record, "history_actor", ""))
        if described is None and record.history_user_id is not None:
            described = ("staff account", record.history_user.get_username())
        if described is None:
            return "unknown (saved without an actor)"
        kind, identifier = described
        if kind == "staff account" and record.history_user_id is not None:
            try:
                url = reverse("admin:auth_user_change", args=[record.history_user_id])
            except NoReverseMatch:
                url = ""
            if url:
                return format_html('{} <a href="{}">{}</a>', kind, url, identifier)
        # Everything this actor changed, across objects, in the audit trail.
        url = reverse("admin:core_auditevent_changelist") + "?" + urlencode({"actor": record.history_actor})
        return format_html('{} <a href="{}" title="Everything this {} changed">{}</a>', kind, url, kind, identifier)

    def reason(self, record):
        return record.history_change_reason or EMPTY


def history_admin_base(model) -> type[admin.ModelAdmin]:
    """VersionHistoryAdmin (a "History" button listing the versions) once the model keeps history."""
    if hasattr(model, "history") and hasattr(model._meta, "simple_history_manager_attribute"):
        return VersionHistoryAdmin
    return admin.ModelAdmin


def preformatted(text: str):
    if not text:
        return EMPTY
    return format_html('<pre class="rendered-prompt" style="white-space: pre-wrap; margin: 0;">{}</pre>', text)


def admin_link(obj, label=None):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else str(obj))


def owner_label(obj) -> str:
    return "global" if obj.is_system else f"organization {obj.organization_id}"


class AddPageWithoutUsageMixin:
    """A new object is used nowhere yet: its add page leaves out the read-only usage sections."""

    sections_for_saved_objects = ("Where used",)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return [fieldset for fieldset in fieldsets if fieldset[0] not in self.sections_for_saved_objects]
        return fieldsets


class TwoPaneSelectMultiple(FilteredSelectMultiple):
    """The admin's two-pane picker for a form's own field. Its script moves the panes to the front
    of the select's parent: for a model's many-to-many field that is the div of
    RelatedFieldWidgetWrapper, but a form's own field has none, so the panes landed before the
    field's label (the label ended up on their right). This wrapper gives it the same layout."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('<div class="related-widget-wrapper">{}</div>', super().render(name, value, attrs, renderer))


def display_value(value):
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def admin_labels(model) -> dict[str, str]:
    """The API's name of each of the model's fields (`maxTokens`) and the admin's (`max tokens`)."""
    concrete = model._meta.concrete_model
    names = {}
    for field in concrete._meta.concrete_fields:
        try:
            wire = audit.wire_name(concrete, field.name)
        except KeyError:  # a model the API does not show: its fields' camelCase
            head, *rest = field.attname.split("_")
            wire = head + "".join(part.title() for part in rest)
        if wire != field.verbose_name:
            names[wire] = str(field.verbose_name)
    return names


def in_admin_labels(message: str, labels: dict[str, str]) -> str:
    """A rule's message names fields as the API does ("maxTokens must be below contextWindow");
    the admin says it with its own labels ("Max tokens must be below context window"). The rule
    keeps one home and one wording; only the names change, when the message is shown."""
    if not labels:
        return message
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(labels, key=len, reverse=True))) + r")\b")
    changed = pattern.sub(lambda match: labels[match.group(1)], message)
    if changed != message and pattern.match(message):
        changed = changed[:1].upper() + changed[1:]
    return changed


def bound_message(low, high) -> str:
    """How a bounded number's error states its range: as the help texts do ("1 to 2,000,000")."""
    if high is None:
        return f"Must be at least {low:,}."
    if low is None:
        return f"Must be at most {high:,}."
    return f"Must be {low:,} to {high:,}."


class AdminModelForm(forms.ModelForm):
    """An admin form that says what the help texts say.

    - A bounded number's form field takes its bounds from the model field's validators (the
      limits.py constants): the same range in the help text, the HTML input's min/max and the error.
      Django's PositiveIntegerField form field allows 0, so -5 said "≥ 0" while 0 then said "≥ 1".
    - Errors from the model's rules and the services name fields as the API does; shown here in
      the admin's labels (`admin_labels`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField):
                self._bound(name, field)

    def _bound(self, name, field) -> None:
        try:
            model_field = self._meta.model._meta.get_field(name)
        except FieldDoesNotExist:  # a form's own field: its declaration says its bounds
            return
        lows = [v.limit_value for v in model_field.validators if isinstance(v, MinValueValidator)]
        highs = [v.limit_value for v in model_field.validators if isinstance(v, MaxValueValidator)]
        if not lows and not highs:
            return
        low = max(lows) if lows else None
        high = min(highs) if highs else None
        message = bound_message(low, high)
        field.min_value, field.max_value = low, high
        kept = [v for v in field.validators if not isinstance(v, (MinValueValidator, MaxValueValidator))]
        field.validators = [
            *kept,
            *([MinValueValidator(low, message=message)] if low is not None else []),
            *([MaxValueValidator(high, message=message)] if high is not None else []),
        ]
        field.widget.attrs.update({key: value for key, value in (("min", low), ("max", high)) if value is not None})

    def add_error(self, field, error):
        # Every error reaches the form here: the model's validation (through _update_errors) and
        # the services' rules the admin forms run.
        labels = admin_labels(self._meta.model)
        if not isinstance(error, ValidationError):
            error = ValidationError(error)
        if hasattr(error, "error_dict"):
            error = ValidationError(
                {
                    name: [
                        ValidationError(in_admin_labels(message, labels))
                        for item in field_errors
                        for message in item.messages
                    ]
                    for name, field_errors in error.error_dict.items()
                    # A field the form already refused (out of range, say) is empty on the instance:
                    # the model's "required" for it would only contradict the field's own error.
                    if name == NON_FIELD_ERRORS or name not in self._errors
                }
            )
            if not error.error_dict:
                return
        else:
            error = ValidationError([in_admin_labels(message, labels) for message in error.messages])
        super().add_error(field, error)


class ErrorsOnHiddenFieldsForm(AdminModelForm):
    """`Model.clean()` may name a field this form does not show (a read-only one, say).

    Django would raise ValueError for it; show it at the top of the form instead, labelled.
    """

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            remapped: dict[str, list] = {}
            for field, field_errors in errors.error_dict.items():
                if field == NON_FIELD_ERRORS or field in self.fields:
                    remapped.setdefault(field, []).extend(field_errors)
                    continue
                label = self._meta.model._meta.get_field(field).verbose_name.capitalize()
                for error in field_errors:
                    remapped.setdefault(NON_FIELD_ERRORS, []).extend(
                        ValidationError(f"{label}: {message}") for message in error.messages
                    )
            errors = ValidationError(remapped)
        super()._update_errors(errors)


class PlainTextHelpMixin:
    """A model's help texts are plain text (the API describes its fields with them too), but the
    admin shows help as HTML: 'member:<id>' lost its '<id>' as an unknown tag. Escaped here, for
    the form's fields and for the read-only ones alike."""

    def get_form(self, request, obj=None, **kwargs):
        escaped = {field.name: escape(field.help_text) for field in self.model._meta.fields if field.help_text}
        kwargs["help_texts"] = {**escaped, **kwargs.get("help_texts", {})}
        return super().get_form(request, obj, **kwargs)


@admin.register(AuditEvent)
class AuditEventAdmin(PlainTextHelpMixin, admin.ModelAdmin):
    """The audit trail, read-only: who created, changed or deleted what, and when."""

    list_display = ("occurred_at", "organization_id", "actor", "action", "object_type", "object_repr", "changed")
    list_filter = ("action", "object_type", "organization_id")
    search_fields = ("actor", "object_repr", "=object_id", "=request_id")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    @admin.display(description="changed fields")
    def changed(self, obj: AuditEvent) -> str:
        return ", ".join(obj.changed_fields) or EMPTY

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EnableDisableActionsMixin:
    """ "Enable/disable selected" actions for a model with `is_enabled`; each change is saved by the
    admin's own `save_model()` (and so by its service)."""

    actions = ("enable_models", "disable_models")

    @admin.action(description="Enable selected %(verbose_name_plural)s", permissions=["change"])
    def enable_models(self, request, queryset):
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description="Disable selected %(verbose_name_plural)s", permissions=["change"])
    def disable_models(self, request, queryset):
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(self, request, queryset, *, enabled: bool) -> None:
        opts = self.model._meta
        to_change = list(queryset.filter(is_enabled=not enabled))
        for obj in to_change:
            obj.is_enabled = enabled
            self.save_model(request, obj, None, change=True)
            self.log_change(request, obj, [{"changed": {"fields": ["is_enabled"]}}])
        state = "enabled" if enabled else "disabled"
        changed = len(to_change)
        message = ngettext(
            "%(count)d %(name)s was %(state)s.", "%(count)d %(name_plural)s were %(state)s.", changed
        ) % {"count": changed, "name": opts.verbose_name, "name_plural": opts.verbose_name_plural, "state": state}
        unchanged = queryset.count() - changed
        if unchanged:
            message += ngettext(
                " %(count)d was already %(state)s.", " %(count)d were already %(state)s.", unchanged
            ) % {"count": unchanged, "state": state}
        self.message_user(request, message, messages.SUCCESS if changed else messages.WARNING)
