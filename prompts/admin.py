"""Staff curation of prompt particles and compositions.

Staff create global objects by default (is_system ticked, no organization). The ownership
rule of the CHECK constraints is checked by the forms, so an inconsistent combination is a
form error next to the field, never an IntegrityError.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.html import format_html, format_html_join

from core.admin import EMPTY, AddPageWithoutUsageMixin, admin_link, history_admin_base, owner_label, preformatted
from prompts import limits, services
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle
from prompts.rendering import render_composition, render_particles


class OwnedPromptObjectForm(forms.ModelForm):
    """Global (no organization) or one organization's: `OwnedPromptObject.clean()` checks the pair."""

    def owner_changes_to(self) -> str | None:
        """The organization the object is to belong to (None: global), when the form is valid so far."""
        if self.cleaned_data.get("is_system"):
            return None
        return self.cleaned_data.get("organization_id")


class PromptParticleForm(OwnedPromptObjectForm):
    kind_label = "particle"

    class Meta:
        model = PromptParticle
        fields = ("name", "kind", "content", "is_system", "organization_id")
        labels = {"is_system": "Global"}

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.instance._state.adding:
            return cleaned
        if "content" in self.changed_data:
            # Every composition using the particle must still render within the limit.
            services.ensure_compositions_fit(self.instance, cleaned["content"])
        organization_id = self.owner_changes_to()
        if organization_id is not None:
            # A composition may use global particles and its own organization's only.
            conflicting = self.instance.compositions.exclude(is_system=False, organization_id=organization_id)
            names = sorted({composition.name for composition in conflicting})
            if names:
                self.add_error(
                    "organization_id",
                    "Used by compositions outside this organization: " + ", ".join(names) + ".",
                )
        return cleaned


class PromptCompositionForm(OwnedPromptObjectForm):
    kind_label = "composition"

    class Meta:
        model = PromptComposition
        fields = ("name", "description", "is_system", "organization_id")
        labels = {"is_system": "Global"}


class CompositionParticleForm(forms.ModelForm):
    position = forms.IntegerField(
        min_value=0,
        max_value=limits.COMPOSITION_PARTICLES_MAX - 1,
        help_text="Particles render in ascending position.",
    )

    class Meta:
        model = PromptCompositionParticle
        fields = ("position", "particle")


class CompositionParticleFormSet(forms.BaseInlineFormSet):
    """Positions are checked across the submitted rows and saved so that reordering never collides.

    Each row's unique (composition, position) and (composition, particle) checks against the
    database are skipped by Django for inline rows; the formset checks the submitted set (all
    of the composition's rows), and `save()` removes the moved rows before writing them again,
    so a swap of two positions does not violate the unique constraints midway.
    """

    def kept_forms(self):
        return [
            form
            for form in self.forms
            if not self._should_delete_form(form) and form.cleaned_data.get("particle") is not None
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        composition = self.instance
        kept = sorted(self.kept_forms(), key=lambda form: form.cleaned_data["position"])
        particles = [form.cleaned_data["particle"] for form in kept]
        for form, particle in zip(kept, particles, strict=True):
            if particle.is_system:
                continue
            if composition.is_system:
                form.add_error("particle", "A global composition can use global particles only.")
            elif particle.organization_id != composition.organization_id:
                form.add_error("particle", "This particle belongs to another organization.")
        rendered = render_particles(particles)
        if len(rendered) > limits.RENDERED_PROMPT_MAX_LENGTH:
            raise ValidationError(
                f"The rendered prompt would be {len(rendered):,} characters; "
                f"at most {limits.RENDERED_PROMPT_MAX_LENGTH:,} are allowed."
            )

    def save(self, commit=True):
        self._removed_first = set()
        if commit:
            moved = [
                form.instance.pk
                for form in self.initial_forms
                if form.instance.pk is not None and (form.has_changed() or self._should_delete_form(form))
            ]
            if moved:
                PromptCompositionParticle.objects.filter(pk__in=moved).delete()
                self._removed_first = set(moved)
        return super().save(commit)

    def delete_existing(self, obj, commit=True):
        if obj.pk in getattr(self, "_removed_first", ()):
            return
        super().delete_existing(obj, commit)


class PromptCompositionParticleInline(admin.TabularInline):
    model = PromptCompositionParticle
    form = CompositionParticleForm
    formset = CompositionParticleFormSet
    fields = ("position", "particle")
    ordering = ("position",)
    autocomplete_fields = ("particle",)
    min_num = limits.COMPOSITION_PARTICLES_MIN
    max_num = limits.COMPOSITION_PARTICLES_MAX
    verbose_name = "particle"
    verbose_name_plural = "particles (in position order)"

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
class PromptCompositionAdmin(AddPageWithoutUsageMixin, history_admin_base(PromptComposition)):
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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.record_particle_order(form.instance)

    @staticmethod
    def record_particle_order(composition: PromptComposition) -> None:
        """The version saved with the composition read its particles before the inline rows were
        written (the admin saves the object, then its inlines): give it the order as saved."""
        if not hasattr(composition, "history"):
            return
        record = composition.history.order_by("-history_date", "-history_id").first()
        if record is None or not hasattr(record, "particle_ids"):
            return
        particle_ids = [str(pk) for pk in composition.items.order_by("position").values_list("particle_id", flat=True)]
        if record.particle_ids != particle_ids:
            record.particle_ids = particle_ids
            record.save(update_fields=["particle_ids"])

    @admin.display(description="particles", ordering="particle_count")
    def particle_count(self, obj) -> int:
        return obj.particle_count

    @admin.display(description="rendered prompt (as saved)")
    def rendered_prompt(self, obj):
        if obj is None:
            return EMPTY
        return preformatted(render_composition(obj))
