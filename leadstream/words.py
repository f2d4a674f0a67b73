"""The words LeadStream Desk says to people about outcomes, answer codes and problems.

One place for them, written for office staff rather than for programmers: what happened, then
what to do, in the words a person uses at a desk (no "retry", "request", "column" on the form).
The app and the CLI both read them from here: `protocol.response.Code.help`,
`deliver.outcomes.DeliveryOutcome.description` and the checks of `prepare.validate`.

This module imports nothing from leadstream, so that every layer may use it.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "CODE_HELP",
    "NO_EMAIL",
    "OUTCOME_HELP",
    "ZIP_IN_A_FILE",
    "field_heading",
    "zip_eight_digits",
    "zip_too_short",
]

# put_contact's answers and the transport troubles the client names like them, by
# `protocol.response.Code` member name.
CODE_HELP: dict[str, str] = {
    "SUCCESS": "PhoneBurner accepted the lead.",
    "IDNUMBER_IS_REQUIRED": (
        "PhoneBurner did not accept the vendor key or the user ID. Check the vendor key in the "
        "Connection settings and that a user ID is filled in."
    ),
    "UNKNOWN_USER": (
        "No PhoneBurner user has this user ID. Copy the user ID again from PhoneBurner."
    ),
    "CANCELLED_USER": (
        "This PhoneBurner user's account is cancelled, so it cannot receive leads. Send the lead "
        "to another user ID."
    ),
    "INVALID_EMAIL": (
        "PhoneBurner needs a valid email address for this lead. Fill in or correct the email "
        "(it should look like name@example.com)."
    ),
    "DUPLICATE_EMAIL": (
        "This LeadStream already has a lead with this email address, so PhoneBurner did not add "
        "it a second time: the contact is already there. Only if this is a different person who "
        "shares the email, change the email and send again."
    ),
    "CM_ID_IS_REQUIRED": (
        "The LeadStream ID (cm_id) is missing. Fill it in; PhoneBurner shows it on the "
        "LeadStream's settings."
    ),
    "CM_ID_IS_INVALID": (
        "This LeadStream ID (cm_id) does not belong to this user. Check both the cm_id and the "
        "user ID."
    ),
    "BAD_RESPONSE_TYPE": (
        "The request asked for a response type PhoneBurner does not offer. Remove "
        "`response_type` or set it to `text`."
    ),
    "UNKNOWN_CODE": (
        "PhoneBurner refused the lead with a reason this tool does not know. Read the reason "
        "shown, fix the lead, and contact PhoneBurner support if it is unclear."
    ),
    "RATE_LIMITED": (
        "The server asked us to slow down. The lead was not taken; it is safe to send again "
        "in a moment."
    ),
    "SERVER_UNAVAILABLE": (
        "The server was unavailable or overloaded, and did not take the lead. It is safe to "
        "send again later."
    ),
    "REQUEST_REFUSED": (
        "The server refused the request itself before reading the lead (an HTTP 4xx error, "
        "such as 404 for an address that does not exist), so the lead was not taken. Check the "
        "target address and the vendor key; sending again is safe once they are right."
    ),
    "UNREADABLE_ANSWER": (
        "The server answered with something that is not a LeadStream answer (for example an "
        "error page). The lead may or may not have arrived: look for it in PhoneBurner "
        "before sending it again."
    ),
    "NO_ANSWER": (
        "The server did not answer. The lead may or may not have arrived: look for it in "
        "PhoneBurner before sending it again."
    ),
}

# What finally happened to a lead, by `deliver.outcomes.DeliveryOutcome` value.
OUTCOME_HELP: dict[str, str] = {
    "delivered": "PhoneBurner took the lead.",
    "rejected": (
        "PhoneBurner answered and refused the lead; the code says why. Fix the lead before "
        "sending it again."
    ),
    "failed": (
        "The server could not be reached or was busy on every try, so the lead was certainly "
        "not taken. It is safe to send it again."
    ),
    "invalid": (
        "The lead failed the checks made before sending, so it was not sent. Fix the fields "
        "shown and send it again."
    ),
    "duplicate": (
        "Skipped: the same lead is earlier in the file, was already delivered, or another desk is "
        "sending it."
    ),
    "uncertain": (
        "No clear answer came back, so the lead may or may not have arrived. Look for it in "
        "PhoneBurner before sending it again."
    ),
}

NO_EMAIL = (
    "No email: PhoneBurner may refuse the lead (INVALID EMAIL). Without an email, a lead whose "
    "answer is lost on the way cannot be sent a second time without risking two copies. Add "
    "the email if you have it."
)


def field_heading(code: str) -> Literal["Field to fix", "Field concerned"]:
    """The heading over the field an answer names (`code` as the endpoint writes it,
    `DUPLICATE EMAIL`, or a member name): a duplicate email needs no fixing (the contact is
    already in PhoneBurner), every other refusal does."""
    return (
        "Field concerned" if code.replace("_", " ").upper() == "DUPLICATE EMAIL" else "Field to fix"
    )


def zip_too_short(shown: str, digits: int, suggestion: str) -> str:
    """A ZIP code that lost its leading zeros (`1420` for `01420`); said without assuming a
    file, since the form has none."""
    return (
        f"ZIP code {shown} has {digits} digits; US ZIP codes have 5. If a leading zero was "
        f"lost, it is {suggestion}."
    )


def zip_eight_digits(shown: str, suggestion: str) -> str:
    """A ZIP+4 that lost its leading zero (`14204123` for `01420-4123`)."""
    return (
        f"ZIP code {shown} has 8 digits; a ZIP+4 has 9. If a leading zero was lost, it is "
        f"{suggestion}."
    )


# Added to the ZIP messages of rows read from a file, where the zeros are lost by spreadsheets.
ZIP_IN_A_FILE = "Correct it in the file, and format that column as text so the zeros stay."
