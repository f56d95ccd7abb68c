from rest_framework.routers import SimpleRouter

from models_registry.api.openai import OpenAIModelViewSet

router = SimpleRouter(trailing_slash=False)
router.register("models", OpenAIModelViewSet, basename="openai-models")

urlpatterns = router.urls
