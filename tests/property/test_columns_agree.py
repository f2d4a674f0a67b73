"""Checking a file column by column agrees with checking each lead alone.

`check_leads` checks each distinct value of a column once; `prepare_rows` builds its leads a
column at a time. Both must give every lead exactly what `validate_lead` gives it alone: the
same normalised values and the same problems in the same order. The values are drawn from
pools of the shapes that take different paths (valid, repaired, refused, empty, spaces) so
that repeats across rows, which the column checks share, are frequent.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from leadstream.prepare.legend import Legend
from leadstream.prepare.mapping import ColumnMapping, prepare_rows
from leadstream.prepare.validate import LeadColumns, check_leads, validate_lead
from leadstream.protocol.lead import LEAD_FIELDS, Lead, Phone, PhoneType
from leadstream.sandbox.account import Account

# The sandbox's demo LeadStream: a date, a checkbox and a text field.
LEGEND = Account.demo().leadstreams[0].legend
CUSTOM_IDS = ("195481", "300100", "297989", "12ab", "888888")

EMAILS = ["ann@example.com", "Ann@Example.COM ", "not an email", "", "  ", "josé@exämple.com"]
PHONES = ["7162932368", "(716) 293-2368", "555-12", "+44 20 7946 0958", "", "123", " 716 293 2368"]
STATES = ["NY", "n.y.", "new york", "Ontario", "", "Tex."]
ZIPS = ["14204", "2134", "14204.0", "142041234", "SW1A 1AA", "", "1234567"]
COUNTRIES = ["", "US", "USA", "Canada", "United Kingdom"]
ROUTING = ["377310706", "", " 42 ", "abc", "576846", "123"]
CUSTOM_VALUES = ["1/5/2025", "2025-01-05", "24.12.2026", "yes", "no", "maybe", "", "  ", "13/13/13"]
TAGS = ["Hot Lead", "hot lead", "", "  ", "Webinar"]

pools = {
    "email": EMAILS,
    "phone": PHONES,
    "state": STATES,
    "zip": ZIPS,
    "country": COUNTRIES,
    "user_id": ROUTING,
    "cm_id": ROUTING,
}


@st.composite
def leads(draw: st.DrawFn) -> Lead:
    scalars = {
        spec.name: draw(st.sampled_from(pools.get(spec.name, ["", "Ann", " Jo "])))
        for spec in LEAD_FIELDS
    }
    present = draw(st.lists(st.sampled_from(CUSTOM_IDS), unique=True, max_size=3))
    # Every lead lists its custom fields in one order, as the rows of a file do.
    customs = {i: draw(st.sampled_from(CUSTOM_VALUES)) for i in CUSTOM_IDS if i in present}
    phones = draw(
        st.lists(
            st.builds(Phone, st.sampled_from(PHONES), st.sampled_from(list(PhoneType))),
            max_size=3,
        )
    )
    tags = draw(st.lists(st.sampled_from(TAGS), max_size=3))
    return Lead(**scalars, custom_fields=customs, additional_phones=phones, tags=tags)


def as_columns(many: list[Lead]) -> LeadColumns:
    return LeadColumns(
        len(many),
        {spec.name: [getattr(lead, spec.name) for lead in many] for spec in LEAD_FIELDS},
        [(i, [lead.custom_fields.get(i) for lead in many]) for i in CUSTOM_IDS],
        [list(lead.additional_phones) for lead in many],
        [list(lead.tags) for lead in many],
    )


@settings(max_examples=examples(200))
@given(many=st.lists(leads(), min_size=1, max_size=8), legend=st.sampled_from([None, LEGEND]))
def test_checking_columns_gives_each_lead_what_checking_it_alone_gives(
    many: list[Lead], legend: Legend | None
) -> None:
    checked = check_leads(as_columns(many), legend=legend)
    for index, (lead, alone) in enumerate(
        zip(checked.columns.leads(), [validate_lead(m, legend=legend) for m in many], strict=True)
    ):
        assert lead == alone.lead
        assert tuple(checked.problems.get(index, ())) == alone.problems


HEADERS = [
    "Email",
    "Phone",
    "State",
    "Zip",
    "Country",
    "Follow Up",
    "Do Not Call",
    "Mobile",
    "Tags",
]
MAPPING = ColumnMapping(
    {
        "Email": "email",
        "Phone": "phone",
        "State": "state",
        "Zip": "zip",
        "Country": "country",
        "Follow Up": "custom_field[195481]",
        "Do Not Call": "custom_field[300100]",
        "Mobile": "phone:mobile",
        "Tags": "tags",
    },
    {"user_id": "377310706", "cm_id": "576846"},
)
# No value written day first: a file column of those is read day first throughout, on purpose.
DATES = ["1/5/2025", "2025-01-05", "Jan 5 2025", "", "  ", "someday"]
CHECKBOXES = ["yes", "no", "maybe", "", "1", " X "]
CELLS = [EMAILS, PHONES, STATES, ZIPS, COUNTRIES, DATES, CHECKBOXES, PHONES, TAGS]


def raw_lead(cells: dict[str, str]) -> Lead:
    """The lead a row means, built field by field as a person would read the mapping."""
    customs = {
        field_id: value
        for header, field_id in (("Follow Up", "195481"), ("Do Not Call", "300100"))
        if (value := cells[header].strip())
    }
    mobile = cells["Mobile"].strip()
    tag = cells["Tags"].strip()
    return Lead(
        email=cells["Email"].strip(),
        phone=cells["Phone"].strip(),
        state=cells["State"].strip(),
        zip=cells["Zip"].strip(),
        country=cells["Country"].strip(),
        user_id="377310706",
        cm_id="576846",
        custom_fields=customs,
        additional_phones=[Phone(mobile, PhoneType.MOBILE, "Mobile")] if mobile else [],
        tags=[tag] if tag else [],
    )


@settings(max_examples=examples(100))
@given(
    rows=st.lists(
        st.tuples(*(st.sampled_from(pool) for pool in CELLS)).map(list), min_size=1, max_size=12
    )
)
def test_a_prepared_file_row_is_its_lead_checked_alone(rows: list[list[str]]) -> None:
    frame = pd.DataFrame(rows, columns=HEADERS, dtype=object)
    for row in prepare_rows(frame, MAPPING, legend=LEGEND):
        alone = validate_lead(raw_lead(row.source), legend=LEGEND)
        assert row.lead == alone.lead
        # The row's problems are the lead's own, each told with its row (and column); a value
        # the legend cannot format is told first, as the file is read.
        refused = [p for p in alone.problems if p.field.startswith("custom_field")]
        expected = refused + [p for p in alone.problems if p not in refused]
        assert [p.field for p in row.problems] == [p.field for p in expected]
        for problem, own in zip(row.problems, expected, strict=True):
            # A custom field's value is formatted (and refused) by the legend before the check.
            said = own.message.split("): ", 1)[1] if "custom_field" in own.field else own.message
            assert problem.message.startswith(f"Row {row.line}")
            assert said in problem.message
