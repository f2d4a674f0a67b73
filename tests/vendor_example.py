"""The vendor document's example lead, written out once for the tests.

Copied by hand from the document's example GET (reference/leadstream-vendor-integration.txt),
not from `leadstream.prepare.form.EXAMPLE_LEAD`, so the tests stay an independent check on the app.
The document's copy of the email is obfuscated ("[email protected]"), so a plausible address
for Jeff Sample stands in for it.
"""

from __future__ import annotations

from leadstream.protocol.lead import Lead, Phone, PhoneType

KEY = "XXXYYYZZZ"
EMAIL = "jeff.sample@example.com"

# The example GET's query string as printed: not percent-encoded, spaces and brackets raw.
QUERY = (
    f"key={KEY}&firstname=Jeff&lastname=Sample&email={EMAIL}"
    "&phone=(716) 293-2368&address1=114 Hickory St&address2=Apt 23&city=Buffalo&state=NY"
    "&zip=14204&custom_field[297989]=75048327&custom_field[195481]=12/24/2017&user_id=377310706"
    "&cm_id=576846&additional_phones[]=(702) 530-6954&additional_phone_types[]=2"
    "&additional_phone_labels[]=Work&additional_phones[]=(646) 362-7327"
    "&additional_phone_types[]=1&additional_phone_labels[]=Home&tags[]=Hot Lead&tags[]=Lead Type"
)

# What PHP's `$_GET` holds for QUERY, less the key, in the order the names first appear.
PARAMS = {
    "firstname": "Jeff",
    "lastname": "Sample",
    "email": EMAIL,
    "phone": "(716) 293-2368",
    "address1": "114 Hickory St",
    "address2": "Apt 23",
    "city": "Buffalo",
    "state": "NY",
    "zip": "14204",
    "custom_field": {"297989": "75048327", "195481": "12/24/2017"},
    "user_id": "377310706",
    "cm_id": "576846",
    "additional_phones": ["(702) 530-6954", "(646) 362-7327"],
    "additional_phone_types": ["2", "1"],
    "additional_phone_labels": ["Work", "Home"],
    "tags": ["Hot Lead", "Lead Type"],
}

LEAD = Lead(
    firstname="Jeff",
    lastname="Sample",
    email=EMAIL,
    phone="(716) 293-2368",
    address1="114 Hickory St",
    address2="Apt 23",
    city="Buffalo",
    state="NY",
    zip="14204",
    custom_fields={"297989": "75048327", "195481": "12/24/2017"},
    user_id="377310706",
    cm_id="576846",
    additional_phones=[
        Phone("(702) 530-6954", PhoneType.WORK, "Work"),
        Phone("(646) 362-7327", PhoneType.HOME, "Home"),
    ],
    tags=["Hot Lead", "Lead Type"],
)
