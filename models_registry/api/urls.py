from rest_framework.routers import SimpleRouter

from models_registry.api.views import AIModelViewSet

router = SimpleRouter(trailing_slash=False)
router.register("models", AIModelViewSet, basename="models")

urlpatterns = router.urls
