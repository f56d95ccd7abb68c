from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The receivers that put the actor on every version and derive the audit trail from it.
        # The OpenAPI description of the bearer scheme is registered with the authentication class;
        # `__any` (core.lookups) with its module.
        from django.db.backends.signals import connection_created

        from core import audit, authentication, history, lookups, pg_loaders  # noqa: F401

        # PostgreSQL's timestamps read in C, not by a regex in Python (core.pg_loaders).
        connection_created.connect(pg_loaders.install, dispatch_uid="core.pg_loaders.install")
