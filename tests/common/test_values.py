"""common.values.email answers exactly as Django's EmailValidator, through its faster path too."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from common.values import InvalidValue, email

ADDRESSES = [
    "a@b.com",
    "first.last+tag@sub.example.co.uk",
    "a@localhost",
    "a@[127.0.0.1]",
    "a@[::1]",
    "a@[999.1.1.1]",
    '"quoted"@example.com',
    '"with space"@example.com',
    "a@b",
    "a@@b.com",
    "a@b@c.com",
    "a@b..com",
    "@b.com",
    "a@",
    "a.@b.com",
    ".a@b.com",
    "a@b.com.",
    "a@-b.com",
    "a@b-.com",
    "a@b.c0m",
    "x@xn--bcher-kva.ch",
    "ü@b.com",
    "a@bücher.ch",
    "a@" + "b" * 64 + ".com",
    "a@" + "b" * 63 + ".com",
    "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com",
    "a@b.com\n",
    "A@B.COM",
]


def django_accepts(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("address", [a for a in ADDRESSES if django_accepts(a.strip())])
def test_an_email_django_accepts_is_accepted(address):
    assert email(address, max_length=1000) == address.strip()


@pytest.mark.parametrize("address", [a for a in ADDRESSES if not django_accepts(a.strip())])
def test_an_email_django_refuses_is_refused_with_the_api_message(address):
    with pytest.raises(InvalidValue, match=r"^Enter a valid email address\.$"):
        email(address, max_length=1000)
