"""Who might be the same customer: identity signals, and a score with its reasons.

A customer's *signals* are the normalised values that identify it, each stored per organization
in CustomerSignal (customers/duplicates.py keeps them and finds customers that share them):

- `email`: the e-mail addresses (main, billing, shipping) trimmed and lower-cased; nothing
  provider-specific (dots and `+tags` stay, as they may be different mailboxes);
- `phone`: the phone numbers (work, personal, billing, shipping) in E.164, read by the
  `phonenumbers` library with the organization's region (`Organization.phone_region`) for numbers
  written without a country code; a number that cannot be read is not a signal;
- `code`: the customer's code, trimmed and lower-cased (`C-001` and `c-001 `);
- `name`: the display name, the company name, and first and last name together, reduced to a
  *name key*: accents and punctuation dropped, lower case, legal forms (`Corp.`, `Inc`, `Ltd`,
  `GmbH`, …) removed. `Acme Corp.` and `ACME Corporation` both become `acme`. A person's first name
  alone is never a key, so two people who share only a first name do not match.

The *score* of a pair is 1 - product(1 - weight) over the signals it shares (each kind counted
once), so evidence adds up but never passes 1:

    same email 0.9 · same code 0.9 · same phone 0.7 · names similar s >= 0.85: 0.6 * s

Names are compared with RapidFuzz's token-sort ratio of the name keys, so word order does not
matter. Two customers are *possible duplicates* from LIST_THRESHOLD (0.5: a shared name key
alone lists them), and a *strong match* from STRONG_THRESHOLD (0.8: an e-mail or code alone, or a
phone and a similar name) — the level at which a create is hinted or refused.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from rapidfuzz import fuzz

LIST_THRESHOLD = 0.5
STRONG_THRESHOLD = 0.8
NAME_SIMILARITY = 0.85
WEIGHTS = {"email": 0.9, "code": 0.9, "phone": 0.7, "name": 0.6}
VALUE_MAX = 255

EMAIL_ATTRIBUTES = ("email", "billing_address_email", "shipping_address_email")
PHONE_ATTRIBUTES = (
    "work_phone",
    "personal_phone",
    "billing_address_phone",
    "shipping_address_phone",
)
NAME_LABELS = {"display_name": "display name", "company_name": "company name", "person": "name"}
IDENTITY_ATTRIBUTES = frozenset(
    {*EMAIL_ATTRIBUTES, *PHONE_ATTRIBUTES, "code", "display_name", "company_name"}
    | {"first_name", "last_name"}
)
# Legal forms and their abbreviations, in the languages customers' books are most often kept in.
LEGAL_FORMS = frozenset(
    [
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "plc",
        "pty",
        "gmbh",
        "ag",
        "kg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "ab",
        "as",
        "oy",
        "kk",
    ]
)
_NOT_WORD = re.compile(r"[^\w]+")


def name_key(text: str) -> str:
    """`text` as a name key: no accents or punctuation, lower case, no legal form."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = [w for w in _NOT_WORD.sub(" ", plain.replace("_", " ")).split() if w]
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)[:VALUE_MAX]


def email_key(text: str) -> str:
    return (text or "").strip().lower()[:VALUE_MAX]


def phone_key(text: str, region: str) -> str:
    """The number in E.164, or "" when it cannot be read as a possible phone number."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def names(customer) -> dict[str, str]:
    """The customer's name keys by what they name (display name, company name, the person)."""
    found = {
        "display_name": name_key(customer.display_name),
        "company_name": name_key(customer.company_name),
    }
    if customer.first_name.strip() and customer.last_name.strip():
        found["person"] = name_key(f"{customer.first_name} {customer.last_name}")
    return {label: key for label, key in found.items() if key}


def signals(customer, region: str) -> set[tuple[str, str]]:
    """The customer's signals as (kind, value) pairs."""
    found = {("email", email_key(getattr(customer, a))) for a in EMAIL_ATTRIBUTES}
    found |= {("phone", phone_key(getattr(customer, a), region)) for a in PHONE_ATTRIBUTES}
    found.add(("code", email_key(customer.code or "")))
    found |= {("name", key) for key in names(customer).values()}
    return {(kind, value) for kind, value in found if value}


@dataclass
class Match:
    """How much `customer` looks like the customer it was compared with, and why."""

    customer: object
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        return self.score >= STRONG_THRESHOLD


def _name_similarity(a, b) -> tuple[float, str]:
    best, label = 0.0, ""
    names_b = names(b)
    for label_a, key_a in names(a).items():
        for key_b in names_b.values():
            similarity = fuzz.token_sort_ratio(key_a, key_b) / 100
            if similarity > best:
                best, label = similarity, NAME_LABELS[label_a]
    return best, label


def compare(a, b, region: str, *, fuzzy: bool = True) -> Match:
    """The score of `b` as a duplicate of `a`, with its reasons (most telling first). Without
    `fuzzy`, names count only when a name key is the same (the organization-wide report's rule,
    which finds pairs by equal signals)."""
    shared = {kind for kind, _ in signals(a, region) & signals(b, region)}
    reasons, weights = [], []
    for kind, reason in (("email", "same email"), ("code", "same code"), ("phone", "same phone")):
        if kind in shared:
            reasons.append(reason)
            weights.append(WEIGHTS[kind])
    similarity, label = _name_similarity(a, b)
    if similarity >= (NAME_SIMILARITY if fuzzy else 1):
        reasons.append(f"same {label}" if similarity == 1 else f"{label} {similarity:.2f} similar")
        weights.append(WEIGHTS["name"] * similarity)
    return Match(customer=b, score=combined(weights), reasons=reasons)


def combined(weights: Iterable[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1 - weight
    return round(1 - remaining, 3)
