"""Per-field checks: email, phones, state, ZIP, custom fields by legend type, routing, tags; and
the whole lead gathered into `Checked`."""

from __future__ import annotations

import time

import email_validator
import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples
from vendor_example import LEAD

from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.validate import (
    Checked,
    Problem,
    _valid_in_region,
    check_email,
    check_phone,
    check_state,
    check_zip,
    validate_lead,
)
from leadstream.protocol.lead import Lead, Phone, PhoneType

LEGEND = Legend(
    (
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
    ),
    name="Demo LeadStream",
    cm_id="576846",
)

# --------------------------------------------------------------------------------------------
# Email

EMAIL_VALID = [
    ("jeff@example.com", "jeff@example.com"),
    ("Jeff.Sample@Example.COM", "Jeff.Sample@example.com"),
    ("  ann@example.com \t", "ann@example.com"),
    ("first_last%x+tag@EXAMPLE.org", "first_last%x+tag@example.org"),
    ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
    ("user@BÜCHER.de", "user@bücher.de"),
    ("jeff@XN--BCHER-KVA.de", "jeff@xn--bcher-kva.de"),
]


@pytest.mark.parametrize(("value", "expected"), EMAIL_VALID)
def test_check_email_valid(value: str, expected: str) -> None:
    assert check_email(value) == (expected, None)


EMAIL_INVALID = [
    "jeff",
    "jeff@",
    "@example.com",
    "jeff@example",
    "jeff@@example.com",
    "jeff sample@example.com",
    "jeff@localhost",
    "jeff@example..com",
    ".jeff@example.com",
    "jeff.@example.com",
    "jeff@-example.com",
    "jeff@example.test",
    "x@ab--cd.com",
    "Jeff <jeff@example.com>",
    "mailto:jeff@example.com",
    "jeff@example.com.",
]


@pytest.mark.parametrize("value", EMAIL_INVALID)
def test_check_email_invalid(value: str) -> None:
    normalised, problem = check_email(value)
    assert normalised == value.strip()
    assert problem is not None
    assert (problem.field, problem.level) == ("email", "error")
    assert problem.message.startswith(f"Email {value.strip()!r} is not a valid address.")
    assert "Correct it, or leave the email empty." in problem.message


@pytest.mark.parametrize("value", ["", "   "])
def test_check_email_empty_is_a_warning(value: str) -> None:
    normalised, problem = check_email(value)
    assert normalised == ""
    assert problem is not None
    assert (problem.field, problem.level) == ("email", "warning")
    assert "INVALID EMAIL" in problem.message
    assert "without risking two copies" in problem.message


def test_check_email_non_ascii_local_part_is_a_warning() -> None:
    normalised, problem = check_email("jörg@example.com")
    assert normalised == "jörg@example.com"
    assert problem is not None
    assert problem.level == "warning"


_email_like = st.one_of(
    st.from_regex(
        r"[A-Za-z0-9_%+.'-]{1,70}@(?:[A-Za-z0-9-]{1,12}\.){1,3}[A-Za-z0-9-]{1,8}", fullmatch=True
    ),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(?:test|local|invalid|onion|com|c)", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,3}-{1,3}[a-z0-9]{1,4}\.com", fullmatch=True),
    st.text(st.sampled_from("ab.@-_+ü1 "), max_size=20),
)


@settings(max_examples=examples(300), deadline=None)
@given(_email_like)
@example("x@ab--cd.com")
@example("a@a.test")
@example("j" * 65 + "@example.com")
@example("j@" + "a" * 64 + ".com")
def test_check_email_agrees_with_email_validator(value: str) -> None:
    """The fast path for everyday addresses never accepts what email-validator refuses, and
    normalises the same way."""
    normalised, problem = check_email(value)
    if not value.strip():
        return
    try:
        expected = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError:
        assert problem is not None
        assert problem.level == "error"
        return
    assert problem is None or problem.level == "warning"
    assert normalised in (expected.normalized, expected.ascii_email)


# --------------------------------------------------------------------------------------------
# Phones

