"""Header matching against the headers real exports use, near misses, and full names; then
realistic exports built in code, read, matched, and sent to the real sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from leadstream.deliver.client import Client
from leadstream.prepare.files import read_table
from leadstream.prepare.headers import (
    FULL_NAME,
    SYNONYMS,
    confidence_labels,
    header_key,
    match_headers,
    split_full_name,
    unmatched_warning,
)
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.mapping import (
    ColumnMapping,
    auto_match,
    date_columns,
    date_notes,
    normalize_target,
    prepare_rows,
    target_choices,
    target_label,
)
from leadstream.sandbox import SandboxServer

DEMO_KEY = "XXXYYYZZZ"
USER = "377310706"
CM_ID = "576846"
LEGEND = Legend(
    (
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
    )
)

# header, target, kind
KNOWN = [
    ("State/Region", "state", "synonym"),  # HubSpot
    ("Country/Region", "country", "synonym"),
    ("Phone Number", "phone", "synonym"),
    ("Postal Code", "zip", "synonym"),
    ("Street Address", "address1", "synonym"),
    ("Mailing State/Province", "state", "synonym"),  # Salesforce
    ("Mailing Zip/Postal Code", "zip", "synonym"),
    ("Mailing Country", "country", "synonym"),
    ("Mailing Street", "address1", "synonym"),  # Zoho
    ("Mailing City", "city", "synonym"),
    ("Person - Email", "email", "synonym"),  # Pipedrive
    ("Person - Name", FULL_NAME, "synonym"),
    ("Email Address", "email", "synonym"),  # Mailchimp
    ("FNAME", "firstname", "synonym"),
    ("LNAME", "lastname", "synonym"),
    ("E-mail Address", "email", "synonym"),  # Outlook
    ("Given Name", "firstname", "synonym"),  # Google Contacts
    ("Phone 1 - Value", "phone", "synonym"),
    ("Full Name", FULL_NAME, "synonym"),  # typed by hand
    ("Name", FULL_NAME, "synonym"),
    ("Contact", FULL_NAME, "synonym"),
    ("zip code", "zip", "exact"),  # its label
    ("Postcode", "zip", "synonym"),
    ("Phone #", "phone", "synonym"),
    ("Country", "country", "exact"),
    ("first_name", "firstname", "exact"),  # its wire name
    ("FirstName", "firstname", "exact"),
    ("E-MAIL", "email", "exact"),
    ("custom_field[195481]", "custom_field[195481]", "exact"),
    ("Follow up date", "custom_field[195481]", "exact"),
    ("Tags", "tags", "synonym"),
    ("Tag 2", "tags", "synonym"),
]


@pytest.mark.parametrize(("header", "target", "kind"), KNOWN)
def test_known_headers(header: str, target: str, kind: str) -> None:
    (match,) = match_headers([header], LEGEND)
    assert (match.target, match.kind) == (target, kind)
    assert match.confidence


# header, target, score at least
NEAR_MISSES = [
    ("Emial", "email", 80),
    ("Adress", "address1", 85),
    ("Contry", "country", 85),
    ("Zipcod", "zip", 85),
    ("Follow Up Dat", "custom_field[195481]", 90),
    ("Mobil Phone", "phone", 90),  # the only phone column: it becomes the main one
]


@pytest.mark.parametrize(("header", "target", "at_least"), NEAR_MISSES)
def test_near_misses_are_fuzzy_matches_with_a_score(
    header: str, target: str, at_least: int
) -> None:
    (match,) = match_headers([header], LEGEND)
    assert (match.target, match.kind) == (target, "fuzzy")
    assert match.score >= at_least
    assert "check it" in match.confidence
    assert match.close_to


# Headers of real exports that are not lead fields and must not be guessed into one.
NOT_FIELDS = [
    "Record ID",
    "Company Name",
    "Job Title",
    "Lifecycle Stage",
    "Lead Status",
    "Contact owner",
    "Create Date",
    "Last Activity Date",
    "Lead Source",
    "Website URL",
    "Status",
    "Annual Revenue",
    "Phone Type",
    "Stat",
]


@pytest.mark.parametrize("header", NOT_FIELDS)
def test_other_headers_are_not_matched(header: str) -> None:
    (match,) = match_headers([header], LEGEND)
    assert match.target is None
    assert match.kind == "none"
    assert "not sent" in match.confidence


def test_sure_match_beats_an_earlier_near_miss() -> None:
    matches = match_headers(["Emial", "Email"])
    assert [(m.target, m.kind) for m in matches] == [(None, "none"), ("email", "exact")]
    assert "“Email” fills" in matches[0].confidence


def test_full_name_is_left_out_when_first_or_last_name_has_a_column() -> None:
    matches = match_headers(["Name", "First Name", "Last Name"])
    assert [m.target for m in matches] == [None, "firstname", "lastname"]
    assert "first and last name come from other columns" in matches[0].confidence


def test_second_main_phone_becomes_an_extra_phone() -> None:
    assert [m.target for m in match_headers(["Phone", "Telephone", "Mobile"])] == [
        "phone",
        "phone:other",
        "phone:mobile",
    ]


def test_only_typed_phones_make_the_first_the_main_phone() -> None:
    assert [m.target for m in match_headers(["Mobile Phone Number", "Fax"])] == [
        "phone",
        "phone:fax",
    ]


def test_every_synonym_is_reachable() -> None:
    """No spelling in the table is shadowed by another target's spelling."""
    for target, spellings in SYNONYMS.items():
        for spelling, _source in spellings:
            (match,) = match_headers([spelling])
            expected = "phone" if target.startswith("phone:") else target
            assert match.target == expected, (spelling, match)


