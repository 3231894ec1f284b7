from django.conf import settings
from django.db import models
from django.utils import timezone

from organizations.models import Organization, ResponseCasing


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)


class ApiKey(models.Model):
    """A credential that acts for one organization. Only the SHA-256 digest is stored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=255)
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to recognise it."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text="The key stops working when this user is deactivated.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_casing = models.CharField(
        max_length=8,
        choices=ResponseCasing.choices,
        blank=True,
        default="",
        help_text="How answers to this key spell their keys; empty: the organization's setting.",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="apikey_org_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        if not self.organization.is_active:
            return False
        return self.created_by is None or self.created_by.is_active


class RateLimitCounter(models.Model):
    """One fixed-window request counter, when the counters live in the database.

    Its table is UNLOGGED on PostgreSQL: counters are worth nothing after a crash, so they skip
    the write-ahead log, and counting a request costs one short upsert.
    """

    name = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveBigIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.name}: {self.count}"
