"""Development: debug on, a fixed throwaway secret so `make run` needs no configuration."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-local-development-only-0f3c8a1d9e7b4c2a8f6e5d4c3b2a1908",
)