@pytest.mark.parametrize(
    ("header", "key"),
    [("State/Region", "stateregion"), ("Phone #", "phonenumber"), ("Prénom", "prenom")],
)
def test_header_key(header: str, key: str) -> None:
    assert header_key(header) == key


NAMES = [
    ("Jane Smith", ("Jane", "Smith")),
    ("  Jane   Smith ", ("Jane", "Smith")),
    ("Smith, Jane", ("Jane", "Smith")),
    ("Smith, Dr. Jane", ("Jane", "Smith")),
    ("Dr. Jane Smith", ("Jane", "Smith")),
    ("Mrs Jane Smith", ("Jane", "Smith")),
    ("John Smith Jr.", ("John", "Smith Jr.")),
    ("John Smith, Jr.", ("John", "Smith Jr.")),
    ("Mary Ann Smith", ("Mary Ann", "Smith")),
    ("Mary Ann de la Cruz", ("Mary Ann", "de la Cruz")),
    ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
    ("Cher", ("Cher", "")),
    ("Dr.", ("Dr.", "")),
    ("", ("", "")),
    ("José Ñúñez", ("José", "Ñúñez")),
]


@pytest.mark.parametrize(("full", "expected"), NAMES)
def test_split_full_name(full: str, expected: tuple[str, str]) -> None:
    assert split_full_name(full) == expected


def test_unmatched_warning_names_every_column_not_sent() -> None:
    columns = ["Email", "Company", "Lead Status"]
    assert unmatched_warning(columns, {"Email": "email"}) == (
        "2 columns are not sent (no field chosen): “Company”, “Lead Status”. Choose a field "
        "for any you want in PhoneBurner."
    )
    assert unmatched_warning(["Email"], {"Email": "email"}) is None
    many = [f"Extra {i}" for i in range(15)]
    assert "and 5 more" in (unmatched_warning(many, {}) or "")


def test_full_name_target_in_mapping() -> None:
    assert normalize_target("Full Name") == FULL_NAME
    assert normalize_target("full_name") == FULL_NAME
    assert FULL_NAME in target_choices()
    assert target_label(FULL_NAME) == "Full name (split into first and last)"
    again = ColumnMapping.from_json(ColumnMapping({"Name": FULL_NAME}).to_json())
    assert again.columns == {"Name": FULL_NAME}


def test_a_first_name_column_wins_over_the_full_name_row_by_row() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"Name": ["Jane Smith", "Bob Jones"], "First": ["", "Robert"]}, dtype=object
    )
    mapping = ColumnMapping({"Name": FULL_NAME, "First": "firstname"})
    leads = [row.lead for row in prepare_rows(frame, mapping)]
    assert [(lead.firstname, lead.lastname) for lead in leads] == [
        ("Jane", "Smith"),
        ("Robert", "Jones"),
    ]


# --- Realistic exports, sent to the sandbox ------------------------------------------------------

HUBSPOT_CSV = (
    "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Street Address,"
    "City,State/Region,Postal Code,Country/Region,Company Name,Lifecycle Stage,Contact owner,"
    "Create Date\r\n"
    "51,Jeff,Jefferson,jeff.hub@example.com,(716) 555-1234,+1 702 530 6954,123 Main St.,"
    "Buffalo,NY,01420,United States,Acme,lead,Ann Owner,2025-01-05 10:30\r\n"
    "52,Zoë,Ångström,zoe.hub@example.com,716-555-9876,,9 Elm Rd,Austin,TX,78701,"
    "United States,Beta,customer,Ann Owner,2025-01-06 09:00\r\n"
)


