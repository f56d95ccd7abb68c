"""The Django admin as the staff's curation tool.

System models are curated here: the form runs the model's `clean()` and constraints with
`is_system=True`, exactly the rules the API applies, so every error lands next to its field.
User models belong to organizations and are read-mostly here, for support staff.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, ProtectedError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from core.admin import (
    EMPTY,
    AddPageWithoutUsageMixin,
    EnableDisableActionsMixin,
    ErrorsOnHiddenFieldsForm,
    TwoPaneSelectMultiple,
    admin_labels,
    display_value,
    history_admin_base,
    in_admin_labels,
    preformatted,
    staff_actor,
)
from core.models import Organization
from models_registry import admin_entitlements, entitlement_services, services  # noqa: F401 (registers)
from models_registry import lifecycle as lifecycle_module
from models_registry.entitlements import Plan
from models_registry.lifecycle import LifecycleStatus
from models_registry.models import AIModel, SystemModel, UserModel
from prompts import admin as prompts_admin
from prompts.models import PromptComposition

CAPABILITY_FLAGS = ("supports_tools", "supports_vision", "supports_reasoning")
REQUIRED_FOR_SYSTEM = ("provider", "provider_model_id", "credit_multiplier", "max_tokens")
# The fields a system model's form never shows: their values are fixed for every system row.
SYSTEM_FIXED_VALUES = {"is_system": True, "parent": None, "organization_id": None}
EFFECTIVE_FIELDS = (
    "description",
    "provider",
    "provider_model_id",
    "context_window",
    "max_tokens",
    "supports_streaming",
    "supports_tools",
    "supports_vision",
    "supports_reasoning",
    "credit_multiplier",
    "is_enabled",
)


class SystemModelForm(ErrorsOnHiddenFieldsForm):
    add_to_plans = forms.ModelMultipleChoiceField(
        queryset=Plan.objects.all(),
        required=False,
        help_text="Add this model to these plans (it is removed from a plan on the plan's page).",
        widget=TwoPaneSelectMultiple("plans", is_stacked=False),
    )
    add_to_organizations = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.all(),
        required=False,
        help_text="Add this model to these organizations' additions, on top of their plans.",
        widget=TwoPaneSelectMultiple("organizations", is_stacked=False),
    )

    class Meta:
        model = SystemModel
        fields = (
            "name",
            "slug",
            "description",
            "is_enabled",
            "provider",
            "provider_model_id",
            "context_window",
            "max_tokens",
            "supports_streaming",
            *CAPABILITY_FLAGS,
            "credit_multiplier",
            "deprecated_at",
            "retires_at",
            "successor",
            "system_prompt_composition",
            "system_prompt_override",
        )
        # Nullable in the table (user rows inherit them) but always set on a system row.
        field_classes = dict.fromkeys(CAPABILITY_FLAGS, forms.BooleanField)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, value in SYSTEM_FIXED_VALUES.items():
            setattr(self.instance, field, value)
        for field in REQUIRED_FOR_SYSTEM:
            if field in self.fields:
                self.fields[field].required = True
        if "slug" in self.fields:
            self.fields["slug"].required = False  # empty: made from the provider model id
            self.fields["slug"].help_text += " Leave empty to use the provider model id."

    def _get_validation_exclusions(self):
        # Validate the fixed fields too, so the constraints that name them (the system row's
        # shape, one system model per provider model id) are checked here, not by the database.
        return super()._get_validation_exclusions() - set(SYSTEM_FIXED_VALUES)

    def _post_clean(self):
        super()._post_clean()
        changed = set(self.changed_data)
        if any(field in self.errors for field in changed):
            return
        for check in (
            lambda: services.ensure_system_model_fits_children(self.instance, changed),
            lambda: services.ensure_successor_fits(self.instance),
        ):
            try:
                check()
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)


class UserModelForm(ErrorsOnHiddenFieldsForm):
    class Meta:
        model = UserModel
        fields = ("is_enabled",)


class _MoveRefused(Exception):
    def __init__(self, source, result):
        self.source, self.result = source, result


class LifecycleListFilter(admin.SimpleListFilter):
    title = "lifecycle"
    parameter_name = "lifecycle"

    def lookups(self, request, model_admin):
        return LifecycleStatus.choices

    def queryset(self, request, queryset):
        if self.value() in LifecycleStatus.values:
            return queryset.filter(lifecycle_module.status_q(self.value(), lifecycle_module.today()))
        return queryset


@admin.register(SystemModel)
class SystemModelAdmin(AddPageWithoutUsageMixin, EnableDisableActionsMixin, history_admin_base(SystemModel)):
    sections_for_saved_objects = ("Usage",)
    form = SystemModelForm
    list_display = (
        "name",
        "provider",
        "provider_model_id",
        "context_window",
        "max_tokens",
        "capabilities",
        "credit_multiplier",
        "is_enabled",
        "lifecycle",
        "user_model_count",
    )
    list_filter = (
        LifecycleListFilter,
        "provider",
        "supports_streaming",
        "supports_tools",
        "supports_vision",
        "supports_reasoning",
        "is_enabled",
    )
    search_fields = ("name", "provider_model_id")
    ordering = ("name",)
    readonly_fields = ("user_models", "in_plans", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "is_enabled")}),
        ("Provider", {"fields": ("provider", "provider_model_id")}),
        ("Limits", {"fields": ("context_window", "max_tokens")}),
        ("Capabilities", {"fields": ("supports_streaming", *CAPABILITY_FLAGS)}),
        ("Billing", {"fields": ("credit_multiplier",)}),
        (
            "Lifecycle",
            {
                "fields": ("deprecated_at", "retires_at", "successor"),
                "description": "Deprecated from its day: user models on it keep working, no new ones are built on "
                "it. Retired from its day: user models on it stop being usable (nothing is deleted). Days are UTC. "
                'Move its user models with the "Move user models to the successor" action.',
            },
        ),
        ("System prompt", {"fields": ("system_prompt_composition", "system_prompt_override")}),
        ("Entitlements", {"fields": ("in_plans", "add_to_plans", "add_to_organizations")}),
        ("Usage", {"fields": ("user_models", "created_at", "updated_at")}),
    )
    actions = (*EnableDisableActionsMixin.actions, "move_user_models_to_successor")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_model_count=Count("children"))

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data) if form is not None else {"is_enabled"}
        with transaction.atomic():
            services.system_model_save(instance=obj, actor=staff_actor(request), changed=changed)
            data = form.cleaned_data if form is not None else {}
            actor = staff_actor(request)
            if data.get("add_to_plans"):
                entitlement_services.plans_add_system_model(plans=data["add_to_plans"], system_model=obj, actor=actor)
            if data.get("add_to_organizations"):
                entitlement_services.organizations_add_system_model(
                    organization_ids=[o.pk for o in data["add_to_organizations"]], system_model=obj, actor=actor
                )

    @admin.display(description="in plans")
    def in_plans(self, obj):
        if obj is None or obj._state.adding:
            return EMPTY
        names = [plan.name for plan in obj.plans.order_by("name")]
        added = obj.extra_entitlements.count()
        return f"{', '.join(names) or 'no plan'}; added to {added} organization(s) on top of their plans."

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "system_prompt_composition":
            # A system model is seen by every organization: only global compositions fit.
            kwargs["queryset"] = PromptComposition.objects.filter(is_system=True)
        if db_field.name == "successor":
            kwargs["queryset"] = AIModel.objects.filter(is_system=True).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="lifecycle")
    def lifecycle(self, obj):
        status = obj.lifecycle_status()
        if status == LifecycleStatus.ACTIVE:
            return status.value
        day = obj.retires_at if status == LifecycleStatus.RETIRED else obj.deprecated_at
        return f"{status.value} {day.isoformat()}"

    @admin.action(description="Move user models to the successor", permissions=["change"])
    def move_user_models_to_successor(self, request, queryset):
        """All or nothing across the selection: every user model of every selected system model
        is checked against its successor first; one that would break stops them all."""
        sources = list(queryset.select_related("successor").order_by("name"))
        missing = [source.name for source in sources if source.successor_id is None]
        if missing:
            self.message_user(request, f"No successor set: {', '.join(missing)}. Nothing moved.", messages.ERROR)
            return
        try:
            with transaction.atomic():
                results = []
                for source in sources:
                    result = services.move_user_models(
                        source=source, target=source.successor, actor=staff_actor(request)
                    )
                    if result.problems:
                        raise _MoveRefused(source, result)
                    results.append((source, result))
        except _MoveRefused as refused:
            labels = admin_labels(AIModel)
            shown = [in_admin_labels(line, labels) for line in refused.result.problems[:10]]
            more = len(refused.result.problems) - len(shown)
            self.message_user(
                request,
                format_html(
                    "Nothing moved: {} user model problem(s) moving from {} to {}: <ul>{}</ul>{}",
                    len(refused.result.problems),
                    refused.source.name,
                    refused.source.successor.name,
                    format_html_join("", "<li>{}</li>", ((line,) for line in shown)),
                    f"... and {more} more." if more > 0 else "",
                ),
                messages.ERROR,
            )
            return
        except ValidationError as exc:
            shown = "; ".join(in_admin_labels(message, admin_labels(AIModel)) for message in exc.messages)
            self.message_user(request, f"Nothing moved: {shown}", messages.ERROR)
            return
        summary = "; ".join(
            f"{len(result.models)} from {source.name} to {source.successor.name}" for source, result in results
        )
        self.message_user(request, f"Moved user models: {summary}.", messages.SUCCESS)

    # One column for the four flags (each has its sidebar filter) keeps the changelist, with its
    # lifecycle column, within a 1280 px screen.
    @admin.display(description="capabilities")
    def capabilities(self, obj):
        flags = ("supports_streaming", *CAPABILITY_FLAGS)
        return ", ".join(flag.removeprefix("supports_") for flag in flags if getattr(obj, flag)) or EMPTY

    @admin.display(description="user models", ordering="user_model_count")
    def user_model_count(self, obj):
        url = reverse("admin:models_registry_usermodel_changelist") + "?" + urlencode({"parent__id__exact": obj.pk})
        return format_html('<a href="{}">{}</a>', url, obj.user_model_count)

    @admin.display(description="user models built on it")
    def user_models(self, obj):
        if obj is None or obj._state.adding:
            return EMPTY
        children = UserModel.objects.filter(parent=obj).order_by("organization_id", "name")
        if not children:
            return "None."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} (organization {})</li>",
                ((user_model_link(child), child.organization_id) for child in children),
            ),
        )

    # --- Deleting: a referenced system model is protected; say by whom, never fail ------
    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            pks = [obj.pk for obj in objs]
            children = UserModel.objects.filter(parent__in=pks).select_related("parent")
            protected = [
                format_html(
                    "User model: {} (organization {}, built on {})",
                    user_model_link(child),
                    child.organization_id,
                    child.parent.name,
                )
                for child in children.order_by("parent__name", "organization_id", "name")
            ] or protected
        return deleted, model_count, perms_needed, protected

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ProtectedError:
            # A user model appeared between the confirmation page and the deletion.
            self.message_user(request, "Still used by user models; nothing was deleted.", messages.ERROR)
            return HttpResponseRedirect(request.path)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except ProtectedError:
            self.message_user(request, "Some are still used by user models; nothing was deleted.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def user_model_link(obj):
    url = reverse("admin:models_registry_usermodel_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj.name)


class OrganizationListFilter(admin.SimpleListFilter):
    title = "organization"
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        organizations = UserModel.objects.order_by("organization_id").values_list("organization_id", flat=True)
        return [(organization, organization) for organization in organizations.distinct()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(organization_id=self.value())
        return queryset


@admin.register(UserModel)
class UserModelAdmin(EnableDisableActionsMixin, history_admin_base(UserModel)):
    """Organizations own these through the API; support staff look, and may switch one off."""

    form = UserModelForm
    list_display = (
        "name",
        "organization_id",
        "parent",
        "is_enabled",
        "context_window",
        "max_tokens",
        "system_prompt_composition",
        "updated_at",
    )
    list_filter = (OrganizationListFilter, ("parent", admin.RelatedOnlyFieldListFilter), "is_enabled")
    list_select_related = ("parent", "system_prompt_composition")
    search_fields = ("name", "organization_id")
    ordering = ("organization_id", "name")
    fieldsets = (
        (None, {"fields": ("name", "description", "organization_id", "parent", "is_enabled")}),
        ("Own values", {"fields": ("context_window", "max_tokens", "supports_streaming")}),
        ("Effective configuration", {"fields": ("effective_configuration",)}),
        (
            "System prompt",
            {"fields": ("system_prompt_composition", "system_prompt_override", "rendered_system_prompt")},
        ),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (
        "name",
        "description",
        "organization_id",
        "parent",
        "context_window",
        "max_tokens",
        "supports_streaming",
        "effective_configuration",
        "system_prompt_composition",
        "system_prompt_override",
        "rendered_system_prompt",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent", "system_prompt_composition")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.user_model_update(instance=obj, actor=staff_actor(request), data={"is_enabled": obj.is_enabled})

    @admin.display(description="effective configuration")
    def effective_configuration(self, obj):
        inherited = set(obj.inherited_fields)
        rows = (
            (
                AIModel._meta.get_field(field).verbose_name,
                display_value(obj.effective(field)),
                f"inherited from {obj.parent.name}" if field in inherited else "own value",
            )
            for field in EFFECTIVE_FIELDS
        )
        return format_html(
            '<table class="effective-configuration"><thead><tr><th>field</th><th>value</th><th>source</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="rendered system prompt")
    def rendered_system_prompt(self, obj):
        text, source = obj.system_prompt()
        if not text:
            return EMPTY
        return format_html("<p>Source: {}</p>{}", source, preformatted(text))


# --- Compositions, with the models that use them --------------------------------------------


class PromptCompositionForm(prompts_admin.PromptCompositionForm):
    def _post_clean(self):
        super()._post_clean()
        if not self.errors and not self.instance._state.adding:
            self.apply_service_rule(
                services.ensure_composition_owner_fits_models, self.instance, self.owner_changes_to()
            )


class PromptCompositionAdmin(prompts_admin.PromptCompositionAdmin):
    """prompts' composition admin, plus where each composition is used (prompts knows no models)."""

    form = PromptCompositionForm
    list_display = ("name", "is_system", "organization_id", "particle_count", "model_count", "updated_at")
    readonly_fields = ("rendered_prompt", "used_by_models", "created_at", "updated_at")
    fieldsets = (
        *prompts_admin.PromptCompositionAdmin.fieldsets[:-1],
        ("Where used", {"fields": ("used_by_models", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(model_count=Count("models", distinct=True))

    @admin.display(description="models", ordering="model_count")
    def model_count(self, obj) -> int:
        return obj.model_count

    @admin.display(description="used by models")
    def used_by_models(self, obj):
        if obj is None or obj._state.adding:
            return EMPTY
        models = obj.models.order_by("-is_system", "organization_id", "name")
        if not models:
            return "Not used by any model."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{} ({})</li>", ((model_link(m), model_owner_label(m)) for m in models)),
        )


def model_link(model):
    """A link to a system or user model's admin page (both kinds live in one table)."""
    name = "systemmodel" if model.is_system else "usermodel"
    url = reverse(f"admin:{model._meta.app_label}_{name}_change", args=[model.pk])
    return format_html('<a href="{}">{}</a>', url, model.name)


def model_owner_label(model) -> str:
    return "system model" if model.is_system else f"user model of organization {model.organization_id}"


admin.site.unregister(PromptComposition)
admin.site.register(PromptComposition, PromptCompositionAdmin)