PHONE_VALID = [
    ("(716) 293-2368", "US", "(716) 293-2368"),
    ("7162932368", "US", "(716) 293-2368"),
    ("716.293.2368", "US", "(716) 293-2368"),
    ("716-293-2368", "US", "(716) 293-2368"),
    (" 716 293 2368 ", "US", "(716) 293-2368"),
    ("+1 716 293 2368", "US", "(716) 293-2368"),
    ("+17162932368", "US", "(716) 293-2368"),
    ("1-716-293-2368", "US", "(716) 293-2368"),
    ("001 716 293 2368", "US", "(716) 293-2368"),
    ("416-555-0199", "US", "(416) 555-0199"),  # Canada shares +1: written the same way
    ("716 293 2368 x12", "US", "(716) 293-2368 ext. 12"),
    ("1-800-FLOWERS", "US", "(800) 356-9377"),
    ("+44 20 7946 0958", "US", "+44 20 7946 0958"),
    ("0044 20 7946 0958", "US", "+44 20 7946 0958"),
    ("+44 (0)20 7946 0958", "US", "+44 20 7946 0958"),
    ("+49 30 901820", "US", "+49 30 901820"),
    ("020 7946 0958", "GB", "020 7946 0958"),
    ("+1 716 293 2368", "GB", "+1 716-293-2368"),
    ("", "US", ""),
    ("   ", "US", ""),
]


@pytest.mark.parametrize(("value", "region", "expected"), PHONE_VALID)
def test_check_phone_valid(value: str, region: str, expected: str) -> None:
    assert check_phone(value, region=region) == (expected, None)


PHONE_INVALID = [
    ("123", "too few digits"),
    ("555-1234", ""),
    ("(123) 456-7890", ""),
    ("(555) 555-5555", ""),
    ("716-293-23689", "too many digits"),
    ("020 7946 0958", ""),  # a UK number without +44
    ("+44 12", "too few digits"),
    ("+999 123 4567", ""),
    ("phone", ""),
    ("n/a", ""),
]


@pytest.mark.parametrize(("value", "detail"), PHONE_INVALID)
def test_check_phone_invalid(value: str, detail: str) -> None:
    normalised, problem = check_phone(value)
    assert normalised == value
    assert problem is not None
    assert (problem.field, problem.level) == ("phone", "error")
    assert problem.message.startswith(f"Phone {value!r} is not a valid phone number")
    assert detail in problem.message
    assert "(716) 293-2368" in problem.message  # shows how to write one


def test_check_phone_names_the_additional_phone() -> None:
    _, problem = check_phone("123", field="additional_phones[1]")
    assert problem is not None
    assert problem.field == "additional_phones[1]"
    assert problem.message.startswith("Additional phone 2 '123' is not a valid phone number")


@settings(max_examples=examples(300), deadline=None)
@given(
    area=st.integers(200, 999),
    exchange=st.integers(0, 999),
    line=st.integers(0, 9999),
    style=st.sampled_from(["({a}) {e}-{l}", "{a}{e}{l}", "+1 {a} {e} {l}", "1-{a}-{e}-{l}"]),
)
def test_fast_path_agrees_with_phonenumbers(
    area: int, exchange: int, line: int, style: str
) -> None:
    text = style.format(a=area, e=f"{exchange:03d}", l=f"{line:04d}")
    number = phonenumbers.parse(text, "US")
    expected_valid = phonenumbers.is_valid_number(number)
    normalised, problem = check_phone(text)
    assert (problem is None) == expected_valid
    if expected_valid:
        assert normalised == phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.NATIONAL
        )


NANP_REGIONS = ["US", "CA", "PR", "JM", "DO", "GU", "VI", "BS"]


@settings(max_examples=examples(300), deadline=None)
@given(
    national=st.integers(2_000_000_000, 9_999_999_999).map(str),
    region=st.sampled_from(NANP_REGIONS),
)
def test_region_check_agrees_with_phonenumbers(national: str, region: str) -> None:
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    assert _valid_in_region(national, region) == phonenumbers.is_valid_number_for_region(
        number, region
    )


@pytest.mark.parametrize("region", NANP_REGIONS)
def test_region_check_agrees_with_phonenumbers_for_every_area_code(region: str) -> None:
    # Random numbers are mostly invalid; every area code with a few exchanges reaches the
    # valid ones of each region, and the toll-free and premium ones.
    for area in range(200, 1000):
        for exchange in (200, 293, 555, 867, 989):
            national = f"{area}{exchange}2368"
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
            expected = phonenumbers.is_valid_number_for_region(number, region)
            assert _valid_in_region(national, region) == expected, (national, region)


