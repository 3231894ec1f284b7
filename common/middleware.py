"""The admin's middleware, passed by for the API.

Sessions, the signed-in user and flash messages serve the admin. Requests under /api/ are
authenticated by their bearer token alone (authkeys.authentication) and never read a session, the
session's user or a message, so there these three would only cost time. They
stay subclasses of Django's own, so the admin's system checks still find them; every other path
runs them as before. Security and CSRF middleware run for every path (API views are exempt from
CSRF as DRF makes them, and `check --deploy` asks for the CSRF middleware by name).
"""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions

API_PREFIX = "/api/"


class _NotForApi:
    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_NotForApi, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(_NotForApi, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(_NotForApi, messages.MessageMiddleware):
    pass
