"""Django's session, authentication and message middleware, kept off the JSON API.

Callers of `/v1/` authenticate with a bearer token on every request and get JSON back: they
have no session, no Django user and no flash messages. Running that middleware anyway (a
signed-cookie message store and a session store built for every request) costs about a tenth
of the CPU of a cached read. The admin and the other HTML pages keep all of it.

Each class here is the Django middleware of the same name with `BrowserOnly` in front, so the
admin's system checks (admin.E408-E410, which look for subclasses) stay satisfied. CSRF and
X-Frame-Options stay Django's own classes on every path: they cost little, and the deploy
checks (security.W002, W003) look for them by name.
"""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse

from core.errors import JSON_API_PREFIXES


class BrowserOnly:
    """Mixin for a `MiddlewareMixin` middleware: on `/v1/` paths, hand the request straight on."""

    sync_capable = True
    async_capable = False  # the project serves WSGI; under ASGI Django adapts the chain for these

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(JSON_API_PREFIXES):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(BrowserOnly, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(BrowserOnly, MessageMiddleware):
    pass
