"""The sandbox's REST API: the pure answers (paging, filters, 401s), the HTTP routes on the real
server (faults included), and access tokens in account files."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from leadstream.prepare.legend import FieldType, LegendField
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import lead_to_pairs
from leadstream.sandbox import (
    DEMO_TOKEN,
    Account,
    AccountError,
    Faults,
    LeadStore,
    LeadStream,
    RestAnswer,
    SandboxServer,
    User,
    answer,
    rest_answer,
)

BEARER = f"Bearer {DEMO_TOKEN}"
USER, CM = "377310706", "576846"


def store_with(n: int, *, clock_start: datetime | None = None) -> LeadStore:
    moments = iter(
        (clock_start or datetime(2026, 1, 1, tzinfo=UTC)) + timedelta(minutes=i) for i in range(n)
    )
    store = LeadStore(seed=1, clock=lambda: next(moments))
    account = Account.demo()
    for i in range(n):
        lead = Lead(
            firstname=f"Ann{i}",
            lastname="Lee",
            email=f"ann{i}@example.com",
            phone=f"716293{i:04d}",
            user_id=USER,
            cm_id=CM,
        )
        assert answer(lead_to_pairs(lead, key=account.key), account, store).reason == "SUCCESS"
    return store


def split(query: str) -> list[tuple[str, str]]:
    return [(name, value) for name, _, value in (p.partition("=") for p in query.split("&") if p)]


def get(
    route: str, query: str = "", auth: str | None = BEARER, store: LeadStore | None = None
) -> RestAnswer:
    return rest_answer(f"/rest/1/{route}", split(query), auth, Account.demo(), store or LeadStore())


# --- pure answers -------------------------------------------------------------------------------


def test_tranquility_needs_no_token() -> None:
    result = get("tranquility", auth=None)
    assert result.status == 200
    assert result.body["status"] == "success"


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            None,
            {
                "debug_codes": [
                    {"code": 40101, "reason": "Login Failure: Authorization Header required"}
                ]
            },
        ),
        (
            "",
            {
                "debug_codes": [
                    {"code": 40101, "reason": "Login Failure: Authorization Header required"}
                ]
            },
        ),
        ("Bearer wrong", {"errors": ["Invalid access token"]}),
        ("Bearer ", {"errors": ["Invalid access token"]}),
        (f"Basic {DEMO_TOKEN}", {"errors": ["Invalid access token"]}),
        (f"Bearer {DEMO_TOKEN}x", {"errors": ["Invalid access token"]}),
    ],
)
@pytest.mark.parametrize("route", ["customfields", "contacts"])
def test_missing_or_wrong_tokens_get_the_documented_401(
    route: str, auth: str | None, expected: dict[str, Any]
) -> None:
    result = get(route, auth=auth)
    assert result.status == 401
    assert result.body == {"http_status": 401, "status": "error", **expected}


def test_the_cancelled_user_without_a_token_cannot_be_reached_by_a_blank_one() -> None:
    assert get("contacts", auth="Bearer  ").status == 401


def test_customfields_lists_the_users_fields_with_phoneburner_types() -> None:
    result = get("customfields")
    assert result.status == 200
    listing = result.body["customfields"]
    assert listing["total_results"] == "3"  # a string, as seen live
    assert listing["page"] == 1
    assert listing["total_pages"] == 1
    assert [
        (f["custom_field_id"], f["display_name"], f["type_id"], f["type_name"])
        for f in listing["customfields"]
    ] == [
        ("297989", "Reference #", "1", "Text Field"),
        ("195481", "Follow Up Date", "3", "Date Field"),
        ("300100", "Do Not Call", "2", "Check Box"),
    ]


def _big_account() -> Account:
    fields = tuple(LegendField(str(1000 + i), f"F{i}", FieldType.TEXT) for i in range(7))
    other = (LegendField("1000", "Again", FieldType.TEXT), LegendField("2000", "", FieldType.DATE))
    return Account(
        key="K" * 12,
        users=(User("1", token="tok-one"), User("2", token="tok-two")),
        leadstreams=(
            LeadStream("10", "1", "A", fields),
            LeadStream("11", "1", "B", other),
            LeadStream("12", "2", "C", (LegendField("9", "Not mine"),)),
        ),
    )


@pytest.mark.parametrize(
    ("query", "ids", "total_pages"),
    [
        ("page_size=3", ["1000", "1001", "1002"], 3),
        ("page_size=3&page=3", ["1006", "2000"], 3),
        ("page_size=3&page=9", [], 3),
        ("page_size=100", [*(str(1000 + i) for i in range(7)), "2000"], 1),
        ("", [*(str(1000 + i) for i in range(7)), "2000"], 1),
    ],
)
def test_customfields_pages_and_keeps_one_entry_per_field(
    query: str, ids: list[str], total_pages: int
) -> None:
    result = rest_answer(
        "/rest/1/customfields", split(query), "Bearer tok-one", _big_account(), LeadStore()
    )
    listing = result.body["customfields"]
    assert [f["custom_field_id"] for f in listing["customfields"]] == ids
    assert listing["total_results"] == "8"
    assert listing["total_pages"] == total_pages


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=x", "page_size=0", "page_size=101", "updated_from=yesterday", "sort_order=x"],
)
def test_bad_paging_or_filters_are_400_with_a_reason(query: str) -> None:
    result = get("contacts", query)
    assert result.status == 400
    assert result.body["status"] == "error"
    assert result.body["errors"][0].split()[0] in query


def test_unknown_rest_resource_is_a_json_404() -> None:
    result = get("leads")
    assert result.status == 404
    assert result.body["status"] == "error"


def test_contacts_are_the_stored_leads_of_the_tokens_user() -> None:
    store = store_with(3)
    listing = get("contacts", "sort_order=ASC", store=store).body["contacts"]
    assert listing["member_user_id"] == USER
    assert listing["total_results"] == 3
    first = listing["contacts"][0]
    assert first["first_name"] == "Ann0"
    assert first["last_name"] == "Lee"
    assert first["raw_phone"] == "7162930000"
    assert first["primary_email"] == {"email": "ann0@example.com"}
    assert first["date_added"] == "2026-01-01 00:00:00"
    assert len({c["contact_user_id"] for c in listing["contacts"]}) == 3


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["Ann4", "Ann3", "Ann2", "Ann1", "Ann0"]),  # newest first, PhoneBurner's default
        ("sort_order=ASC&page_size=2", ["Ann0", "Ann1"]),
        ("email_address=ANN1@example.com", ["Ann1"]),
        ("email_address=nobody@example.com", []),
        # `updated_from` alone lists contacts updated since; `include_new=1` adds new ones.
        ("updated_from=2026-01-01 00:03:00", []),
        ("updated_from=2026-01-01 00:03:00&include_new=1&sort_order=asc", ["Ann3", "Ann4"]),
        ("updated_from=2026-01-01T00:03:00+00:00&include_new=1", ["Ann4", "Ann3"]),
        ("updated_from=2026-01-02&include_new=1", []),
        ("page_size=2&page=2&sort_order=ASC", ["Ann2", "Ann3"]),
        ("page_size=2&page=3&sort_order=ASC", ["Ann4"]),
        ("category_id=576846&page_size=1", ["Ann4"]),
        ("category_id=1", []),
    ],
)
def test_contacts_filter_and_page(query: str, names: list[str]) -> None:
    listing = get("contacts", query, store=store_with(5)).body["contacts"]
    assert [c["first_name"] for c in listing["contacts"]] == names


def test_a_lead_without_email_has_no_primary_email() -> None:
    account = dataclasses.replace(Account.demo(), require_email=False)
    store = LeadStore()
    lead = Lead(firstname="Bo", phone="7165550100", user_id=USER, cm_id=CM)
    assert answer(lead_to_pairs(lead, key=account.key), account, store).reason == "SUCCESS"
    (contact,) = get("contacts", store=store).body["contacts"]["contacts"]
    assert contact["primary_email"] is None
    assert contact["raw_phone"] == "7165550100"


# --- account files ------------------------------------------------------------------------------


def test_the_demo_user_has_the_demo_token_and_it_survives_a_round_trip() -> None:
    account = Account.demo()
    assert account.user(USER).token == DEMO_TOKEN  # type: ignore[union-attr]
    assert Account.from_json(account.to_json()) == account
    assert DEMO_TOKEN not in repr(account.users)


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([{"user_id": "1", "token": 123456}], "must be text"),
        ([{"user_id": "1", "token": "two words"}], "one word"),
        ([{"user_id": "1", "token": "a\x00b"}], "one word"),
        (
            [{"user_id": "1", "token": "same"}, {"user_id": "2", "token": "same"}],
            "same access token",
        ),
    ],
)
def test_bad_tokens_in_account_files_are_named_without_quoting_them(
    users: list[dict[str, Any]], message: str
) -> None:
    text = json.dumps({"key": "K", "users": users})
    with pytest.raises(AccountError, match=message) as raised:
        Account.from_json(text)
    assert "123456" not in str(raised.value)


def test_account_file_tokens_let_each_user_in() -> None:
    account = Account.from_json(json.dumps(_big_account().to_dict()))
    assert (
        get_answer(account, "Bearer tok-two").body["customfields"]["customfields"][0][
            "display_name"
        ]
        == "Not mine"
    )


def get_answer(account: Account, auth: str) -> RestAnswer:
    return rest_answer("/rest/1/customfields", [], auth, account, LeadStore())


# --- over HTTP ----------------------------------------------------------------------------------


def test_the_routes_over_http(fresh_sandbox: SandboxServer) -> None:
    base = fresh_sandbox.base_url + "/rest/1/"
    calm = requests.get(base + "tranquility", timeout=5)
    assert calm.status_code == 200
    assert calm.json()["status"] == "success"
    assert calm.headers["Content-Type"].startswith("application/json")
    missing = requests.get(base + "customfields", timeout=5)
    assert missing.status_code == 401
    assert missing.json()["debug_codes"][0]["code"] == 40101
    wrong = requests.get(base + "contacts", headers={"Authorization": "Bearer no"}, timeout=5)
    assert wrong.status_code == 401
    assert wrong.json()["errors"] == ["Invalid access token"]
    fields = requests.get(base + "customfields", headers={"Authorization": BEARER}, timeout=5)
    assert fields.json()["customfields"]["total_results"] == "3"
    posted = requests.get(
        fresh_sandbox.url,
        params={"key": "XXXYYYZZZ", "user_id": USER, "cm_id": CM, "email": "z@example.com"},
        timeout=5,
    )
    assert posted.text.startswith("SUCCESS|")
    contacts = requests.get(
        base + "contacts",
        params={"email_address": "z@example.com"},
        headers={"Authorization": BEARER},
        timeout=5,
    ).json()["contacts"]
    assert contacts["total_results"] == 1
    assert requests.post(base + "contacts", timeout=5).status_code == 405
    assert fresh_sandbox.rest_stats()["requests"] == 5
    # put_contact's own counts are untouched by REST traffic.
    assert fresh_sandbox.stats()["requests"] == 1


@pytest.mark.parametrize(
    ("faults", "kind", "status"),
    [
        (Faults(fail_rate=1.0), "fail", 503),
        (Faults(garbage_rate=1.0), "garbage", 200),
        (Faults(rate_limit=0.001), "rate_limited", 429),
        (Faults(lost_reply_rate=1.0), "lost_reply", None),
        (Faults(timeout_rate=1.0, timeout_hold_s=0.05), "timeout", None),
    ],
)
def test_faults_apply_to_rest_too(faults: Faults, kind: str, status: int | None) -> None:
    with SandboxServer(faults=faults, log=None) as server:
        url = server.base_url + "/rest/1/customfields"
        seen: list[int | None] = []
        for _ in range(2):  # the rate limit lets the first request through
            try:
                seen.append(
                    requests.get(url, headers={"Authorization": BEARER}, timeout=5).status_code
                )
            except requests.ConnectionError:
                seen.append(None)
        assert seen[-1] == status
        assert server.rest_stats()[kind] >= 1
        assert server.stats()["requests"] == 0


def test_the_log_never_holds_the_token() -> None:
    log = io.StringIO()
    with SandboxServer(log=log) as server:
        for auth in (BEARER, "Bearer secret-guess-123"):
            requests.get(
                server.base_url + "/rest/1/contacts", headers={"Authorization": auth}, timeout=5
            )
    text = log.getvalue()
    assert "/rest/1/contacts 200" in text
    assert "/rest/1/contacts 401" in text
    assert DEMO_TOKEN not in text
    assert "secret-guess" not in text
