from django.apps import AppConfig


class ModelsRegistryConfig(AppConfig):
    name = "models_registry"
    verbose_name = "Model registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import audit, generations
        from models_registry.api.serializers import AIModelSerializer
        from models_registry.models import AIModel

        audit.track(AIModel, object_type="model", serializer=AIModelSerializer)
        audit.register_object_type("entitlement")  # models_registry.entitlement_services
        audit.register_object_type("plan")
        generations.connect(AIModel)