# --------------------------------------------------------------------------------------------
# State

STATE_VALID = [
    ("NY", "NY"),
    ("ny", "NY"),
    ("new york", "NY"),
    ("New York", "NY"),
    ("  NEW   YORK ", "NY"),
    ("N.Y.", "NY"),
    ("N. Y.", "NY"),
    ("Calif.", "CA"),
    ("Mass", "MA"),
    ("District of Columbia", "DC"),
    ("Washington, D.C.", "DC"),
    ("D.C.", "DC"),
    ("Washington", "WA"),
    ("W. Va.", "WV"),
    ("west virginia", "WV"),
    ("Puerto Rico", "PR"),
    ("guam", "GU"),
    ("AE", "AE"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "expected"), STATE_VALID)
def test_check_state_valid(value: str, expected: str) -> None:
    assert check_state(value) == (expected, None)
    assert check_state(value, country="USA") == (expected, None)


STATE_UNKNOWN = ["Ontario", "XX", "New Yrok", "N", "Bavaria"]


@pytest.mark.parametrize("value", STATE_UNKNOWN)
def test_check_state_unknown_is_a_warning_and_kept(value: str) -> None:
    normalised, problem = check_state(f" {value} ")
    assert normalised == value
    assert problem is not None
    assert (problem.field, problem.level) == ("state", "warning")
    assert problem.message.startswith(f"State {value!r} is not a US state")


@pytest.mark.parametrize(
    ("value", "country", "region"),
    [
        ("Ontario", "Canada", "US"),
        ("Bavaria", "DE", "US"),
        ("new york", "UK", "US"),
        ("Kent", "", "GB"),
    ],
)
def test_check_state_abroad_is_kept_as_typed(value: str, country: str, region: str) -> None:
    assert check_state(value, country=country, region=region) == (value, None)


# --------------------------------------------------------------------------------------------
# ZIP

ZIP_VALID = [
    ("14204", "14204"),
    ("00501", "00501"),
    ("14204-1234", "14204-1234"),
    ("142041234", "14204-1234"),
    ("14204 1234", "14204-1234"),
    (" 14204 - 1234 ", "14204-1234"),
    ("14204.0", "14204"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "expected"), ZIP_VALID)
def test_check_zip_valid(value: str, expected: str) -> None:
    assert check_zip(value) == (expected, None)


ZIP_WARNINGS = [
    ("2134", "02134"),
    ("2134.0", "02134"),
    ("501", "00501"),
    ("21341234", "02134-1234"),
    ("K1A 0B1", "outside the US"),
    ("123456", "outside the US"),
    ("SW1A 1AA", "outside the US"),
]


@pytest.mark.parametrize(("value", "hint"), ZIP_WARNINGS)
def test_check_zip_warnings_keep_the_value(value: str, hint: str) -> None:
    normalised, problem = check_zip(value)
    assert normalised == value.removesuffix(".0")
    assert problem is not None
    assert (problem.field, problem.level) == ("zip", "warning")
    assert problem.message.startswith("ZIP code ")
    assert hint in problem.message


@pytest.mark.parametrize(
    ("value", "country"),
    [("K1A 0B1", "Canada"), ("SW1A 1AA", "United Kingdom"), ("2000", "Australia"), ("75008", "FR")],
)
def test_check_zip_abroad_is_kept_as_typed(value: str, country: str) -> None:
    assert check_zip(value, country=country) == (value, None)


# --------------------------------------------------------------------------------------------
# The whole lead


def test_the_vendor_example_passes_unchanged() -> None:
    checked = validate_lead(LEAD, legend=LEGEND)
    assert checked == Checked(LEAD, ())
    assert checked.ok
    assert checked.errors == checked.warnings == ()


def _fields(checked: Checked) -> list[tuple[str, str]]:
    return [(p.field, p.level) for p in checked.problems]


