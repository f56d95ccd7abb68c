"""The admin of entitlements: organizations (with what each may use and why), plans, and the bulk
changes staff make (a plan to many organizations at once; one system model to many plans or
organizations, from the system model's page, in models_registry.admin). Every save goes through
models_registry.entitlement_services, so each change is an audit event and reaches the caches."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join

from core.admin import TwoPaneSelectMultiple, staff_actor
from core.models import Organization
from models_registry import entitlement_services, limits
from models_registry.entitlements import Entitlement, EntitlementMode, Plan, effective_mode, why_entitled
from models_registry.models import AIModel


def system_models_field(label: str, help_text: str) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=AIModel.objects.filter(is_system=True).order_by("name"),
        required=False,
        label=label,
        help_text=help_text,
        widget=TwoPaneSelectMultiple(label.lower(), is_stacked=False),  # "Available system models"
    )


class OrganizationForm(forms.ModelForm):
    """The organization's record plus its entitlement, edited on one page."""

    mode = forms.ChoiceField(
        choices=EntitlementMode.choices,
        initial=EntitlementMode.DEFAULT,
        help_text="all: every enabled system model; plan: its plan and additions only (an empty plan is none).",
    )
    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), required=False, help_text="Used in plan mode.")
    extra_system_models = system_models_field("Additions", "System models it may use on top of its plan.")
    max_user_models = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=limits.MAX_USER_MODELS_QUOTA,
        label="Quota of user models",
        help_text=f"0 to {limits.MAX_USER_MODELS_QUOTA:,}; empty: unlimited.",
    )

    class Meta:
        model = Organization
        fields = ("id", "slug")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        entitlement = Entitlement.objects.filter(organization_id=self.instance.pk).first() if self.instance.pk else None
        if entitlement is not None:
            self.initial.update(
                mode=entitlement.mode,
                plan=entitlement.plan_id,
                extra_system_models=list(entitlement.extra_system_models.values_list("pk", flat=True)),
                max_user_models=entitlement.max_user_models,
            )


class PlanActionForm(ActionForm):
    # Shown next to the action dropdown, labelled like it ("Action:").
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.all(),
        required=False,
        empty_label="(no plan)",
        label="Plan to assign:",
        help_text="For “Assign a plan”.",
    )


class ModeListFilter(admin.SimpleListFilter):
    """By mode as the mode column shows it: an organization without an entitlement row is in the
    default mode too (a filter on `entitlement__mode` left it out)."""

    title = "mode"
    parameter_name = "mode"

    def lookups(self, request, model_admin):
        return EntitlementMode.choices

    def queryset(self, request, queryset):
        if self.value() == EntitlementMode.DEFAULT:
            return queryset.filter(Q(entitlement__isnull=True) | Q(entitlement__mode=EntitlementMode.DEFAULT))
        if self.value() in EntitlementMode.values:
            return queryset.filter(entitlement__mode=self.value())
        return queryset


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    action_form = PlanActionForm
    actions = ("assign_plan",)
    list_display = ("id", "slug", "mode", "plan", "quota", "first_seen_at")
    list_filter = (ModeListFilter, "entitlement__plan")
    search_fields = ("id", "slug")
    readonly_fields = ("first_seen_at", "entitled_to")
    fieldsets = (
        (None, {"fields": ("id", "slug", "first_seen_at")}),
        ("Entitlement", {"fields": ("mode", "plan", "extra_system_models", "max_user_models")}),
        ("What it may use, and why", {"fields": ("entitled_to",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entitlement__plan")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "id") if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.save()
        data = form.cleaned_data
        entitlement_services.entitlement_save(
            organization_id=obj.pk,
            actor=staff_actor(request),
            mode=data["mode"],
            plan=data["plan"],
            max_user_models=data["max_user_models"],
            extra_system_models=data["extra_system_models"],
        )

    @admin.display(description="mode")
    def mode(self, obj):
        entitlement = getattr(obj, "entitlement", None)
        mode = entitlement.mode if entitlement else EntitlementMode.DEFAULT
        return mode if mode != EntitlementMode.DEFAULT else f"default ({effective_mode(mode)})"

    @admin.display(description="plan", ordering="entitlement__plan__name")
    def plan(self, obj):
        entitlement = getattr(obj, "entitlement", None)
        return entitlement.plan if entitlement and entitlement.plan else "-"

    @admin.display(description="quota")
    def quota(self, obj):
        entitlement = getattr(obj, "entitlement", None)
        return entitlement.max_user_models if entitlement and entitlement.max_user_models is not None else "-"

    @admin.display(description="system models it may use")
    def entitled_to(self, obj):
        if obj is None or obj._state.adding:
            return "-"
        reasons = why_entitled(obj.pk)
        if not reasons:
            return "None."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} — {}</li>", reasons))

    @admin.action(description="Assign a plan to the selected organizations", permissions=["change"])
    def assign_plan(self, request, queryset):
        chosen = request.POST.get("plan")  # PlanActionForm's "Plan to assign"
        plan = Plan.objects.filter(pk=chosen).first() if chosen else None
        if chosen and plan is None:
            self.message_user(request, "That plan no longer exists; nothing changed.", messages.ERROR)
            return
        changed = entitlement_services.assign_plan(
            organization_ids=list(queryset.values_list("pk", flat=True)), plan=plan, actor=staff_actor(request)
        )
        self.message_user(
            request, f"{changed} organization(s) now on {plan.name if plan else 'no plan'}.", messages.SUCCESS
        )


class PlanForm(forms.ModelForm):
    system_models = system_models_field("System models", "The system models of this plan. Empty: none.")

    class Meta:
        model = Plan
        fields = ("name", "description", "system_models")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = ("name", "model_count", "organization_count", "updated_at")
    search_fields = ("name",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(model_count=Count("system_models", distinct=True))
            .annotate(organization_count=Count("entitlements", distinct=True))
        )

    def save_model(self, request, obj, form, change):
        entitlement_services.plan_save(
            plan=obj, actor=staff_actor(request), system_models=form.cleaned_data["system_models"]
        )

    def save_related(self, request, form, formsets, change):
        """The system models were set by plan_save (with its audit event); nothing more to save."""

    @admin.display(description="system models", ordering="model_count")
    def model_count(self, obj):
        return obj.model_count

    @admin.display(description="organizations", ordering="organization_count")
    def organization_count(self, obj):
        return obj.organization_count
