from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from common.actors import Door
from common.currencies import validate_currency_code
from organizations.models import Branch, Organization

AMOUNT = {"max_digits": 13, "decimal_places": 3}
CODE_TAKEN = "Another customer of this organization already has this code."
RATE = {"max_digits": 13, "decimal_places": 9}
MIN_RATE = Decimal("0.000000001")  # an exchange rate is positive


def _text(**kwargs):
    return models.CharField(max_length=255, blank=True, default="", **kwargs)


class Customer(models.Model):
    class CustomerType(models.TextChoices):
        BUSINESS = "business", "Business"
        INDIVIDUAL = "individual", "Individual"

    # No index of its own: every composite index below starts with the organization.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="customers", db_index=False
    )
    customer_type = models.CharField(max_length=16, choices=CustomerType.choices)
    display_name = models.CharField(max_length=255)
    # NULL, not "", for "no code": the unique constraint then ignores customers without one.
    code = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    salutation = _text()
    first_name = _text()
    last_name = _text()
    company_name = _text()
    email = _text()
    work_phone = _text()
    personal_phone = _text()
    website = _text()

    billing_address_1 = _text()
    billing_address_2 = _text()
    billing_address_city = _text()
    billing_address_country = _text()
    billing_address_email = _text()
    billing_address_postcode = _text()
    billing_address_phone = _text()
    billing_address_state = _text()

    shipping_address_1 = _text()
    shipping_address_2 = _text()
    shipping_address_city = _text()
    shipping_address_country = _text()
    shipping_address_email = _text()
    shipping_address_postcode = _text()
    shipping_address_phone = _text()
    shipping_address_state = _text()

    note = models.TextField(max_length=65535, blank=True, default="")
    active = models.BooleanField(default=True)

    currency_code = models.CharField(max_length=3, validators=[validate_currency_code])
    opening_balance = models.DecimalField(**AMOUNT, default=Decimal(0))
    opening_balance_at = models.DateTimeField(null=True, blank=True)
    opening_balance_exchange_rate = models.DecimalField(
        **RATE, default=Decimal(1), validators=[MinValueValidator(MIN_RATE)]
    )
    opening_balance_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Receivable balance: the opening balance plus invoices less payments. Written only by services.
    balance = models.DecimalField(**AMOUNT, default=Decimal(0))

    # Bumped by every write; the ETag is built from it, and If-Match is checked against it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"],
                condition=Q(code__isnull=False),
                name="customer_code_unique_per_organization",
            ),
            models.CheckConstraint(
                condition=Q(customer_type__in=["business", "individual"]),
                name="customer_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(opening_balance_exchange_rate__gt=0),
                name="customer_exchange_rate_positive",
            ),
        ]
        indexes = [
            # Every list is one organization's, in a total order (ties broken by id).
            models.Index(fields=["organization", "created_at", "id"], name="customer_org_created"),
            models.Index(fields=["organization", "updated_at", "id"], name="customer_org_updated"),
            models.Index(
                fields=["organization", "display_name", "id"], name="customer_org_display_name"
            ),
            models.Index(fields=["organization", "active", "id"], name="customer_org_active"),
            models.Index(fields=["organization", "code", "id"], name="customer_org_code"),
            models.Index(fields=["organization", "balance", "id"], name="customer_org_balance"),
        ]

    def __str__(self):
        return self.display_name

    def validate_constraints(self, exclude=None):
        """Django's check of Meta.constraints (forms run it), with a code already taken in the
        organization reported on the code, in the words the API uses (the conditional unique
        constraint's own check would report it for the whole form, in Django's)."""
        super().validate_constraints(exclude={*(exclude or ()), "code"})
        if (
            self.code is not None
            and self.organization_id is not None
            and Customer.objects.filter(organization_id=self.organization_id, code=self.code)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError({"code": CODE_TAKEN}, code="unique")

    @property
    def closing_balance(self) -> Decimal:
        return self.balance

    @property
    def local_opening_balance(self) -> Decimal:
        return (self.opening_balance * self.opening_balance_exchange_rate).quantize(
            Decimal("0.001")
        )

    @property
    def has_transactions(self) -> bool:
        """Invoices and payments move the balance away from the opening balance; until this
        service keeps transactions of its own, that difference is how we know they exist."""
        return self.balance != self.opening_balance

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class CustomerChange(models.Model):
    """One change to one customer: when, who, through which door, and each field's old and new.

    `customer_id` is a plain column, not a foreign key, so the history of a deleted customer stays
    readable. `changes` maps the API's field names to `[old, new]` in the API's own JSON form.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Edited"
        DELETE = "delete", "Deleted"
        ACTIVATE = "activate", "Activated"
        INACTIVATE = "inactivate", "Inactivated"
        OPENING_BALANCE = "opening_balance", "Opening balance changed"
        MERGE = "merge", "Merged"
        UNMERGE = "unmerge", "Unmerged"

    # No index of its own: the history index starts with the organization.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customer_changes", db_index=False
    )
    customer_id = models.BigIntegerField()
    customer_display_name = models.CharField(max_length=255)
    action = models.CharField(max_length=32, choices=Action.choices)
    door = models.CharField(
        max_length=16, choices=[(door.value, door.name.title()) for door in Door]
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "authkeys.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # The change as an event (customers/events.py): its place in the organization's feed, given
    # in commit order, and the customer as the API showed it after the change (before, for a
    # deletion). The representation is dropped once the event is older than the retention.
    position = models.BigIntegerField(null=True, blank=True)
    snapshot = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "customer_id", "-created_at", "-id"],
                name="customerchange_customer",
            ),
            # The changes of a transaction still to be numbered (a bulk import numbers its
            # history at its end); empty between transactions.
            models.Index(
                fields=["organization"],
                condition=Q(position__isnull=True),
                name="customerchange_unnumbered",
            ),
        ]
        constraints = [
            # The event feed reads by it, and no two changes share a place.
            models.UniqueConstraint(
                fields=["organization", "position"], name="customerchange_position"
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.customer_display_name}"


class EventCounter(models.Model):
    """The last position given to an organization's events. Raising it locks the row until the
    transaction ends, so positions are handed out in the order the transactions commit
    (customers/events.py)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.organization_id}: {self.last}"