def test_normalises_every_field() -> None:
    lead = Lead(
        email=" Jeff@Example.COM ",
        phone="716.293.2368",
        state="new york",
        zip="142041234",
        user_id=" 377310706 ",
        cm_id="576846",
        custom_fields={"195481": "2017-12-24", "300100": "yes", "297989": " as typed "},
        additional_phones=[Phone("0044 20 7946 0958", PhoneType.WORK, "London")],
        tags=[" Hot Lead ", "Lead Type"],
    )
    checked = validate_lead(lead, legend=LEGEND)
    assert checked.problems == ()
    assert checked.lead == Lead(
        email="Jeff@example.com",
        phone="(716) 293-2368",
        state="NY",
        zip="14204-1234",
        user_id="377310706",
        cm_id="576846",
        custom_fields={"195481": "12/24/2017", "300100": "1", "297989": " as typed "},
        additional_phones=[Phone("+44 20 7946 0958", PhoneType.WORK, "London")],
        tags=["Hot Lead", "Lead Type"],
    )
    # The lead given is untouched.
    assert lead.custom_fields["195481"] == "2017-12-24"
    assert lead.additional_phones[0].number == "0044 20 7946 0958"


ROUTED = {"user_id": "377310706", "cm_id": "576846", "email": "a@example.com"}

# (lead keywords, legend or None, expected (field, level) in wire order, words the messages need)
LEAD_PROBLEMS = [
    pytest.param(
        {"user_id": "377310706", "cm_id": "576846"},
        None,
        [("email", "warning")],
        ["INVALID EMAIL"],
        id="no email is only a warning",
    ),
    pytest.param(
        {**ROUTED, "email": "jeff@"},
        None,
        [("email", "error")],
        ["Email 'jeff@'"],
        id="malformed email is an error",
    ),
    pytest.param(
        {"email": "a@example.com"},
        None,
        [("user_id", "error"), ("cm_id", "error")],
        ["User ID is empty", "Connection settings", "LeadStream ID (cm_id) is empty"],
        id="missing routing",
    ),
    pytest.param(
        {**ROUTED, "user_id": "jeff", "cm_id": "5768 46"},
        None,
        [("user_id", "warning"), ("cm_id", "warning")],
        ["User ID 'jeff' should be digits only", "'5768 46'"],
        id="routing that is not digits",
    ),
    pytest.param(
        {**ROUTED, "phone": "555-1234", "state": "Ontario", "zip": "2134"},
        None,
        [("phone", "error"), ("state", "warning"), ("zip", "warning")],
        ["Phone '555-1234'", "State 'Ontario'", "02134"],
        id="phone, state and zip",
    ),
    pytest.param(
        {**ROUTED, "state": "Ontario", "zip": "K1A 0B1", "country": "Canada"},
        None,
        [],
        [],
        id="a lead abroad keeps its address",
    ),
    pytest.param(
        {
            **ROUTED,
            "additional_phones": [
                Phone("(702) 530-6954", 2),
                Phone("  ", 1, "Home"),
                Phone("123", 3),
            ],
        },
        None,
        [("additional_phones[1]", "error"), ("additional_phones[2]", "error")],
        ["Additional phone 2 has no number", "Additional phone 3 '123'"],
        id="additional phones",
    ),
    pytest.param(
        {**ROUTED, "custom_fields": {"195481": "24/12/2017", "300100": "maybe", "297989": "x"}},
        LEGEND,
        [("custom_field[195481]", "error"), ("custom_field[300100]", "error")],
        ["Follow Up Date (custom field 195481): '24/12/2017'", "Do Not Call (custom field 300100)"],
        id="custom values that do not fit their type",
    ),
    pytest.param(
        {**ROUTED, "custom_fields": {"999": "x", "abc": "y", "195481": ""}},
        LEGEND,
        [("custom_field[999]", "warning"), ("custom_field[abc]", "error")],
        ["Custom field 999 is not in the legend", "will ignore it", "'abc' is not a number"],
        id="custom ids unknown or not numbers",
    ),
    pytest.param(
        {**ROUTED, "custom_fields": {"195481": "not a date", "999": "x"}},
        None,
        [],
        [],
        id="without a legend custom values are not judged",
    ),
    pytest.param(
        {**ROUTED, "cm_id": "111111", "custom_fields": {"195481": "12/24/2017"}},
        LEGEND,
        [("cm_id", "warning")],
        ["legend is for LeadStream 576846", "111111"],
        id="legend of another LeadStream",
    ),
    pytest.param(
        {**ROUTED, "tags": ["Hot Lead", "", "  ", "Lead Type"]},
        None,
        [("tags", "warning")],
        ["2 empty tags left out"],
        id="empty tags",
    ),
]


