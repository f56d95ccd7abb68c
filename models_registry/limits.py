"""Every bound on a model field, written once.

These constants feed the model field validators, the named database CHECK constraints,
the serializers (and so the OpenAPI minimum/maximum/maxLength) and the admin help texts.
The numbers come from the source API document (shared/seeds).
"""

from decimal import Decimal

from core.limits import ORGANIZATION_ID_MAX_LENGTH  # noqa: F401 (re-exported: a user model's owner)
from prompts.limits import SYSTEM_PROMPT_MAX_LENGTH

NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 200

DESCRIPTION_MAX_LENGTH = 2_000

CONTEXT_WINDOW_MIN = 1
CONTEXT_WINDOW_MAX = 2_000_000

MAX_TOKENS_MIN = 1
MAX_TOKENS_MAX = 200_000

# The override replaces a rendered composition, so it has the same limit.
SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH = SYSTEM_PROMPT_MAX_LENGTH

# The credit multiplier must be strictly positive.
CREDIT_MULTIPLIER_EXCLUSIVE_MIN = Decimal("0")
CREDIT_MULTIPLIER_MAX_DIGITS = 8
CREDIT_MULTIPLIER_DECIMAL_PLACES = 4

PROVIDER_MAX_LENGTH = 64
PROVIDER_MODEL_ID_MAX_LENGTH = 200

# Entitlements (models_registry.entitlements)
PLAN_NAME_MAX_LENGTH = 100
MAX_USER_MODELS_QUOTA = 1_000_000

# Slugs (models_registry.slugs)
SLUG_MIN_LENGTH = 1
SLUG_MAX_LENGTH = 100

# Export and import of an organization's configuration (models_registry.transfer): at most this
# many objects in each list of a document (`particles`, `compositions`, `models`). The whole
# body is also bound by the API's request size limit (DATA_UPLOAD_MAX_MEMORY_SIZE, a 413).
TRANSFER_MAX_ITEMS = 500
