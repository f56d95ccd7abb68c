from django.apps import AppConfig


class ModelsRegistryConfig(AppConfig):
    name = "models_registry"
    verbose_name = "Model registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from models_registry import (
            audit,  # noqa: F401  (connects the audit trail to the version history)
            resolved_cache,
        )

        resolved_cache.connect_signals()
