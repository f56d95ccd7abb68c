from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "prompts"
    verbose_name = "Prompts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import audit, generations
        from prompts.api.serializers import PromptCompositionSerializer, PromptParticleSerializer
        from prompts.models import PromptComposition, PromptParticle

        audit.track(PromptParticle, object_type="prompt-particle", serializer=PromptParticleSerializer)
        audit.track(PromptComposition, object_type="prompt-composition", serializer=PromptCompositionSerializer)
        generations.connect(PromptParticle, PromptComposition)  # a composition's items change with it
