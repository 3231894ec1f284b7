"""The regions phone numbers can be read in: those Google's libphonenumber knows."""

import phonenumbers
from django.core.exceptions import ValidationError


def validate_phone_region(value: str) -> None:
    if value and value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            "Enter a two-letter country code in capitals (US, GB, DE, …).", code="invalid"
        )