def _send_all(sandbox: SandboxServer, table_bytes: bytes, name: str) -> list[dict[str, Any]]:
    table = read_table(table_bytes, name)
    mapping = auto_match(table.columns, LEGEND)
    mapping = mapping.with_constant("user_id", USER).with_constant("cm_id", CM_ID)
    rows = prepare_rows(table.frame, mapping, legend=LEGEND, row_numbers=table.row_numbers)
    assert [row.status for row in rows] == ["ok"] * len(rows), [r.problems for r in rows]
    client = Client(url=sandbox.url, key=DEMO_KEY)
    for row in rows:
        assert client.post(row.lead).outcome == "delivered"
    return [stored.params for stored in sandbox.leads()]


def test_hubspot_export_arrives_with_state_country_and_phones(
    fresh_sandbox: SandboxServer,
) -> None:
    columns = read_table(HUBSPOT_CSV.encode(), "hubspot-contacts.csv").columns
    mapping = auto_match(columns, LEGEND)
    warning = unmatched_warning(columns, mapping.columns)
    assert warning is not None
    for left_out in ("Record ID", "Company Name", "Lifecycle Stage", "Contact owner"):
        assert f"“{left_out}”" in warning
    assert "State/Region" not in warning
    assert "Country/Region" not in warning

    first, second = _send_all(fresh_sandbox, HUBSPOT_CSV.encode(), "hubspot-contacts.csv")
    assert first["firstname"] == "Jeff"
    assert first["state"] == "NY"
    assert first["country"] == "United States"
    assert first["zip"] == "01420"
    assert first["phone"] == "(716) 555-1234"
    assert first["additional_phones"] == ["(702) 530-6954"]
    assert first["additional_phone_types"] == ["3"]
    assert second["firstname"] == "Zoë"
    assert second["lastname"] == "Ångström"
    assert second["state"] == "TX"
    assert "additional_phones" not in second


def test_cp1252_semicolon_sheet_with_full_names(fresh_sandbox: SandboxServer) -> None:
    text = (
        "Name;E-mail Address;Telephone;Town;State/Province;ZIP/Postal Code;Country;"
        "Follow up date\r\n"
        "Dr. José Müller;jose.cp@example.com;716 555 0101;Québec;QC;G1R 4P5;Canada;12/24/2026\r\n"
        "Smith, Anne-Marie;anne.cp@example.com;716 555 0102;Boston;MA;02108;USA;2026-12-24\r\n"
    )
    stored = _send_all(fresh_sandbox, text.encode("cp1252"), "contacts.csv")
    assert [(p["firstname"], p["lastname"]) for p in stored] == [
        ("José", "Müller"),
        ("Anne-Marie", "Smith"),
    ]
    assert [p["city"] for p in stored] == ["Québec", "Boston"]
    assert [p["country"] for p in stored] == ["Canada", "USA"]
    assert [p["custom_field"] for p in stored] == [{"195481": "12/24/2026"}] * 2


def test_confidence_labels_follow_the_choices_made() -> None:
    columns = ["Email", "State/Region", "Emial Backup", "Notes", "Emial", "City"]
    targets = {
        "Email": "email",
        "State/Region": "state",
        "Emial Backup": "city",
        "Notes": None,
        "Emial": None,
        "City": None,
    }
    assert confidence_labels(columns, targets) == {
        "Email": "Exact",
        "State/Region": "Known header (HubSpot)",
        "Emial Backup": "Chosen by you",
        "Notes": "No match: not sent",
        "Emial": "Also looks like Email, which “Email” fills: not sent",
        "City": "Not sent: you chose to ignore it",
    }


def test_a_day_first_export_arrives_with_the_dates_it_means(fresh_sandbox: SandboxServer) -> None:
    """A European sheet: semicolons, cp1252, dates day first. `24/12/2026` shows the column's
    order, so `1/5/2026` is the 1st of May, and the page is told."""
    text = (
        "Nom complet;Email;Follow Up Date\r\n"
        "Zoë Dupré;zoe.eu@example.com;24/12/2026\r\n"
        "Łukasz Nowak;lukasz.eu@example.com;1/5/2026\r\n"
    )
    data = text.encode("cp1252", errors="replace")
    table = read_table(data, "eu.csv")
    mapping = auto_match(table.columns, LEGEND)
    notes = date_notes(date_columns(table.frame, mapping, LEGEND))
    assert notes[0].startswith("Column “Follow Up Date” is written day first (it has 24/12/2026)")
    assert "1/5/2026 is May 1, 2026" in notes[1]
    stored = _send_all(fresh_sandbox, data, "eu.csv")
    assert [p["custom_field"] for p in stored] == [
        {"195481": "12/24/2026"},
        {"195481": "05/01/2026"},
    ]


