"""The sandbox: a faithful local emulator of PhoneBurner's put_contact (DESIGN.md, "The sandbox").

`account` holds who may post where, `rules` answers one request, `faults` decides how to
misbehave, `server` serves it all over HTTP on loopback.
"""

from leadstream.sandbox.account import Account, AccountError, LeadStream, User
from leadstream.sandbox.faults import Faults, FaultsError
from leadstream.sandbox.rules import Answer, LeadStore, StoredLead, answer
from leadstream.sandbox.server import PUT_CONTACT_PATH, SandboxServer

__all__ = [
    "PUT_CONTACT_PATH",
    "Account",
    "AccountError",
    "Answer",
    "Faults",
    "FaultsError",
    "LeadStore",
    "LeadStream",
    "SandboxServer",
    "StoredLead",
    "User",
    "answer",
]
