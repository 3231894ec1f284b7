"""API key format and digests.

A key is `bc_` + 96 lowercase hex characters (48 random bytes). With that much entropy a single
SHA-256 is the right digest: a slow password hasher would add milliseconds to every request and
no security, since nobody can guess 384 random bits.
"""

import hashlib
import re
import secrets

PREFIX = "bc_"
SECRET_BYTES = 48
KEY_PATTERN = re.compile(r"bc_[0-9a-f]{96}")
# What the key list shows so a person can tell keys apart: the prefix and 8 hex characters.
DISPLAY_PREFIX_LENGTH = len(PREFIX) + 8


def generate_key() -> str:
    return PREFIX + secrets.token_hex(SECRET_BYTES)


def is_well_formed(key: str) -> bool:
    return KEY_PATTERN.fullmatch(key) is not None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]
