"""Lead identity: when two leads are "the same lead", for every duplicate check there is.

One rule, used by the duplicate check inside a file (`prepare.mapping.find_duplicates`), the
row plan against earlier sends (`prepare.plan`) and the journal's memory of what was delivered:

- a lead with an email is identified by it, stripped and case-folded, so `STRASSE@x.de` and
  `straße@x.de` are one lead (the endpoint compares emails without regard to case, and
  case-folding is the Unicode rule for that; `lower()` would keep `ß` apart from `SS`);
- a lead without one is identified by every parameter it sends, the key aside.

The endpoint refuses a second lead with the same email in one LeadStream (`DUPLICATE EMAIL`),
which is what makes a lead with an email safe to send again; see `has_email`.
"""

from __future__ import annotations

import hashlib
import json

from leadstream.protocol.lead import Lead
from leadstream.protocol.query import lead_to_pairs

__all__ = ["fingerprint", "has_email", "lead_identity", "normalize_email", "params_json"]


def normalize_email(email: str) -> str:
    """The email as compared for identity: surrounding space stripped, case folded."""
    return email.strip().casefold()


def has_email(lead: Lead) -> bool:
    """Whether the lead carries an email, the one thing that lets the endpoint tell a second
    copy of it from a new lead."""
    return bool(lead.email.strip())


def params_json(lead: Lead) -> str:
    """The lead's query pairs as JSON, without the key (`key=""` adds no pair)."""
    return json.dumps(lead_to_pairs(lead, key=""), ensure_ascii=False)


def fingerprint(lead: Lead) -> str:
    """`email:<normalised email>`, or `params:<hash of every parameter but the key>`.

    Scope it by target and cm_id: the same person may rightly go to two LeadStreams.
    """
    email = normalize_email(lead.email)
    if email:
        return f"email:{email}"
    digest = hashlib.sha256(params_json(lead).encode("utf-8")).hexdigest()
    return f"params:{digest[:32]}"


def lead_identity(lead: Lead) -> tuple[str, str]:
    """`(cm_id, fingerprint)`: two leads with the same identity are duplicates of each other."""
    return lead.cm_id.strip(), fingerprint(lead)
