"""The encoder and its mirror: Lead → ordered pairs → URL, key masking, length guard, curl, and
decoding a query string the way PHP fills `$_GET`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from urllib.parse import quote

import pytest
from vendor_example import EMAIL, KEY, LEAD, PARAMS, QUERY

from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.query import (
    PHONEBURNER_URL,
    SAFE_URL_LENGTH,
    build_url,
    check_length,
    curl_command,
    decode_query,
    encode_pairs,
    lead_from_query,
    lead_to_pairs,
    mask_secret,
    mask_url,
    masked_url,
    split_pairs,
)

# Written out by hand: every value percent-encoded as UTF-8 (spaces as %20), brackets readable.
DOCUMENT_URL = (
    "https://www.phoneburner.com/api/vendor/put_contact?key=XXXYYYZZZ&firstname=Jeff"
    "&lastname=Sample&email=jeff.sample%40example.com&phone=%28716%29%20293-2368"
    "&address1=114%20Hickory%20St&address2=Apt%2023&city=Buffalo&state=NY&zip=14204"
    "&custom_field[297989]=75048327&custom_field[195481]=12%2F24%2F2017&user_id=377310706"
    "&cm_id=576846&additional_phones[]=%28702%29%20530-6954&additional_phone_types[]=2"
    "&additional_phone_labels[]=Work&additional_phones[]=%28646%29%20362-7327"
    "&additional_phone_types[]=1&additional_phone_labels[]=Home&tags[]=Hot%20Lead"
    "&tags[]=Lead%20Type"
)
DOCUMENT_GET = {"key": KEY, **PARAMS}


def query_of(url: str) -> str:
    return url.partition("?")[2]


# The document's example -------------------------------------------------------------------


def test_document_example_has_the_documents_pairs_in_its_order() -> None:
    # The document's text is not encoded, so splitting it by hand gives its pairs as written.
    expected = [tuple(part.split("=", 1)) for part in QUERY.split("&")]
    assert lead_to_pairs(LEAD, key=KEY) == expected


def test_document_example_url() -> None:
    assert build_url(LEAD, key=KEY) == DOCUMENT_URL
    assert DOCUMENT_URL.startswith(PHONEBURNER_URL + "?")


def test_document_example_decodes_to_the_documents_values() -> None:
    decoded = decode_query(query_of(DOCUMENT_URL))
    assert decoded == DOCUMENT_GET
    assert list(decoded) == list(DOCUMENT_GET)  # first appearance of each name, as sent
    assert list(decoded["custom_field"].items()) == [  # type: ignore[union-attr]
        ("297989", "75048327"),
        ("195481", "12/24/2017"),
    ]
    assert lead_from_query(decoded) == LEAD


def php_or_skip() -> str:
    """The `php` executable; skips the test without it, unless LEADSTREAM_E2E=1 (then fails)."""
    php = shutil.which("php")
    if php is None:
        reason = "php is not on PATH (apt-get install php-cli) to check against PHP's decoder"
        if os.environ.get("LEADSTREAM_E2E") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return php


def php_get(queries: list[str]) -> list[object]:
    """What PHP's `parse_str` makes of each query string (one php process for all of them)."""
    script = (
        'while (($l = fgets(STDIN)) !== false) { $o = []; parse_str(rtrim($l, "\\n"), $o); '
        'echo json_encode($o, JSON_THROW_ON_ERROR), "\\n"; }'
    )
    run = subprocess.run(
        [php_or_skip(), "-n", "-r", script],
        input="".join(query + "\n" for query in queries),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_php_reads_the_document_example_as_the_document_says() -> None:
    [get] = php_get([query_of(DOCUMENT_URL)])
    assert get == DOCUMENT_GET
    assert json.dumps(get) == json.dumps(DOCUMENT_GET)  # in the same order


# Values arrive exactly as typed ----------------------------------------------------------

SPECIAL_VALUES = [
    "&",
    "=",
    "+",
    "%",
    "#",
    "?",
    "[",
    "]",
    ";",
    "/",
    "'",
    '"',
    " ",
    "  two  spaces  ",
    "a=b&c=d",
    "tags[]=injected",
    "&key=stolen",
    "100% + 50%",
    "%20 is not a space",
    "%zz",
    "+1 (702) 530-6954",
    'O\'Brien "Jr"',
    "Zoë Ñandú Łódź Ærø",
    "北京市朝阳区",
    "😀👍🏽👨\u200d👩\u200d👧",
    "e\u0301",
    "tab\tnew\nline\r",
    "\x00nul",
    "",
]


@pytest.mark.parametrize("value", SPECIAL_VALUES)
def test_values_arrive_unchanged_in_every_kind_of_parameter(value: str) -> None:
    lead = Lead(
        firstname=value,
        city=value,
        custom_fields={"297989": value},
        additional_phones=[Phone(value, PhoneType.MOBILE, value)],
        tags=[value, "after"],
    )
    url = build_url(lead, key=KEY)
    decoded = decode_query(query_of(url))
    assert decoded.get("firstname", "") == value
    assert decoded["custom_field"] == {"297989": value}
    assert decoded["additional_phones"] == [value]
    assert decoded["additional_phone_labels"] == [value]
    assert decoded["tags"] == [value, "after"]
    assert decoded["key"] == KEY
    assert lead_from_query(decoded) == lead
    assert "#" not in url
    assert " " not in url


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("+", "%2B"),
        ("&", "%26"),
        ("=", "%3D"),
        ("#", "%23"),
        (" ", "%20"),
        ("é", "%C3%A9"),
        ("😀", "%F0%9F%98%80"),
        ("/", "%2F"),
        ("a-b_c.d~e", "a-b_c.d~e"),
    ],
)
def test_values_are_percent_encoded_as_utf8(value: str, encoded: str) -> None:
    assert encode_pairs([("firstname", value)]) == f"firstname={encoded}"


