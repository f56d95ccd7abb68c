"""/v1/prompt-particles and /v1/prompt-compositions through the declarative CRUD tests (tests/api_cases.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from prompts.models import PromptComposition, PromptParticle
from tests.api_cases import ORGANIZATION, OTHER_ORGANIZATION, CRUDTestCase
from tests.factories import CompositionFactory, GlobalCompositionFactory, GlobalParticleFactory, ParticleFactory

PARTICLE_FIELDS = {"id", "kind", "name", "content", "isSystem", "createdAt", "updatedAt"}
COMPOSITION_FIELDS = {
    "id",
    "name",
    "description",
    "particleIds",
    "renderedPrompt",
    "isSystem",
    "createdAt",
    "updatedAt",
}


class TestParticlesCRUD(CRUDTestCase):
    url = "/v1/prompt-particles"
    model = PromptParticle
    factory = ParticleFactory
    global_factory = GlobalParticleFactory
    fields = PARTICLE_FIELDS
    patch_body = {"name": "Renamed Particle", "content": "Changed through the API."}

    def create_body(self) -> dict[str, Any]:
        return {"kind": "role", "name": "Support agent", "content": "You are a support agent."}


class TestCompositionsCRUD(CRUDTestCase):
    """A composition needs a particle: one of its own organization's, or a global one for a global composition."""

    url = "/v1/prompt-compositions"
    model = PromptComposition
    factory = CompositionFactory
    global_factory = GlobalCompositionFactory
    fields = COMPOSITION_FIELDS
    patch_body = {"name": "Renamed Composition", "description": "Changed through the API"}

    def create_body(self) -> dict[str, Any]:
        return {"name": "Support", "particleIds": [str(ParticleFactory().pk), str(GlobalParticleFactory().pk)]}

    def make(self) -> Model:
        return CompositionFactory(organization_id=ORGANIZATION, particles=[ParticleFactory()])

    def make_foreign(self) -> Model:
        return CompositionFactory(
            organization_id=OTHER_ORGANIZATION, particles=[ParticleFactory(organization_id=OTHER_ORGANIZATION)]
        )

    def make_global(self) -> Model:
        return GlobalCompositionFactory(particles=[GlobalParticleFactory()])

    def snapshot(self, obj: Model) -> Any:
        """The row and its particles in order."""
        return super().snapshot(obj), list(obj.items.order_by("position").values_list("particle_id", flat=True))
