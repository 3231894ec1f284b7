from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.currencies import validate_currency_code

from .regions import validate_phone_region


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))

    @classmethod
    def normalize_email(cls, email):
        # One spelling per address, so sign-in and uniqueness never depend on letter case.
        return (email or "").strip().lower()

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in by email. Which organizations they act for is their memberships."""

    email = models.EmailField("email address", max_length=254, unique=True)
    name = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the back office (the Django admin)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    # True from set_password() until the user is next saved: the admin's password form,
    # `changepassword` and any code that sets a password end its sessions on that save
    # (authkeys.tokens.end_sessions_on_password_change).
    password_was_set = False

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_was_set = True


class ResponseCasing(models.TextChoices):
    """How the API spells the keys of its answers. camelCase is Bigcapital's document and the
    contract; snake_case is what Bigcapital's live server answers, for clients written against
    it. Input is taken in both, whatever this says."""

    CAMEL = "camel", "camelCase (Bigcapital's document)"
    SNAKE = "snake", "snake_case (Bigcapital's live server)"


class Organization(models.Model):
    name = models.CharField(max_length=255)
    base_currency = models.CharField(max_length=3, validators=[validate_currency_code])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    response_casing = models.CharField(
        max_length=8,
        choices=ResponseCasing.choices,
        default=ResponseCasing.CAMEL,
        help_text="How answers spell their keys, for every credential of the organization that "
        "does not choose for itself.",
    )
    delivers_webhooks = models.BooleanField(
        default=False,
        editable=False,
        help_text="Whether an active webhook endpoint listens to the organization's events; kept "
        "by webhooks.services, so that a change wakes the delivery worker only where one does.",
    )
    phone_region = models.CharField(
        max_length=2,
        blank=True,
        default="",
        validators=[validate_phone_region],
        help_text="ISO 3166 country code (US, GB, DE, …) of phone numbers written without a "
        "country code, so that duplicate detection reads them; blank reads only numbers "
        "written with one (+44 …).",
    )
    reject_possible_duplicates = models.BooleanField(
        default=False,
        help_text="Refuse to create a customer that strongly matches an existing one (409 "
        "CUSTOMER_POSSIBLE_DUPLICATE) instead of creating it with a hint. A request may still "
        "ask with ?onDuplicate=allow.",
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_one_per_user_and_organization"
            ),
        ]
        indexes = [models.Index(fields=["user", "organization"], name="membership_user_org")]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class Branch(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="branches"
    )
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=64, blank=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "branches"
        ordering = ["organization", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"],
                condition=~Q(code=""),
                name="branch_code_unique_per_organization",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_primary=True),
                name="branch_one_primary_per_organization",
            ),
        ]

    def __str__(self):
        return self.name