def test_phone_arrays_stay_aligned_when_labels_are_empty() -> None:
    lead = Lead(
        additional_phones=[
            Phone("111", PhoneType.WORK),
            Phone("222", PhoneType.MOBILE, "Cell 2"),
            Phone("333", 5),
            Phone("444", "fax"),
        ]
    )
    query = query_of(build_url(lead, key=""))
    assert query.count("additional_phone_labels[]=") == 4
    assert "additional_phone_labels[]=&" in query
    assert query.endswith("additional_phone_labels[]=")
    decoded = decode_query(query)
    assert decoded["additional_phones"] == ["111", "222", "333", "444"]
    assert decoded["additional_phone_types"] == ["2", "3", "5", "4"]
    assert decoded["additional_phone_labels"] == ["", "Cell 2", "", ""]
    # Each phone's three entries are sent together, in the document's order.
    assert [name for name, _ in split_pairs(query)][:3] == [
        "additional_phones[]",
        "additional_phone_types[]",
        "additional_phone_labels[]",
    ]


def test_custom_field_ids_and_tags_keep_their_order() -> None:
    lead = Lead(
        custom_fields={"300100": "1", "195481": "12/24/2017", "007": "x", "0": "zero"},
        tags=["zeta", "alpha", "zeta", ""],
    )
    pairs = lead_to_pairs(lead, key="")
    assert pairs == [
        ("custom_field[300100]", "1"),
        ("custom_field[195481]", "12/24/2017"),
        ("custom_field[007]", "x"),
        ("custom_field[0]", "zero"),
        ("tags[]", "zeta"),
        ("tags[]", "alpha"),
        ("tags[]", "zeta"),
        ("tags[]", ""),
    ]
    back = lead_from_query(decode_query(encode_pairs(pairs)))
    assert list(back.custom_fields.items()) == list(lead.custom_fields.items())
    assert back.tags == lead.tags


def test_country_and_promocode_follow_the_address() -> None:
    lead = Lead(zip="14204", country="US", promocode="SPRING-24", custom_fields={"1": "x"})
    assert [name for name, _ in lead_to_pairs(lead, key="K")] == [
        "key",
        "zip",
        "country",
        "promocode",
        "custom_field[1]",
    ]


