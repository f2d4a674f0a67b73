"""A lead as PhoneBurner's put_contact takes it: standard fields, custom fields, phones, tags.

This module is the one place where the lead's fields, their order on the wire, their labels for
people and the phone types are defined. Everything else (the encoder, the form, the column
matcher, the sandbox) reads them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "LEAD_FIELDS",
    "STANDARD_FIELDS",
    "FieldSpec",
    "Lead",
    "Phone",
    "PhoneType",
]


class PhoneType(IntEnum):
    """The phone types of `additional_phone_types[]`, numbered as in the vendor document."""

    HOME = 1
    WORK = 2
    MOBILE = 3
    FAX = 4
    OTHER = 5

    @property
    def label(self) -> str:
        return self.name.title()

    @classmethod
    def parse(cls, text: str | int) -> PhoneType:
        """Read a type as a person or a spreadsheet writes it: `2`, `Work`, `cell`, `mobile`."""
        if isinstance(text, int):
            return cls(text)
        cleaned = text.strip().lower()
        if cleaned.isdecimal() and int(cleaned) in cls._value2member_map_:
            return cls(int(cleaned))
        if cleaned in _PHONE_TYPE_WORDS:
            return _PHONE_TYPE_WORDS[cleaned]
        choices = ", ".join(f"{t.value} or {t.label}" for t in cls)
        raise ValueError(f"{text!r} is not a phone type; use {choices}.")


_PHONE_TYPE_WORDS: dict[str, PhoneType] = {
    "home": PhoneType.HOME,
    "house": PhoneType.HOME,
    "residence": PhoneType.HOME,
    "work": PhoneType.WORK,
    "office": PhoneType.WORK,
    "business": PhoneType.WORK,
    "mobile": PhoneType.MOBILE,
    "cell": PhoneType.MOBILE,
    "cellphone": PhoneType.MOBILE,
    "cell phone": PhoneType.MOBILE,
    "fax": PhoneType.FAX,
    "other": PhoneType.OTHER,
}


@dataclass(frozen=True, slots=True)
class Phone:
    """One entry of the aligned arrays `additional_phones[]`, `..._types[]`, `..._labels[]`."""

    number: str
    type: PhoneType = PhoneType.OTHER
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.type, PhoneType):
            object.__setattr__(self, "type", PhoneType.parse(self.type))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A standard scalar parameter: its wire name, its label for people, and other spellings
    that spreadsheets use for it (for the column matcher)."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    help: str = ""


# Wire order follows the vendor document's example: names, contact, address, then (after the
# custom fields) user_id and cm_id. `country` and `promocode` come from the current public
# version of the document, which lists them after the address.
STANDARD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "firstname", "First name", ("first", "first name", "fname", "given name", "forename")
    ),
    FieldSpec("lastname", "Last name", ("last", "last name", "lname", "surname", "family name")),
    FieldSpec("email", "Email", ("e-mail", "email address", "e-mail address", "mail")),
    FieldSpec(
        "phone",
        "Phone",
        ("phone number", "telephone", "tel", "primary phone", "main phone", "phone 1", "phone #"),
    ),
    FieldSpec(
        "address1",
        "Address",
        ("address", "address 1", "address line 1", "address line1", "street", "street address"),
    ),
    FieldSpec("address2", "Address line 2", ("address 2", "address line 2", "apt", "suite")),
    FieldSpec("city", "City", ("town",)),
    FieldSpec("state", "State", ("province", "region", "st", "state/province")),
    FieldSpec(
        "zip",
        "ZIP code",
        (
            "zip code",
            "zipcode",
            "postal code",
            "postcode",
            "postal",
            "zip/postal code",
            "postal/zip",
        ),
    ),
    FieldSpec("country", "Country", ("country code", "nation")),
    FieldSpec(
        "promocode", "Promo code", ("promo", "promo code", "ad code", "adcode", "source code")
    ),
)

# Sent after the custom fields, as in the document's example.
ROUTING_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "user_id",
        "User ID",
        ("user", "userid", "user id", "owner id"),
        "The PhoneBurner user who receives the lead.",
    ),
    FieldSpec(
        "cm_id",
        "LeadStream ID (cm_id)",
        ("cmid", "cm id", "leadstream", "leadstream id"),
        "The LeadStream that the lead is posted to.",
    ),
)

LEAD_FIELDS: tuple[FieldSpec, ...] = STANDARD_FIELDS + ROUTING_FIELDS


@dataclass(frozen=True, slots=True)
class Lead:
    """A lead to post. Every field is optional; the endpoint decides what it requires."""

    firstname: str = ""
    lastname: str = ""
    email: str = ""
    phone: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    promocode: str = ""
    user_id: str = ""
    cm_id: str = ""
    custom_fields: dict[str, str] = field(default_factory=dict)
    additional_phones: list[Phone] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        name = f"{self.firstname} {self.lastname}".strip()
        return name or self.email or self.phone or "(no name)"
