from rest_framework.routers import SimpleRouter

from core.api.audit import AuditEventViewSet

router = SimpleRouter(trailing_slash=False)
router.register("audit-events", AuditEventViewSet, basename="audit-events")

urlpatterns = router.urls