def test_empty_fields_and_an_empty_key_are_left_out() -> None:
    assert lead_to_pairs(Lead(), key="") == []
    assert build_url(Lead(), key="") == PHONEBURNER_URL + "?"
    assert lead_to_pairs(Lead(lastname="Sample", cm_id="1"), key="") == [
        ("lastname", "Sample"),
        ("cm_id", "1"),
    ]


def test_build_url_takes_another_base_url() -> None:
    url = build_url(Lead(firstname="A"), key="K", base_url="http://127.0.0.1:8765/x")
    assert url == "http://127.0.0.1:8765/x?key=K&firstname=A"


# The key never shows ---------------------------------------------------------------------

# (key, how it looks in a masked URL)
MASKED_KEYS = [
    ("XXXYYYZZZ", "****"),
    ("", "****"),
    ("0123456789abcdef", "****ef"),
    ("abcdefghij&x", "****%26x"),
    ("abcdefghijk%", "****k%25"),
    ("abcdefghij=#", "****%3D%23"),
    ("secret key with spaces", "****es"),
    ("ключ-секрет-éé", "****%C3%A9%C3%A9"),
    ("🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑", "****%F0%9F%94%91%F0%9F%94%91"),
]


@pytest.mark.parametrize(("key", "masked"), MASKED_KEYS)
def test_mask_url_never_shows_the_key(key: str, masked: str) -> None:
    url = build_url(LEAD, key=key)
    shown = mask_url(url)
    if key:
        assert key not in shown
        assert quote(key, safe="") not in shown
        assert f"?key={masked}&firstname=Jeff&" in shown
        assert decode_query(query_of(shown))["key"] == mask_secret(key)
    # Everything else is left as it was.
    assert shown.replace(f"key={masked}", f"key={quote(key, safe='')}") == url
    assert mask_url(curl_command(url)) == curl_command(shown)


@pytest.mark.parametrize(("key", "masked"), MASKED_KEYS)
@pytest.mark.parametrize("lead", [LEAD, Lead(), Lead(email="ann+1@example.com", tags=["a b"])])
def test_masked_url_is_the_masked_build_url(key: str, masked: str, lead: Lead) -> None:
    assert masked_url(lead, key=key, base_url="http://h/p") == mask_url(
        build_url(lead, key=key, base_url="http://h/p")
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/p?firstname=a&key=SECRETSECRET99", "http://h/p?firstname=a&key=****99"),
        ("http://h/p?key=SECRET1&key=SECRET2", "http://h/p?key=****&key=****"),
        ("http://h/p?key=", "http://h/p?key=****"),
        ("http://h/p?monkey=banana&keys=1&key_id=2", "http://h/p?monkey=banana&keys=1&key_id=2"),
        ("http://h/p?key=abc+defghijk%2B", "http://h/p?key=****k%2B"),
        ("log: GET /x?key=SECRETSECRET42 took 3 ms", "log: GET /x?key=****42 took 3 ms"),
    ],
)
def test_mask_url_finds_the_key_wherever_it_is(url: str, expected: str) -> None:
    assert mask_url(url) == expected


@pytest.mark.parametrize(
    ("secret", "masked"),
    [("", "****"), ("abc", "****"), ("12345678901", "****"), ("123456789012", "****12")],
)
def test_mask_secret_reveals_at_most_the_last_two_characters_of_a_long_key(
    secret: str, masked: str
) -> None:
    assert mask_secret(secret) == masked


# Length guard -----------------------------------------------------------------------------


def _lead_of_length(length: int) -> Lead:
    """A lead whose URL (with key `K`) is exactly `length` characters long."""
    padding = length - len(build_url(Lead(firstname=""), key="K")) - len("&firstname=")
    return Lead(firstname="x" * padding)


@pytest.mark.parametrize(
    ("length", "warns"),
    [(SAFE_URL_LENGTH - 1, False), (SAFE_URL_LENGTH, False), (SAFE_URL_LENGTH + 1, True)],
)
def test_check_length_warns_past_8000(length: int, warns: bool) -> None:
    lead = _lead_of_length(length)
    assert len(build_url(lead, key="K")) == length
    warning = check_length(lead_to_pairs(lead, key="K"))
    assert (warning is not None) is warns
    if warning is not None:
        assert warning.length == length
        assert warning.limit == 8000


