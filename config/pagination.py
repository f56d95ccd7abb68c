from rest_framework import pagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit`/`offset` paging: 50 rows by default; a larger `limit` is capped at 200, not refused."""

    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT
