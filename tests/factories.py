"""factory_boy factories for the registry's models: the tests make their rows here, and only here."""

import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from core.models import AuditEvent, IdempotencyRecord
from models_registry.models import AIModel
from prompts.models import ParticleKind, PromptComposition, PromptCompositionParticle, PromptParticle


class SystemModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    is_system = True
    name = factory.Sequence(lambda n: f"System Model {n}")
    description = "A base model for tests"
    provider = "provider-a"
    provider_model_id = factory.Sequence(lambda n: f"base-model-{n}")
    slug = factory.LazyAttribute(lambda o: o.provider_model_id.lower())
    context_window = 128_000
    max_tokens = 16_384
    supports_streaming = True
    supports_tools = True
    supports_vision = False
    supports_reasoning = False
    credit_multiplier = Decimal("1.5")
    is_enabled = True


class UserModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    is_system = False
    organization_id = "org-a"
    parent = factory.SubFactory(SystemModelFactory)
    name = factory.Sequence(lambda n: f"User Model {n}")
    slug = factory.Sequence(lambda n: f"user-model-{n}")
    description = ""
    context_window = factory.LazyAttribute(lambda o: o.parent.context_window)
    max_tokens = None
    supports_streaming = factory.LazyAttribute(lambda o: o.parent.supports_streaming)
    supports_tools = None
    supports_vision = None
    supports_reasoning = None
    provider = None
    provider_model_id = None
    credit_multiplier = None
    is_enabled = True


class ParticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptParticle

    organization_id = "org-a"
    is_system = False
    kind = ParticleKind.ROLE
    name = factory.Sequence(lambda n: f"Particle {n}")
    content = factory.Sequence(lambda n: f"Particle content {n}.")


class GlobalParticleFactory(ParticleFactory):
    organization_id = None
    is_system = True


class CompositionFactory(factory.django.DjangoModelFactory):
    """`CompositionFactory(particles=[p1, p2])` places the particles in that order."""

    class Meta:
        model = PromptComposition
        skip_postgeneration_save = True

    organization_id = "org-a"
    is_system = False
    name = factory.Sequence(lambda n: f"Composition {n}")
    description = ""

    @factory.post_generation
    def particles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        PromptCompositionParticle.objects.bulk_create(
            PromptCompositionParticle(composition=self, particle=particle, position=position)
            for position, particle in enumerate(extracted)
        )


class GlobalCompositionFactory(CompositionFactory):
    organization_id = None
    is_system = True


class AuditEventFactory(factory.django.DjangoModelFactory):
    """`AuditEventFactory(minutes_ago=5)` dates the event five minutes back."""

    class Meta:
        model = AuditEvent

    class Params:
        minutes_ago = 0

    occurred_at = factory.LazyAttribute(lambda o: timezone.now() - timedelta(minutes=o.minutes_ago))
    organization_id = "org-a"
    actor = "member:member-test-org-a"
    action = AuditEvent.Action.UPDATED
    object_type = "model"
    object_id = factory.LazyFunction(uuid.uuid4)
    object_repr = "Something"
    changed_fields = factory.LazyFunction(lambda: ["name"])
    request_id = factory.LazyFunction(lambda: uuid.uuid4().hex)


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    """`IdempotencyRecordFactory(expires_in=timedelta(seconds=-1))` is already expired."""

    class Meta:
        model = IdempotencyRecord

    class Params:
        expires_in = timedelta(hours=1)

    organization_id = "org-a"
    actor = "member:m"
    key = factory.Sequence(lambda n: f"key-{n}")
    request_fingerprint = "f" * 64
    expires_at = factory.LazyAttribute(lambda o: timezone.now() + o.expires_in)