def test_check_length_names_the_largest_fields_and_not_the_key() -> None:
    key = "K" * 6000  # the largest part of all, and still never named or shown
    lead = Lead(
        firstname="Ann",
        address1="é" * 300,  # 300 characters, 1,800 once encoded
        custom_fields={"297989": "n" * 2500},
        tags=["t" * 400] * 3,
        additional_phones=[Phone("1" * 50, PhoneType.HOME)],
    )
    warning = check_length(lead_to_pairs(lead, key=key))
    assert warning is not None
    assert warning.length == len(build_url(lead, key=key))
    assert [name for name, _ in warning.largest_fields] == [
        "custom_field[297989]",
        "address1",
        "tags[]",
    ]
    assert dict(warning.largest_fields)["address1"] == len("&address1=") + 1800
    message = warning.message
    assert "custom_field[297989]" in message
    assert f"{warning.length:,}" in message
    assert "8,000" in message
    assert "key" not in message
    assert key[:20] not in message


# curl ------------------------------------------------------------------------------------


def test_curl_command_quotes_single_quotes() -> None:
    assert curl_command("https://h/?a=O'Brien") == "curl -sS --globoff 'https://h/?a=O'\\''Brien'"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    "url",
    [
        'https://h/?a=O\'Brien&b=$HOME&c=`id`&d="q"&e=\\n&f=!x',
        mask_url(build_url(Lead(firstname="O'Brien $(id)", tags=["'", "`"]), key="SECRETKEY123")),
    ],
)
def test_a_shell_passes_the_url_to_curl_unchanged(url: str) -> None:
    # A stand-in `curl` prints the argument it was given, so nothing is fetched.
    script = 'curl() { printf "%s" "$3"; }; ' + curl_command(url)
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert run.stdout == url


def test_curl_command_of_an_encoded_url_needs_no_escaping() -> None:
    url = build_url(Lead(lastname="O'Brien"), key="K")
    assert "'" not in url
    assert curl_command(url) == f"curl -sS --globoff '{url}'"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
def test_the_copied_curl_command_posts_the_example_lead(fresh_sandbox) -> None:
    lead = Lead(
        firstname="Jeff",
        email=EMAIL,
        user_id="377310706",
        cm_id="576846",
        custom_fields={"195481": "12/24/2017"},
        additional_phones=[Phone("(702) 530-6954", PhoneType.WORK, "Work")],
        tags=["Hot Lead"],
    )
    command = curl_command(build_url(lead, key=KEY, base_url=fresh_sandbox.url))
    run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert run.stdout.startswith("SUCCESS|"), run.stderr
    (stored,) = fresh_sandbox.leads()
    assert stored.lead == lead


# Decoding as PHP does --------------------------------------------------------------------

# (query string, what PHP's $_GET holds); PHP itself confirms the table below, except for the
# two rows in DECODE_DIFFERS_FROM_PHP.
DECODED = [
    ("", {}),
    ("a=1+2", {"a": "1 2"}),
    ("a=1%2B2", {"a": "1+2"}),
    ("a=%zz", {"a": "%zz"}),
    ("a=1=2", {"a": "1=2"}),
    ("a", {"a": ""}),
    ("a=", {"a": ""}),
    ("&&a=1&&", {"a": "1"}),
    ("=x&a=1", {"a": "1"}),
    ("?a=1", {"a": "1"}),
    ("a=1&a=2", {"a": "2"}),
    ("t[]=x&t[]=y&t[]=", {"t": ["x", "y", ""]}),
    ("t%5B%5D=x&t%5B%5D=y", {"t": ["x", "y"]}),
    ("c[1]=x&c[2]=y&c[1]=z", {"c": {"1": "z", "2": "y"}}),
    ("a[]=1&a=2", {"a": "2"}),
    ("a=1&a[]=2", {"a": ["2"]}),
    ("c[1]=x&c[]=y", {"c": {"1": "x", "2": "y"}}),
    ("a[]=x&a[k]=y&a[]=z", {"a": {"0": "x", "k": "y", "1": "z"}}),
    ("c[-5]=x&c[]=y", {"c": {"-5": "x", "-4": "y"}}),
    ("c[05]=x&c[]=y", {"c": {"05": "x", "0": "y"}}),
    ("a[ ]=1", {"a": ["1"]}),
    ("a.b=1&c+d=2&%20e=3", {"a_b": "1", "c_d": "2", "e": "3"}),
    ("a[b=1", {"a_b": "1"}),
    ("[a]=1", {}),
    ("a%00b=1", {"a": "1"}),
    ("a[b]c=1", {"a": {"b": "1"}}),
    ("a[x][y]=1", {"a": {"x": "1"}}),  # PHP nests; decode_query keeps the first index only
    ("tags[]=a%26b&tags[]=c%3Dd", {"tags": ["a&b", "c=d"]}),
]