# Header rows of real exports, and what each must fill (columns not listed fill nothing).
EXPORTS = [
    pytest.param(
        "Contact Id,Contact Owner,Lead Source,First Name,Last Name,Account Name,Email,Title,"
        "Phone,Home Phone,Mobile,Date of Birth,Email Opt Out,Secondary Email,Mailing Street,"
        "Other Street,Mailing City,Mailing State,Mailing Zip,Mailing Country,Description,Tag",
        {
            "First Name": "firstname",
            "Last Name": "lastname",
            "Email": "email",
            "Phone": "phone",
            "Home Phone": "phone:home",
            "Mobile": "phone:mobile",
            "Mailing Street": "address1",
            "Mailing City": "city",
            "Mailing State": "state",
            "Mailing Zip": "zip",
            "Mailing Country": "country",
            "Tag": "tags",
        },
        id="zoho",
    ),
    pytest.param(
        "Contact ID,Salutation,First Name,Last Name,Title,Mailing Street,Mailing City,"
        "Mailing State/Province,Mailing Zip/Postal Code,Mailing Country,Phone,Fax,Mobile,Email,"
        "Account Name,Lead Source,Birthdate,Contact Owner",
        {
            "First Name": "firstname",
            "Last Name": "lastname",
            "Mailing Street": "address1",
            "Mailing City": "city",
            "Mailing State/Province": "state",
            "Mailing Zip/Postal Code": "zip",
            "Mailing Country": "country",
            "Phone": "phone",
            "Fax": "phone:fax",
            "Mobile": "phone:mobile",
            "Email": "email",
        },
        id="salesforce",
    ),
    pytest.param(
        "Person - ID,Person - Name,Person - Organization,Person - Email - Work,"
        "Person - Email - Home,Person - Phone - Work,Person - Phone - Mobile,Person - Labels",
        {
            "Person - Name": FULL_NAME,
            "Person - Email - Work": "email",
            "Person - Phone - Work": "phone",
            "Person - Phone - Mobile": "phone:mobile",
            "Person - Labels": "tags",
        },
        id="pipedrive",
    ),
    pytest.param(
        "Email Address,First Name,Last Name,Address,Phone Number,Birthday,TAGS,MEMBER_RATING,"
        "OPTIN_TIME,LATITUDE,LONGITUDE,CC,LEID,NOTES",
        {
            "Email Address": "email",
            "First Name": "firstname",
            "Last Name": "lastname",
            "Address": "address1",
            "Phone Number": "phone",
            "TAGS": "tags",
        },
        id="mailchimp",
    ),
    pytest.param(
        "Name,Given Name,Family Name,Nickname,Notes,Group Membership,E-mail 1 - Type,"
        "E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,"
        "Address 1 - Street,Address 1 - City,Address 1 - Region,Address 1 - Postal Code,"
        "Address 1 - Country",
        {
            "Given Name": "firstname",
            "Family Name": "lastname",
            "Group Membership": "tags",
            "E-mail 1 - Value": "email",
            "Phone 1 - Value": "phone",
            "Phone 2 - Value": "phone:other",
            "Address 1 - Street": "address1",
            "Address 1 - City": "city",
            "Address 1 - Region": "state",
            "Address 1 - Postal Code": "zip",
            "Address 1 - Country": "country",
        },
        id="google-contacts",
    ),
    pytest.param(
        "First Name,Middle Name,Last Name,E-mail Address,Business Phone,Home Phone,Mobile Phone,"
        "Business Street,Business City,Business State,Business Postal Code,"
        "Business Country/Region,Categories",
        {
            "First Name": "firstname",
            "Last Name": "lastname",
            "E-mail Address": "email",
            "Business Phone": "phone",
            "Home Phone": "phone:home",
            "Mobile Phone": "phone:mobile",
            "Business Street": "address1",
            "Business City": "city",
            "Business State": "state",
            "Business Postal Code": "zip",
            "Business Country/Region": "country",
            "Categories": "tags",
        },
        id="outlook",
    ),
]


@pytest.mark.parametrize(("header_row", "expected"), EXPORTS)
def test_real_exports(header_row: str, expected: dict[str, str]) -> None:
    columns = header_row.split(",")
    found = {m.header: m.target for m in match_headers(columns) if m.target is not None}
    assert found == expected
