"""The sandbox without HTTP: the account file, the seven rules in order, the store, the faults."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter

import pytest

from leadstream.prepare.legend import FieldType, LegendField
from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.query import split_pairs
from leadstream.protocol.response import VENDOR_CODES, Code, parse_response
from leadstream.sandbox import (
    Account,
    AccountError,
    Faults,
    FaultsError,
    LeadStore,
    LeadStream,
    User,
    answer,
)
from leadstream.sandbox.faults import FaultPlan

KEY = "XXXYYYZZZ"
USER = "377310706"
CANCELLED = "377310000"
OTHER_USER = "500500500"
CM_ID = "576846"
OTHER_CM_ID = "600600"  # a LeadStream of OTHER_USER

DEMO = Account.demo()
# The demo account plus a second active user with a LeadStream of their own.
ACCOUNT = Account(
    key=KEY,
    require_email=True,
    users=(*DEMO.users, User(OTHER_USER, "active")),
    leadstreams=(*DEMO.leadstreams, LeadStream(OTHER_CM_ID, OTHER_USER, "Other")),
)
NO_EMAIL_NEEDED = Account(
    key=KEY, require_email=False, users=DEMO.users, leadstreams=DEMO.leadstreams
)

GOOD = {"key": KEY, "email": "jeff@example.com", "user_id": USER, "cm_id": CM_ID}
LEAD_URL = re.compile(r"^SUCCESS\|https://www\.phoneburner\.com/ms/lead_redirect\?upc=[A-Z0-9]{8}$")


def post(
    changes: dict[str, str | None], account: Account = ACCOUNT, store: LeadStore | None = None
):
    """Answer GOOD with `changes` applied (None removes a parameter)."""
    params = {**GOOD, **changes}
    pairs = [(name, value) for name, value in params.items() if value is not None]
    return answer(pairs, account, store if store is not None else LeadStore(seed=1))


# (case, parameters changed from GOOD, expected reason). Several cases break two rules at once:
# the earlier rule must win.
RULE_CASES = [
    ("all good", {}, "SUCCESS"),
    ("key missing", {"key": None}, "IDNUMBER IS REQUIRED"),
    ("key empty", {"key": ""}, "IDNUMBER IS REQUIRED"),
    ("key wrong", {"key": "XXXYYYZZ"}, "IDNUMBER IS REQUIRED"),
    ("key wrong case", {"key": "xxxyyyzzz"}, "IDNUMBER IS REQUIRED"),
    ("key with a stray space", {"key": KEY + " "}, "IDNUMBER IS REQUIRED"),
    ("ids with stray spaces", {"user_id": f" {USER}", "cm_id": f"{CM_ID} "}, "SUCCESS"),
    ("user_id missing", {"user_id": None}, "IDNUMBER IS REQUIRED"),
    ("user_id empty", {"user_id": ""}, "IDNUMBER IS REQUIRED"),
    ("bad key beats unknown user", {"key": "nope", "user_id": "1"}, "IDNUMBER IS REQUIRED"),
    (
        "bad key beats everything",
        {"key": "nope", "cm_id": None, "email": None},
        "IDNUMBER IS REQUIRED",
    ),
    ("unknown user", {"user_id": "123"}, "UNKNOWN USER"),
    ("unknown user beats missing cm_id", {"user_id": "123", "cm_id": None}, "UNKNOWN USER"),
    ("cancelled user", {"user_id": CANCELLED}, "CANCELLED USER"),
    ("cancelled beats bad email", {"user_id": CANCELLED, "email": "x"}, "CANCELLED USER"),
    ("cm_id missing", {"cm_id": None}, "CM_ID IS REQUIRED"),
    ("cm_id empty", {"cm_id": ""}, "CM_ID IS REQUIRED"),
    (
        "cm_id missing beats response_type",
        {"cm_id": None, "response_type": "json"},
        "CM_ID IS REQUIRED",
    ),
    ("cm_id unknown", {"cm_id": "999"}, "CM_ID IS INVALID"),
    ("cm_id of another user", {"cm_id": OTHER_CM_ID}, "CM_ID IS INVALID"),
    ("the other user's own cm_id", {"user_id": OTHER_USER, "cm_id": OTHER_CM_ID}, "SUCCESS"),
    ("cm_id invalid beats bad email", {"cm_id": "999", "email": "x"}, "CM_ID IS INVALID"),
    ("response_type text", {"response_type": "text"}, "SUCCESS"),
    ("response_type json", {"response_type": "json"}, "BAD RESPONSE TYPE"),
    ("response_type xml", {"response_type": "xml"}, "BAD RESPONSE TYPE"),
    ("response_type empty", {"response_type": ""}, "BAD RESPONSE TYPE"),
    (
        "response_type beats missing email",
        {"response_type": "json", "email": None},
        "BAD RESPONSE TYPE",
    ),
    ("email missing", {"email": None}, "INVALID EMAIL"),
    ("email empty", {"email": ""}, "INVALID EMAIL"),
    ("email blank", {"email": "   "}, "INVALID EMAIL"),
    ("email without @", {"email": "jeff.example.com"}, "INVALID EMAIL"),
    ("email without domain dot", {"email": "jeff@example"}, "INVALID EMAIL"),
    ("email with space", {"email": "jeff sample@example.com"}, "INVALID EMAIL"),
    ("email with two @", {"email": "jeff@@example.com"}, "INVALID EMAIL"),
    ("email plus tag", {"email": "jeff+leads@example.com"}, "SUCCESS"),
    ("email international", {"email": "josé@exämple.com"}, "SUCCESS"),
]


@pytest.mark.parametrize(
    ("changes", "reason"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
def test_rules_in_order(changes: dict[str, str | None], reason: str) -> None:
    store = LeadStore(seed=1)
    result = post(changes, store=store)
    assert result.reason == reason
    if reason == "SUCCESS":
        assert LEAD_URL.match(result.body)
        assert result.lead is not None
        assert store.leads() == [result.lead]
    else:
        assert result.body == f"ERROR|{reason}"
        assert result.lead is None
        assert store.leads() == []
    # What the app reads from the body is what the sandbox meant.
    parsed = parse_response(result.body)
    assert parsed.code is result.code
    assert parsed.ok is (reason == "SUCCESS")


def test_every_vendor_code_is_reachable() -> None:
    reached = {post(changes).code for _, changes, _ in RULE_CASES}
    store = LeadStore()
    post({}, store=store)
    reached.add(post({}, store=store).code)
    assert reached >= {Code.SUCCESS, *VENDOR_CODES}


ARRAY_CASES = [
    # PHP's $_GET: `key[]` is an array, not the key; a later plain value replaces an earlier.
    ("key as array", [("key[]", KEY)], "IDNUMBER IS REQUIRED"),
    ("later key wins", [("key", "wrong"), ("key", KEY)], "SUCCESS"),
    ("later wrong key wins", [("key", KEY), ("key", "wrong")], "IDNUMBER IS REQUIRED"),
    ("user_id as map", [("key", KEY), ("user_id[0]", USER)], "IDNUMBER IS REQUIRED"),
    ("email as array", [("key", KEY), ("email[]", "jeff@example.com")], "INVALID EMAIL"),
    ("response_type as array", [("key", KEY), ("response_type[]", "text")], "BAD RESPONSE TYPE"),
]


@pytest.mark.parametrize(
    ("pairs", "reason"), [c[1:] for c in ARRAY_CASES], ids=[c[0] for c in ARRAY_CASES]
)
def test_parameters_read_as_php_reads_them(pairs: list[tuple[str, str]], reason: str) -> None:
    replaced = {name.partition("[")[0] for name, _ in pairs}
    base = [(name, value) for name, value in GOOD.items() if name not in replaced]
    assert answer(base + pairs, ACCOUNT, LeadStore()).reason == reason


DUPLICATE_CASES = [
    ("same email", "jeff@example.com", "jeff@example.com", CM_ID, "DUPLICATE EMAIL"),
    ("other case", "jeff@example.com", "JEFF@Example.COM", CM_ID, "DUPLICATE EMAIL"),
    ("surrounding spaces", "jeff@example.com", " jeff@example.com ", CM_ID, "DUPLICATE EMAIL"),
    ("other email", "jeff@example.com", "jeff2@example.com", CM_ID, "SUCCESS"),
]


@pytest.mark.parametrize(
    ("first", "second", "cm_id", "reason"),
    [c[1:] for c in DUPLICATE_CASES],
    ids=[c[0] for c in DUPLICATE_CASES],
)
def test_duplicate_email_per_leadstream(first: str, second: str, cm_id: str, reason: str) -> None:
    store = LeadStore()
    assert post({"email": first}, store=store).reason == "SUCCESS"
    assert post({"email": second, "cm_id": cm_id}, store=store).reason == reason
    assert len(store) == (2 if reason == "SUCCESS" else 1)


def test_same_email_in_another_leadstream_is_not_a_duplicate() -> None:
    store = LeadStore()
    assert post({}, store=store).reason == "SUCCESS"
    other = {"user_id": OTHER_USER, "cm_id": OTHER_CM_ID}
    assert post(other, store=store).reason == "SUCCESS"
    assert post(other, store=store).reason == "DUPLICATE EMAIL"


def test_rejected_email_is_not_remembered() -> None:
    store = LeadStore()
    assert post({"response_type": "json"}, store=store).reason == "BAD RESPONSE TYPE"
    assert post({}, store=store).reason == "SUCCESS"


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        (None, "SUCCESS"),
        ("", "SUCCESS"),
        ("not an email", "INVALID EMAIL"),
        ("jeff@example.com", "SUCCESS"),
    ],
)
def test_require_email_false(email: str | None, reason: str) -> None:
    assert post({"email": email}, account=NO_EMAIL_NEEDED).reason == reason


def test_leads_without_email_are_never_duplicates() -> None:
    store = LeadStore()
    results = [post({"email": None}, NO_EMAIL_NEEDED, store).reason for _ in range(3)]
    assert results == ["SUCCESS"] * 3
    assert len({lead.upc for lead in store.leads()}) == 3


def test_stored_lead_holds_what_arrived() -> None:
    pairs = [
        ("key", KEY),
        ("firstname", "Ann & Bo"),
        ("email", "ann@example.com"),
        ("phone", "+1 716 293 2368"),
        ("custom_field[297989]", "R-1"),
        ("custom_field[999999]", "not in the legend"),
        ("custom_field[195481]", "12/24/2017"),
        ("user_id", USER),
        ("cm_id", CM_ID),
        ("additional_phones[]", "(702) 530-6954"),
        ("additional_phone_types[]", "2"),
        ("additional_phone_labels[]", ""),
        ("tags[]", "Hot Lead"),
        ("promo", "extra"),
    ]
    store = LeadStore(seed=3)
    result = answer(pairs, ACCOUNT, store)
    stored = result.lead
    assert stored is not None
    assert stored.upc in result.body
    assert (stored.cm_id, stored.user_id) == (CM_ID, USER)
    assert stored.ignored_fields == ("999999",)
    assert "key" not in stored.params
    assert stored.params["custom_field"] == {
        "297989": "R-1",
        "999999": "not in the legend",
        "195481": "12/24/2017",
    }
    assert stored.params["additional_phone_labels"] == [""]
    assert stored.params["promo"] == "extra"
    assert stored.lead == Lead(
        firstname="Ann & Bo",
        email="ann@example.com",
        phone="+1 716 293 2368",
        user_id=USER,
        cm_id=CM_ID,
        custom_fields={"297989": "R-1", "999999": "not in the legend", "195481": "12/24/2017"},
        additional_phones=[Phone("(702) 530-6954", PhoneType.WORK, "")],
        tags=["Hot Lead"],
    )
    assert stored.to_dict() == {
        "upc": stored.upc,
        "time": stored.time,
        "cm_id": CM_ID,
        "user_id": USER,
        "params": stored.params,
        "ignored_fields": ["999999"],
    }
    json.dumps(stored.to_dict())  # the inspection route can serve it as is


def test_store_upcs_are_unique_and_repeatable_with_a_seed() -> None:
    def upcs(store: LeadStore, n: int) -> list[str]:
        return [
            stored.upc
            for i in range(n)
            if (
                stored := store.add(
                    cm_id=CM_ID, user_id=USER, email=f"{i}@example.com", params={}, lead=Lead()
                )
            )
            is not None
        ]

    first = upcs(LeadStore(seed=42), 3000)
    assert len(set(first)) == 3000
    assert all(re.fullmatch(r"[A-Z0-9]{8}", upc) for upc in first)
    assert upcs(LeadStore(seed=42), 3000) == first
    assert upcs(LeadStore(seed=43), 10) != first[:10]
    store = LeadStore(seed=42)
    upcs(store, 5)
    store.clear()
    assert len(store) == 0
    assert upcs(store, 5) == first[:5]


def test_simultaneous_posts_of_one_email_store_one_lead() -> None:
    store = LeadStore()
    threads_per_email, emails = 16, 20
    barrier = threading.Barrier(threads_per_email)
    reasons: Counter[str] = Counter()
    lock = threading.Lock()

    def send(email: str) -> None:
        barrier.wait()
        reason = post({"email": email}, store=store).reason
        with lock:
            reasons[reason] += 1

    for n in range(emails):
        email = f"same{n}@example.com"
        threads = [
            threading.Thread(target=send, args=(email.upper() if i % 2 else email,))
            for i in range(threads_per_email)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert reasons == {"SUCCESS": emails, "DUPLICATE EMAIL": emails * (threads_per_email - 1)}
    assert len(store) == emails


def test_answer_reads_pairs_decoded_from_a_query_string() -> None:
    query = f"key={KEY}&email=a%2Bb%40example.com&user_id={USER}&cm_id={CM_ID}&firstname=A+B"
    stored = answer(split_pairs(query), ACCOUNT, LeadStore()).lead
    assert stored is not None
    assert stored.params["email"] == "a+b@example.com"
    assert stored.params["firstname"] == "A B"


# The account file


DESIGN_ACCOUNT = {
    "key": "XXXYYYZZZ",
    "require_email": True,
    "users": [
        # docs/DESIGN.md, "REST API": the demo user's access token is `demo-access-token`.
        {"user_id": "377310706", "status": "active", "token": "demo-access-token"},
        {"user_id": "377310000", "status": "cancelled"},
    ],
    "leadstreams": [
        {
            "cm_id": "576846",
            "user_id": "377310706",
            "name": "Demo LeadStream",
            "fields": [
                {"id": "297989", "name": "Reference #", "type": "text"},
                {"id": "195481", "name": "Follow Up Date", "type": "date"},
                {"id": "300100", "name": "Do Not Call", "type": "checkbox"},
            ],
        }
    ],
}


def test_demo_account_is_the_designs() -> None:
    assert json.loads(DEMO.to_json()) == DESIGN_ACCOUNT
    assert list(json.loads(DEMO.to_json())) == list(DESIGN_ACCOUNT)
    assert Account.from_json(json.dumps(DESIGN_ACCOUNT)) == DEMO
    assert DEMO.is_demo
    assert not ACCOUNT.is_demo
    assert DEMO.leadstream(CM_ID).legend.fields[1] == LegendField(
        "195481", "Follow Up Date", FieldType.DATE
    )


def test_account_round_trips_through_a_file(tmp_path) -> None:
    path = tmp_path / "account.json"
    path.write_text(ACCOUNT.to_json(), encoding="utf-8")
    assert Account.load(path) == ACCOUNT


def test_account_json_accepts_numbers_for_ids_and_defaults() -> None:
    account = Account.from_json(
        '{"key": "k", "users": [{"user_id": 7}], '
        '"leadstreams": [{"cm_id": 9, "user_id": "7", "fields": [{"id": 1, "name": "N"}]}]}'
    )
    assert account.require_email is True
    assert account.user("7") == User("7", "active")
    assert account.leadstream("9").fields == (LegendField("1", "N", FieldType.TEXT),)


def _with(**changes: object) -> str:
    return json.dumps({**DESIGN_ACCOUNT, **changes})


def _stream(**changes: object) -> list[dict[str, object]]:
    return [{**DESIGN_ACCOUNT["leadstreams"][0], **changes}]


BAD_ACCOUNTS = [
    ("not json", "{key: 1}", r"not valid JSON \(line 1"),
    ("not an object", "[]", r"\(top level\).*an object"),
    ("no key", _with(key=""), r"`key` must be the vendor key"),
    ("key not text", _with(key=123), r"`key` must be the vendor key"),
    ("require_email not bool", _with(require_email="yes"), r"`require_email` must be true or"),
    ("users not list", _with(users={}), r"`users` must be a list"),
    ("bad status", _with(users=[{"user_id": "1", "status": "gone"}]), r"users\[0\]\.status"),
    ("missing user_id", _with(users=[{"status": "active"}]), r"users\[0\]\.user_id"),
    (
        "user twice",
        _with(users=[{"user_id": "377310706"}, {"user_id": "377310706"}]),
        r"User 377310706 is listed twice",
    ),
    ("owner not a user", _with(leadstreams=_stream(user_id="1")), r"not in `users`"),
    (
        "bad field type",
        _with(leadstreams=_stream(fields=[{"id": "1", "type": "number"}])),
        r"leadstreams\[0\]\.fields\[0\]\.type.*text, date, checkbox",
    ),
    (
        "field name not text",
        _with(leadstreams=_stream(fields=[{"id": "1", "name": 5}])),
        r"leadstreams\[0\]\.fields\[0\]\.name` must be text",
    ),
    (
        "field twice",
        _with(leadstreams=_stream(fields=[{"id": "1"}, {"id": "1"}])),
        r"custom field ID twice",
    ),
    ("cm_id missing", _with(leadstreams=_stream(cm_id="")), r"leadstreams\[0\]\.cm_id"),
    ("nested too deep", "[" * 100_000 + "]" * 100_000, r"nested too deeply"),
    ("number too long", '{"key": ' + "9" * 5_000 + "}", r"number too long"),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in BAD_ACCOUNTS], ids=[c[0] for c in BAD_ACCOUNTS]
)
def test_bad_account_json_says_where(text: str, message: str) -> None:
    with pytest.raises(AccountError, match=message):
        Account.from_json(text)


def test_unreadable_account_file_names_it(tmp_path) -> None:
    with pytest.raises(AccountError, match=r"Cannot read the account file .*missing\.json"):
        Account.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(AccountError, match=r"The account file .*bad\.json is not valid JSON"):
        Account.load(bad)


# Faults


BAD_FAULTS = [
    ({"fail_rate": 1.5}, r"fail_rate is 1\.5"),
    ({"garbage_rate": -0.1}, r"garbage_rate is -0\.1"),
    ({"fail_rate": 0.6, "timeout_rate": 0.6}, r"add up to more than 1"),
    ({"latency_ms": -1}, r"latency_ms"),
    ({"rate_limit": 0}, r"rate_limit is 0"),
    ({"timeout_hold_s": -1}, r"timeout_hold_s"),
    ({"fail_rate": float("nan")}, r"finite"),
]


@pytest.mark.parametrize(("settings", "message"), BAD_FAULTS)
def test_bad_fault_settings(settings: dict[str, float], message: str) -> None:
    with pytest.raises(FaultsError, match=message):
        Faults(**settings)


def test_fault_draw_is_repeatable_and_follows_the_rates() -> None:
    faults = Faults(fail_rate=0.1, timeout_rate=0.2, lost_reply_rate=0.3, garbage_rate=0.1, seed=5)
    plan = FaultPlan(faults)
    draws = [plan.draw() for _ in range(20_000)]
    counts = Counter(draws)
    for kind, rate in [
        ("fail", 0.1),
        ("timeout", 0.2),
        ("lost_reply", 0.3),
        ("garbage", 0.1),
        (None, 0.3),
    ]:
        assert abs(counts[kind] / len(draws) - rate) < 0.02, kind
    again = FaultPlan(faults)
    assert [again.draw() for _ in range(200)] == draws[:200]
    plan.reset()
    assert [plan.draw() for _ in range(200)] == draws[:200]


def test_no_faults_draws_nothing() -> None:
    plan = FaultPlan(Faults())
    assert {plan.draw() for _ in range(1000)} == {None}


def test_rate_limit_allows_r_a_second() -> None:
    now = [100.0]
    plan = FaultPlan(Faults(rate_limit=3), clock=lambda: now[0])
    assert [plan.draw() for _ in range(5)] == [None, None, None, "rate_limited", "rate_limited"]
    now[0] += 1 / 3
    assert [plan.draw() for _ in range(2)] == [None, "rate_limited"]
    now[0] += 10  # a quiet spell refills the bucket, but only to R
    assert [plan.draw() for _ in range(4)] == [None, None, None, "rate_limited"]


def test_rate_limit_comes_before_the_random_faults() -> None:
    now = [0.0]
    plan = FaultPlan(Faults(rate_limit=1, fail_rate=1.0), clock=lambda: now[0])
    assert [plan.draw(), plan.draw()] == ["fail", "rate_limited"]


def test_faults_describe_themselves() -> None:
    assert Faults().describe() == "no faults"
    assert Faults(latency_ms=50, fail_rate=0.1, rate_limit=5).describe() == (
        "latency 50 ms, fail 10%, rate limit 5/s"
    )