# `?a=1`: decode_query also takes the query with its `?`. `a[x][y]`: PHP nests maps, which the
# vendor's names never do.
DECODE_DIFFERS_FROM_PHP = {"?a=1", "a[x][y]=1"}


def _php_shape(decoded: object) -> object:
    """A decoded value as PHP's JSON shows it: a list that is not 0, 1, 2… becomes a map."""
    if isinstance(decoded, dict):
        items = {key: _php_shape(value) for key, value in decoded.items()}
        return list(items.values()) if list(items) == [str(i) for i in range(len(items))] else items
    return decoded


def test_php_agrees_with_the_decoding_table() -> None:
    rows = [
        (query, expected) for query, expected in DECODED if query not in DECODE_DIFFERS_FROM_PHP
    ]
    answers = php_get([query for query, _ in rows])
    for (query, expected), get in zip(rows, answers, strict=True):
        assert json.dumps(_php_shape(expected)) == json.dumps(get), query


@pytest.mark.parametrize(("query", "expected"), DECODED)
def test_decode_query_reads_as_php_does(query: str, expected: dict[str, object]) -> None:
    decoded = decode_query(query)
    assert decoded == expected
    assert json.dumps(decoded) == json.dumps(expected)  # same order of names and keys too


@pytest.mark.parametrize(
    ("query", "pairs"),
    [
        ("a=1+2&b=%2B&&c&=d", [("a", "1 2"), ("b", "+"), ("c", ""), ("", "d")]),
        ("tags%5B%5D=x", [("tags[]", "x")]),
        ("", []),
    ],
)
def test_split_pairs(query: str, pairs: list[tuple[str, str]]) -> None:
    assert split_pairs(query) == pairs


# What the server sees ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "lead"),
    [
        ("key=K&nickname=x&response_type=text&firstname=A", Lead(firstname="A")),
        ("firstname[]=A&lastname=B", Lead(lastname="B")),
        ("custom_field[]=x&custom_field=y", Lead()),
        (
            "additional_phones[]=1&additional_phones[]=2&additional_phone_types[]=3",
            Lead(additional_phones=[Phone("1", PhoneType.MOBILE), Phone("2", PhoneType.OTHER)]),
        ),
        (
            "additional_phones[]=1&additional_phone_types[]=9&additional_phone_labels[]=x",
            Lead(additional_phones=[Phone("1", PhoneType.OTHER, "x")]),
        ),
        (
            "additional_phones[]=1&additional_phone_types[]=cell",
            Lead(additional_phones=[Phone("1", PhoneType.MOBILE)]),
        ),
        ("tags=solo", Lead(tags=["solo"])),
        ("custom_field[7]=a&custom_field[7]=b", Lead(custom_fields={"7": "b"})),
    ],
)
def test_lead_from_query_reads_what_a_server_would(query: str, lead: Lead) -> None:
    assert lead_from_query(decode_query(query)) == lead


@pytest.mark.parametrize("alphabet", ["ascii", "any"])
def test_values_are_encoded_exactly_as_quote_does(alphabet: str) -> None:
    import random

    rng = random.Random(alphabet)
    top = 128 if alphabet == "ascii" else 0x2FF
    values = [chr(code) for code in range(top)] + [
        "".join(chr(rng.randrange(top)) for _ in range(rng.randrange(30))) for _ in range(5000)
    ]
    encoded = encode_pairs(("v", value) for value in values)
    assert encoded == "&".join(f"v={quote(value, safe='')}" for value in values)
