"""The sandbox: a faithful local emulator of PhoneBurner's put_contact and REST routes
(docs/DESIGN.md, "The sandbox").

`account` holds who may post where, `rules` answers one put_contact request, `rest` one REST
API request, `faults` decides how to misbehave, `server` serves it all over HTTP on loopback.
"""

from leadstream.sandbox.account import DEMO_TOKEN, Account, AccountError, LeadStream, User
from leadstream.sandbox.faults import Faults, FaultsError
from leadstream.sandbox.rest import REST_PREFIX, RestAnswer, rest_answer
from leadstream.sandbox.rules import Answer, LeadStore, StoredLead, answer
from leadstream.sandbox.server import PUT_CONTACT_PATH, SandboxServer

__all__ = [
    "DEMO_TOKEN",
    "PUT_CONTACT_PATH",
    "REST_PREFIX",
    "Account",
    "AccountError",
    "Answer",
    "Faults",
    "FaultsError",
    "LeadStore",
    "LeadStream",
    "RestAnswer",
    "SandboxServer",
    "StoredLead",
    "User",
    "answer",
    "rest_answer",
]
