from rest_framework.routers import SimpleRouter

from models_registry.api.audit import AuditEventViewSet
from models_registry.api.views import AIModelViewSet

router = SimpleRouter(trailing_slash=False)
router.register("models", AIModelViewSet, basename="models")
router.register("audit-events", AuditEventViewSet, basename="audit-events")

urlpatterns = router.urls
