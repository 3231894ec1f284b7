"""Who made a change, and through which door. Services take one; history records it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authkeys.models import ApiKey
    from organizations.models import User


class Door(StrEnum):
    API = "api"
    ADMIN = "admin"
    IMPORT = "import"
    COMMAND = "command"


@dataclass(frozen=True)
class Actor:
    door: Door
    user: User | None = None
    api_key: ApiKey | None = None

    @classmethod
    def from_request(cls, request) -> Actor:
        """The actor of an API request, from what BearerAuthentication decided."""
        principal = request.auth
        return cls(door=Door.API, user=principal.user, api_key=principal.api_key)
