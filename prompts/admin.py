"""Staff curation of prompt particles and compositions.

Staff create global objects by default (is_system ticked, no organization). The forms check
the rules the services apply (the ownership pair in `OwnedPromptObject.clean()`, the
composition's particles in `services.resolve_particles()`), so a broken rule is a form error
next to its field; saving and deleting go through the same services as the API, so an admin
edit leaves the same version and audit event.
"""

from adminsortable2.admin import CustomInlineFormSetMixin, SortableAdminBase, SortableTabularInline
from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.admin import (
    EMPTY,
    AddPageWithoutUsageMixin,
    AdminModelForm,
    admin_link,
    adopt_saved,
    history_admin_base,
    owner_label,
    preformatted,
    staff_actor,
)
from prompts import limits, services
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle
from prompts.rendering import render_composition, render_particles

OWNER_FIELDS = ("is_system", "organization_id")


class OwnedPromptObjectForm(AdminModelForm):
    """Global (no organization) or one organization's: `OwnedPromptObject.clean()` checks the pair."""

    def owner_changes_to(self) -> str | None:
        """The organization the object is to belong to (None: global), when the form is valid so far."""
        return services.owner_of(self.cleaned_data)

    def changed_values(self) -> dict:
        """The fields the form changed, for the service's `data`."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}

    def apply_service_rule(self, check, *args) -> None:
        """Run a service's rule on the form's values; its errors land next to their fields."""
        try:
            check(*args)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)


class PromptParticleForm(OwnedPromptObjectForm):
    kind_label = "particle"

    class Meta:
        model = PromptParticle
        fields = ("name", "kind", "content", "is_system", "organization_id")
        labels = {"is_system": "Global"}

    def _post_clean(self):
        # After the model's own validation (the owner pair), on the form's values.
        super()._post_clean()
        if self.errors or self.instance._state.adding:
            return
        if "content" in self.changed_data:
            self.apply_service_rule(services.ensure_compositions_fit, self.instance, self.cleaned_data["content"])
        self.apply_service_rule(services.ensure_owner_fits_compositions, self.instance, self.owner_changes_to())


class PromptCompositionForm(OwnedPromptObjectForm):
    kind_label = "composition"

    class Meta:
        model = PromptComposition
        fields = ("name", "description", "is_system", "organization_id")
        labels = {"is_system": "Global"}


class CompositionParticleForm(forms.ModelForm):
    class Meta:
        model = PromptCompositionParticle
        fields = ("position", "particle")


class CompositionParticleFormSet(CustomInlineFormSetMixin, forms.BaseInlineFormSet):
    """The composition's particles in the order staff dragged them to, checked as the service checks them.

    django-admin-sortable2 keeps `position` in a hidden input and renumbers the saved rows as
    they are dragged; a row added since the last save has no position yet and comes after them,
    in the order it was added. The rows are not saved by the formset: `PromptCompositionAdmin`
    hands the ordered particle ids to `services.composition_create` / `composition_update` with
    the composition's fields, so a reorder is one version with `particleIds` changed (with its
    audit event and cache bump), as through the API.
    """

    def particle_ids(self) -> list:
        kept = [
            (index, form)
            for index, form in enumerate(self.forms)
            if not self._should_delete_form(form) and form.cleaned_data.get("particle") is not None
        ]

        def place(entry):
            index, form = entry
            position = form.cleaned_data.get("position")
            return (position is None, position if position is not None else 0, index)

        kept.sort(key=place)
        return [form.cleaned_data["particle"].pk for _, form in kept]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        composition = self.instance
        try:
            services.resolve_particles(
                organization_id=composition.owner,
                particle_ids=self.particle_ids(),
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class PromptCompositionParticleInline(SortableTabularInline):
    model = PromptCompositionParticle
    form = CompositionParticleForm
    formset = CompositionParticleFormSet
    fields = ("position", "particle")
    ordering = ("position",)
    autocomplete_fields = ("particle",)
    min_num = limits.COMPOSITION_PARTICLES_MIN
    max_num = limits.COMPOSITION_PARTICLES_MAX
    verbose_name = "particle"
    verbose_name_plural = "particles (drag a saved row by its handle to reorder)"

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 1

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_min=True, validate_max=True, **kwargs)


@admin.register(PromptParticle)
class PromptParticleAdmin(AddPageWithoutUsageMixin, history_admin_base(PromptParticle)):
    form = PromptParticleForm
    list_display = ("name", "kind", "is_system", "organization_id", "composition_count", "updated_at")
    list_filter = ("kind", "is_system")
    search_fields = ("name", "content", "organization_id")
    ordering = ("kind", "name")
    readonly_fields = ("used_in_compositions", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "content")}),
        ("Ownership", {"fields": ("is_system", "organization_id")}),
        ("Where used", {"fields": ("used_in_compositions", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(composition_count=Count("composition_items"))

    def get_changeform_initial_data(self, request):
        return {"is_system": True, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            services.particle_update(
                particle=PromptParticle.objects.get(pk=obj.pk), actor=staff_actor(request), data=form.changed_values()
            )
        else:
            fields = {name: form.cleaned_data[name] for name in ("kind", "name", "content")}
            adopt_saved(
                obj,
                services.particle_create(
                    organization_id=form.owner_changes_to(), actor=staff_actor(request), data=fields
                ),
            )

    def delete_model(self, request, obj):
        services.particle_delete(particle=obj, actor=staff_actor(request))

    def delete_queryset(self, request, queryset):
        for particle in queryset:
            self.delete_model(request, particle)

    @admin.display(description="compositions", ordering="composition_count")
    def composition_count(self, obj) -> int:
        return obj.composition_count

    @admin.display(description="used in compositions")
    def used_in_compositions(self, obj):
        if obj is None or obj._state.adding:
            return EMPTY
        compositions = obj.compositions.order_by("name").distinct()
        if not compositions:
            return "Not used by any composition."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{} ({})</li>", ((admin_link(c), owner_label(c)) for c in compositions)),
        )


@admin.register(PromptComposition)
class PromptCompositionAdmin(SortableAdminBase, AddPageWithoutUsageMixin, history_admin_base(PromptComposition)):
    sections_for_saved_objects = ("Rendered prompt", "Where used")
    form = PromptCompositionForm
    inlines = (PromptCompositionParticleInline,)
    list_display = ("name", "is_system", "organization_id", "particle_count", "updated_at")
    list_filter = ("is_system",)
    search_fields = ("name", "description", "organization_id")
    ordering = ("name",)
    readonly_fields = ("rendered_prompt", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Ownership", {"fields": ("is_system", "organization_id")}),
        ("Rendered prompt", {"fields": ("rendered_prompt",)}),
        ("Where used", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(particle_count=Count("items", distinct=True))

    def get_changeform_initial_data(self, request):
        return {"is_system": True, **super().get_changeform_initial_data(request)}

    class Media:
        js = ("prompts/composition_preview.js",)

    def get_urls(self):
        opts = self.model._meta
        preview = path(
            "preview/",
            self.admin_site.admin_view(self.preview_view),  # staff only, CSRF-checked
            name=f"{opts.app_label}_{opts.model_name}_preview",
        )
        return [preview, *super().get_urls()]

    @staticmethod
    def preview_response(*, owner: str | None, particle_ids: list) -> dict:
        """What the form's particles render to, for `owner`, with the checks and the rendering of
        a save through the API (services.resolve_particles, prompts.rendering)."""
        try:
            particles = services.resolve_particles(organization_id=owner, particle_ids=particle_ids)
        except ValidationError as exc:
            errors, rendered = exc.messages, ""
        else:
            errors, rendered = [], render_particles(particles)
        return {
            "renderedPrompt": rendered,
            "characters": len(rendered),
            "maxCharacters": limits.RENDERED_PROMPT_MAX_LENGTH,
            "errors": errors,
        }

    def preview_view(self, request):
        """The change form's live preview (prompts/static/prompts/composition_preview.js): the
        form's particle ids, in order, and its owner fields, POSTed; nothing is saved."""
        return require_POST(self._preview)(request)

    def _preview(self, request):
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        owner = services.owner_of(
            {"is_system": request.POST.get("is_system") == "on", "organization_id": request.POST.get("organization_id")}
        )
        return JsonResponse(self.preview_response(owner=owner, particle_ids=request.POST.getlist("particle_ids")))

    def save_model(self, request, obj, form, change):
        """Saved with its particles, by the service, in `save_related`."""

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        (formset,) = (formset for formset in formsets if isinstance(formset, CompositionParticleFormSet))
        data = {**form.changed_values(), "particle_ids": formset.particle_ids()}
        if change:
            services.composition_update(
                composition=PromptComposition.objects.get(pk=obj.pk), actor=staff_actor(request), data=data
            )
        else:
            fields = {name: form.cleaned_data[name] for name in ("name", "description")}
            created = services.composition_create(
                organization_id=form.owner_changes_to(),
                actor=staff_actor(request),
                data={**fields, "particle_ids": data["particle_ids"]},
            )
            adopt_saved(obj, created)
        for formset in formsets:  # what the admin's change message reads of a saved formset
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        if not add and any(formset.has_changed() for formset in formsets):
            message.append({"changed": {"fields": ["particles"]}})
        return message

    def delete_model(self, request, obj):
        services.composition_delete(composition=obj, actor=staff_actor(request))

    def delete_queryset(self, request, queryset):
        for composition in queryset:
            self.delete_model(request, composition)

    @admin.display(description="particles", ordering="particle_count")
    def particle_count(self, obj) -> int:
        return obj.particle_count

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """The History page's "What changed" also names a reorder: the particle order is a snapshot
        on each version (`particle_ids`), not a column simple-history compares."""
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        records = list(historical_records)
        ids = {particle_id for record in records for particle_id in record.particle_ids}
        names = {str(pk): name for pk, name in PromptParticle.objects.filter(pk__in=ids).values_list("pk", "name")}

        def listed(record) -> str:
            return ", ".join(names.get(particle_id, f"(deleted {particle_id})") for particle_id in record.particle_ids)

        for newer, older in zip(records, records[1:], strict=False):
            if newer.particle_ids != older.particle_ids:
                change = {"field": "Particles", "old": listed(older), "new": listed(newer)}
                newer.history_delta_changes = [*getattr(newer, "history_delta_changes", []), change]

    @admin.display(description="rendered prompt (as saved)")
    def rendered_prompt(self, obj):
        if obj is None:
            return EMPTY
        return preformatted(render_composition(obj))
