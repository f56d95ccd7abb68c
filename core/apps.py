from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The receivers that put the actor on every version and derive the audit trail from it.
        # The OpenAPI description of the bearer scheme is registered with the authentication class.
        from core import audit, authentication, history  # noqa: F401