class CustomerIdempotencyKey(models.Model):
    """The first answer to `POST /api/customers` with an `Idempotency-Key`, kept to replay it.

    The row is claimed (inserted) at the start of the create transaction: the unique constraint
    makes a concurrent request with the same key wait for the first to commit, then replay.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customer_idempotency_keys"
    )
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    etag = models.CharField(max_length=64, blank=True, default="")
    # The Counterpart-Possible-Duplicates header of the first answer, as customer ids.
    possible_duplicate_ids = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="customer_idempotency_key_unique"
            )
        ]

    def __str__(self):
        return self.key


class ImportUpload(models.Model):
    """A customer file uploaded for import, kept where every server process can read it.

    Both doors that import in steps use it: the back office (upload, preview, confirm) and
    Bigcapital's HTTP flow (upload, map, preview, import). The file itself is in
    ImportUploadPart rows, so a later request on any server, on any machine, reads it back.
    An upload expires a day after it was made (customers.importing.uploads.LIFETIME);
    `manage.py purge_expired` deletes it then.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_uploads"
    )
    # The id clients name it by: random, so one upload's id says nothing of another's. Unique
    # within the organization (Meta), the scope every lookup names.
    import_id = models.CharField(max_length=32)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=8)
    size = models.BigIntegerField()
    sheet_columns = models.JSONField(default=list)
    # The import's options (mode, match, skip invalid rows, ignore unknown columns).
    params = models.JSONField(default=dict)
    # Sheet column → the customer field it fills, as Bigcapital's mapping step sets it; null
    # until mapped (the back office's import reads the file's own header instead).
    mapping = models.JSONField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    # The answer of the import that wrote the file, replayed if it is asked to import again.
    result = models.JSONField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "import_id"], name="import_upload_id_unique"
            )
        ]

    def __str__(self):
        return self.filename


