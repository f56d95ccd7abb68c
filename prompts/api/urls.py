from rest_framework.routers import SimpleRouter

from prompts.api.views import PromptCompositionViewSet, PromptParticleViewSet

router = SimpleRouter(trailing_slash=False)
router.register("prompt-particles", PromptParticleViewSet, basename="prompt-particles")
router.register("prompt-compositions", PromptCompositionViewSet, basename="prompt-compositions")

urlpatterns = router.urls
