"""common/middleware.py: the admin's sessions, user and messages, passed by for /api/."""

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from common.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware

pytestmark = pytest.mark.django_db

CHAIN = (SessionMiddleware, AuthenticationMiddleware, MessageMiddleware)


def seen_by_the_view(path: str) -> set[str]:
    seen = set()

    def view(request):
        seen.update(name for name in ("session", "user", "_messages") if hasattr(request, name))
        return HttpResponse()

    handler = view
    for middleware in reversed(CHAIN):
        handler = middleware(handler)
    handler(RequestFactory().get(path))
    return seen


def test_the_api_gets_no_session_user_or_messages():
    assert seen_by_the_view("/api/customers/1") == set()


@pytest.mark.parametrize("path", ["/admin/", "/apiary", "/"])
def test_every_other_path_gets_them_as_before(path):
    assert seen_by_the_view(path) == {"session", "user", "_messages"}


def test_a_signed_in_admins_session_cookie_does_not_authenticate_an_api_request(tenant):
    tenant.owner.is_staff = True
    tenant.owner.save(update_fields=["is_staff"])
    browser = Client()
    browser.force_login(tenant.owner)
    assert browser.get("/admin/").status_code == 200

    response = browser.get(f"/api/customers/{tenant.customer.pk}")

    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