class ImportUploadPart(models.Model):
    """One piece of an upload's bytes, in order: no single value holds a whole large file.

    It names its organization, as every table that grows with the book does, so that each
    statement on it can (tests/reliability/test_routed_queries.py). Its parts are deleted with
    the upload by customers/importing/uploads.py, by organization, never by a cascade.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # No index of its own: the unique constraint's index covers it.
    upload = models.ForeignKey(
        ImportUpload, on_delete=models.DO_NOTHING, related_name="parts", db_index=False
    )
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "upload", "number"], name="import_upload_part_unique"
            )
        ]

    def __str__(self):
        return f"{self.upload} part {self.number}"


class CustomerSignal(models.Model):
    """One normalised identity signal of a customer (customers/matching.py says which): the
    customers of an organization that share one are found through the `match` index, never by
    comparing every customer with every other. Kept by customers/duplicates.py on every write."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        CODE = "code", "Code"
        NAME = "name", "Name"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Deleted with the customer by the services, by organization (never by a cascade).
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, related_name="signals", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "customer", "kind", "value"],
                name="customersignal_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind", "value", "customer"], name="customersignal_match"
            )
        ]

    def __str__(self):
        return f"{self.kind}: {self.value}"


class CustomerSignalChange(models.Model):
    """A signal some write added to or removed from a customer, not yet reflected in the
    organization's CustomerDuplicatePair rows: customers/duplicates.py writes one with every
    signal it writes or deletes, and its `catch_up` brings the pairs up to date from them and
    deletes them. A row without a customer asks for the organization's pairs to be rebuilt."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer_id = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=8)
    value = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["organization", "id"], name="customersignalchange_next")]

    def __str__(self):
        return f"{self.customer_id} {self.kind}: {self.value}"


class CustomerDuplicatePair(models.Model):
    """Two of an organization's customers that share identity signals, scored as the duplicate
    report scores them (customers/duplicates.py), at or above matching.LIST_THRESHOLD: the
    report's rows, stored so that a page of a million-customer book is one index range. `first`
    is the lower id. Kept by duplicates.catch_up; the customer columns are plain ids, as a pair
    may name a customer deleted since the last catch-up (the report skips it)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    first_id = models.BigIntegerField()
    second_id = models.BigIntegerField()
    score = models.DecimalField(max_digits=4, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "first_id", "second_id"],
                name="customerduplicatepair_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "-score", "first_id", "second_id"],
                name="customerpair_strongest",
            ),
            models.Index(fields=["organization", "second_id"], name="customerpair_second"),
        ]

    def __str__(self):
        return f"{self.first_id} and {self.second_id}: {self.score}"


class CustomerMerge(models.Model):
    """One customer (the source) merged into another (the survivor), by customers/services.py.

    The source's row is gone from the book, so it is in no list, search or export; this row
    answers for its id (404 CUSTOMER_MERGED with `mergedInto`) and holds what an unmerge needs:
    the source's row and the survivor's before and after the merge (each column in its field's
    string form, restored exactly), and the ids of the history rows moved to the survivor.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source_id = models.BigIntegerField()
    target_id = models.BigIntegerField()
    source_row = models.JSONField()
    target_before = models.JSONField()
    target_after = models.JSONField()
    moved_change_ids = models.JSONField(default=list)
    merged_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A customer is merged away at most once at a time: a second, concurrent merge of
            # the same source fails here if not before.
            models.UniqueConstraint(
                fields=["organization", "source_id"],
                condition=Q(undone_at__isnull=True),
                name="customermerge_one_per_source",
            )
        ]

    def __str__(self):
        return f"{self.source_id} into {self.target_id}"