@pytest.mark.parametrize(("kwargs", "legend", "expected", "words"), LEAD_PROBLEMS)
def test_validate_lead_problems(
    kwargs: dict[str, object],
    legend: Legend | None,
    expected: list[tuple[str, str]],
    words: list[str],
) -> None:
    checked = validate_lead(Lead(**kwargs), legend=legend)  # type: ignore[arg-type]
    assert _fields(checked) == expected
    assert checked.ok == all(level == "warning" for _, level in expected)
    assert len(checked.errors) + len(checked.warnings) == len(checked.problems)
    messages = " | ".join(p.message for p in checked.problems)
    for word in words:
        assert word in messages


def test_empty_tags_are_dropped_and_an_empty_phone_kept_aligned() -> None:
    lead = Lead(**ROUTED, tags=["a", " "], additional_phones=[Phone("", 1, "Home")])  # type: ignore[arg-type]
    checked = validate_lead(lead)
    assert checked.lead.tags == ["a"]
    # The empty phone is an error, so the row is not sent; it stays for the person to see.
    assert checked.lead.additional_phones == [Phone("", PhoneType.HOME, "Home")]
    assert not checked.ok


def test_region_decides_national_numbers() -> None:
    lead = Lead(**ROUTED, phone="020 7946 0958", state="Kent", zip="SW1A 1AA")  # type: ignore[arg-type]
    assert _fields(validate_lead(lead)) == [
        ("phone", "error"),
        ("state", "warning"),
        ("zip", "warning"),
    ]
    checked = validate_lead(lead, region="GB")
    assert checked.problems == ()
    assert checked.lead.phone == "020 7946 0958"


def test_problem_and_checked_are_frozen() -> None:
    problem = Problem("email", "m", "warning")
    with pytest.raises(AttributeError):
        problem.level = "error"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Checked(LEAD).problems = ()  # type: ignore[misc]


def _typical(i: int) -> Lead:
    area = ("716", "702", "646", "212", "415", "312", "305", "617")[i % 8]
    return Lead(
        firstname=f"First{i}",
        lastname=f"Last{i}",
        email=f"First.Last{i}@Example{i % 97}.com",
        phone=f"{area}-{200 + i % 800}-{i % 10000:04d}",
        address1=f"{i} Hickory St",
        city="Buffalo",
        state=("NY", "new york", "Calif.", "tx")[i % 4],
        zip=f"{10000 + i * 7 % 89999}",
        user_id="377310706",
        cm_id="576846",
        custom_fields={"297989": str(i), "195481": ("12/24/2017", "2017-12-24")[i % 2]},
        additional_phones=[Phone(f"({area}) {300 + i % 700}-{i * 3 % 10000:04d}", 2, "Work")],
        tags=["Hot Lead"],
    )


@pytest.mark.slow
def test_ten_thousand_leads_validate_quickly() -> None:
    leads = [_typical(i) for i in range(10_000)]
    start = time.perf_counter()
    checked = [validate_lead(lead, legend=LEGEND) for lead in leads]
    elapsed = time.perf_counter() - start
    assert all(c.ok for c in checked), [c.problems for c in checked if not c.ok][:3]
    # About 1 s on a laptop; the bound only catches a check that turned quadratic or networked.
    assert elapsed < 15, f"{elapsed:.1f} s for 10,000 leads"


def test_long_phone_text_is_checked_without_being_remembered() -> None:
    from leadstream.prepare.validate import _check_phone

    before = _check_phone.cache_info().currsize
    text = "716 293 2368 " * 20
    number, problem = check_phone(text)
    assert problem is not None
    assert number == text.strip()
    assert _check_phone.cache_info().currsize == before


@pytest.mark.parametrize("repeat", [1, 3])
def test_a_bad_custom_value_is_reported_every_time_it_is_seen(repeat: int) -> None:
    legend = Legend((LegendField("195481", "Follow Up Date", FieldType.DATE),))
    for _ in range(repeat):
        lead = Lead(user_id="1", cm_id="2", custom_fields={"195481": "someday"})
        checked = validate_lead(lead, legend=legend)
        assert [p.field for p in checked.errors] == ["custom_field[195481]"]
        assert checked.errors[0].message.startswith("Follow Up Date (custom field 195481): ")
