"""The customer form of the back office: validation up front, writes left to the services.

The form only decides what the user asked for (`CustomerEdit`); `CustomerAdmin.save_model` hands
that to `customers/services.py`, so the admin obeys the same rules, versions and history as the API.
"""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

from common.errors import ApplicationError
from common.http import IfMatch
from common.values import InvalidValue

from . import validation
from .fields import FIELDS, FIELDS_BY_NAME, CustomerField, Kind, writable, writable_attributes
from .models import Customer
from .services import check_branch, check_opening_balance

# Fields the form edits through customer_update; currency and the opening balance are not among
# them (the field table makes them read-only on update).
UPDATABLE = writable_attributes("update") - {"active"}
CREATABLE = writable_attributes("create")


@dataclass(frozen=True)
class CustomerEdit:
    """What one save of the change form asks the services to do."""

    if_match: IfMatch
    changes: dict
    opening_balance: dict | None
    active: bool | None


FORM_CHECKED = frozenset(
    {Kind.NAME, Kind.TEXT, Kind.EMAIL, Kind.NOTE, Kind.CODE, Kind.CUSTOMER_TYPE, Kind.CURRENCY}
    | {Kind.AMOUNT, Kind.RATE}
)
"""Kinds whose form value is already the value the API would take (text, a decimal). A checkbox,
a date-time widget and the branch menu can only give a boolean, a date-time or a listed branch;
the branch's organization is checked by services.check_branch in `clean`."""


def _validator(spec: CustomerField):
    check = validation.check(spec)

    def validate(value):
        try:
            check(value)
        except InvalidValue as error:
            raise ValidationError(error.message, code=error.code) from None

    return validate


def _form_attribute(attribute: str) -> str:
    return attribute.removesuffix("_id") if attribute == "opening_balance_branch_id" else attribute


def form_attributes() -> list[str]:
    """The form's fields in the field table's order: everything a client may create."""
    return [_form_attribute(spec.attribute) for spec in writable("create")]


def _service_value(attribute: str, cleaned: dict):
    value = cleaned[_form_attribute(attribute)]
    return value.pk if attribute == "opening_balance_branch_id" and value else value


class CustomerAdminForm(forms.ModelForm):
    loaded_version = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        help_text="The version this form was loaded with; a save is refused once it is stale.",
    )

    class Meta:
        model = Customer
        # The admin narrows this to its fieldsets; the field table says what can be written.
        fields = ["organization", *form_attributes()]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].required = True
            self.initial.setdefault("loaded_version", self.instance.version)
        for spec in FIELDS:
            if spec.kind in FORM_CHECKED and spec.attribute in self.fields:
                # The field's one rule, as the API and the import run it; the form field only
                # turns the widget's text into a value and says whether one is required.
                self.fields[spec.attribute].validators = [_validator(spec)]

    def organization(self):
        return (
            self.instance.organization
            if self.instance.pk
            else self.cleaned_data.get("organization")
        )

    def clean(self):
        cleaned = super().clean()
        organization = self.organization()
        branch = cleaned.get("opening_balance_branch")
        rules = [
            lambda: check_opening_balance(
                cleaned.get("opening_balance") or 0, cleaned.get("opening_balance_at")
            )
        ]
        if branch is not None and organization is not None:
            rules.append(lambda: check_branch(organization, branch.pk))
        for rule in rules:  # the services' own rules and words, checked before the save
            try:
                rule()
            except ApplicationError as error:
                self.add_error(
                    _form_attribute(FIELDS_BY_NAME[error.field].attribute), error.message
                )
        return cleaned

    def create_data(self) -> dict:
        """{attribute: value} for customer_create."""
        return {
            attribute: _service_value(attribute, self.cleaned_data)
            for attribute in CREATABLE
            if _form_attribute(attribute) in self.cleaned_data
        }

    def edit(self) -> CustomerEdit:
        changed = set(self.changed_data)
        opening_balance = None
        if any(name.startswith("opening_balance") for name in changed):
            cleaned = self.cleaned_data
            branch = cleaned["opening_balance_branch"]
            opening_balance = {
                "amount": cleaned["opening_balance"],
                "at": cleaned["opening_balance_at"],
                "exchange_rate": cleaned["opening_balance_exchange_rate"],
                "branch_id": branch.pk if branch else None,
            }
        return CustomerEdit(
            if_match=IfMatch(frozenset({f'"{self.cleaned_data["loaded_version"]}"'})),
            changes={name: self.cleaned_data[name] for name in changed & UPDATABLE},
            opening_balance=opening_balance,
            active=self.cleaned_data["active"] if "active" in changed else None,
        )
