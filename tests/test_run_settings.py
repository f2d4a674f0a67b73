"""RunSettings: one versioned JSON form, the older shapes the page and the CLI stored, and the
key rule (`target.key_for`) the engine, the app and the CLI share."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadstream.deliver.run_settings import SETTINGS_VERSION, RunSettings, RunSettingsError
from leadstream.deliver.target import DEMO_KEY, Target, TargetKind, key_for
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.mapping import ColumnMapping
from leadstream.sandbox.account import Account

SANDBOX = Target.sandbox("http://127.0.0.1:8765/api/vendor/put_contact")
CUSTOM = Target.custom("http://127.0.0.1:9/api/vendor/put_contact")
LEGEND = Account.demo().leadstreams[0].legend  # Reference #, Follow Up Date, Do Not Call
MAPPING = ColumnMapping(
    {"First Name": "firstname", "E-mail": "email", "Notes": None, "Ref": "custom_field[297989]"},
    {"cm_id": "576846", "user_id": "377310706"},
    {"Ref": True},
)

FULL = RunSettings(
    target=CUSTOM,
    user_id="377310706",
    cm_id="576846",
    legend=LEGEND,
    mapping=MAPPING,
    concurrency=8,
    rate_per_s=2.5,
    canary=False,
    pause_after_failures=0,
    include_duplicates=True,
    retry_of=3,
    held_back=12,
)


@pytest.mark.parametrize(
    "settings",
    [RunSettings(target=SANDBOX), FULL, RunSettings(target=Target.live(), legend=Legend())],
    ids=["defaults", "everything", "live-empty-legend"],
)
def test_round_trip(settings: RunSettings) -> None:
    text = settings.to_json()
    assert json.loads(text)["version"] == SETTINGS_VERSION
    assert RunSettings.from_json(text) == settings
    # The stored target wins over the run's own (they agree anyway).
    assert RunSettings.from_json(text, target=SANDBOX).target == settings.target


def test_the_json_never_holds_a_key() -> None:
    text = FULL.to_json()
    assert DEMO_KEY not in text
    assert not {"key", "vendor_key", "token"} & set(json.loads(text))


# The shapes stored before version 1, and what they read as (target from the run itself).
LEGACY = [
    pytest.param(
        {
            "origin": "bulk upload page",
            "concurrency": 2,
            "rate": 0.0,
            "canary": False,
            "pause_after_failures": 3,
            "send_warnings": True,
            "held_back_with_warnings": 4,
            "legend": "Demo LeadStream",
            "mapping": {"columns": {"Email": "email"}, "constants": {"cm_id": "576846"}},
            "include_duplicates": True,
        },
        {
            "concurrency": 2,
            "rate_per_s": None,
            "canary": False,
            "pause_after_failures": 3,
            "held_back": 4,
            "include_duplicates": True,
            "cm_id": "576846",
            "mapping": ColumnMapping({"Email": "email"}, {"cm_id": "576846"}),
        },
        id="page",
    ),
    pytest.param(
        {
            "concurrency": 3,
            "rate": 5.0,
            "legend": "",
            "mapping": ColumnMapping({"Email": "email"}, {"user_id": "377310706"}).to_json(),
            "include_duplicates": False,
        },
        {
            "concurrency": 3,
            "rate_per_s": 5.0,
            "user_id": "377310706",
            "mapping": ColumnMapping({"Email": "email"}, {"user_id": "377310706"}),
        },
        id="cli",
    ),
    pytest.param(
        {"concurrency": 4, "rate": None, "legend": "x.csv", "mapping": "{not json"},
        {"rate_per_s": None, "mapping": ColumnMapping()},
        id="cli-unreadable-mapping",
    ),
    pytest.param(
        {"retry_of": 7, "retry_states": ["failed"], "concurrency": 1},
        {"retry_of": 7, "concurrency": 1},
        id="retry",
    ),
    pytest.param({}, {}, id="bench-or-test"),
]


@pytest.mark.parametrize(("stored", "expected"), LEGACY)
def test_older_shapes_still_open(stored: dict[str, object], expected: dict[str, object]) -> None:
    read = RunSettings.from_json(json.dumps(stored), target=SANDBOX)
    assert read == RunSettings(target=SANDBOX, **expected)  # type: ignore[arg-type]


BAD = [
    ("[]", None, "JSON object"),
    ("{not json", None, "not readable JSON"),
    ('{"version": 2}', None, "version 2"),
    ("{}", None, "need the run's target"),
    ('{"version": 1}', None, "name no target"),
    ('{"version": 1, "target": {"kind": "moon", "url": "x"}}', None, "target cannot be used"),
    ('{"version": 1, "target": {"kind": "custom", "url": "ftp://x"}}', None, "not a web address"),
    ('{"version": 1, "key": "XXXYYYZZZ"}', SANDBOX, "never hold a key"),
    ('{"version": 1, "concurrency": 0}', SANDBOX, "Concurrency is 0"),
    ('{"version": 1, "concurrency": "four"}', SANDBOX, "whole number"),
    ('{"version": 1, "rate_per_s": -1}', SANDBOX, "rate is -1"),
    ('{"version": 1, "canary": "yes"}', SANDBOX, "true or false"),
    ('{"version": 1, "legend": {"fields": [{"id": "1"}]}}', SANDBOX, "legend has a field"),
    ('{"version": 1, "mapping": {"columns": {"A": "nonsense"}}}', SANDBOX, "column mapping"),
]


@pytest.mark.parametrize(("text", "target", "message"), BAD)
def test_unusable_settings_say_why(text: str, target: Target | None, message: str) -> None:
    with pytest.raises(RunSettingsError, match=message):
        RunSettings.from_json(text, target=target)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("concurrency", 0, "at least 1"),
        ("rate_per_s", 0.0, "above 0"),
        ("rate_per_s", float("inf"), "above 0"),
        ("pause_after_failures", -1, "0 \\(never\\)"),
        ("held_back", -2, "counts rows"),
    ],
)
def test_settings_are_checked_when_made(field: str, value: object, message: str) -> None:
    with pytest.raises(RunSettingsError, match=message):
        RunSettings(target=SANDBOX, **{field: value})  # type: ignore[arg-type]


texts = st.text(max_size=20)
settings = st.builds(
    RunSettings,
    target=st.sampled_from([SANDBOX, CUSTOM, Target.live()]),
    user_id=texts.map(str.strip),
    cm_id=texts.map(str.strip),
    legend=st.none()
    | st.builds(
        Legend,
        fields=st.lists(
            st.builds(
                LegendField,
                id=st.integers(1, 10**9).map(str),
                name=texts,
                type=st.sampled_from(list(FieldType)),
            ),
            max_size=4,
        ),
        name=texts,
        cm_id=st.integers(0, 10**6).map(str),
    ),
    mapping=st.builds(
        ColumnMapping,
        st.dictionaries(texts, st.sampled_from(["firstname", "email", "phone", None]), max_size=4),
        st.dictionaries(
            st.sampled_from(["cm_id", "user_id", "city"]),
            texts.filter(str.strip).map(str.strip),
            max_size=3,
        ),
        st.dictionaries(texts, st.booleans(), max_size=2),
    ),
    concurrency=st.integers(1, 64),
    rate_per_s=st.none() | st.floats(0.01, 1000),
    canary=st.booleans(),
    pause_after_failures=st.integers(0, 100),
    include_duplicates=st.booleans(),
    retry_of=st.none() | st.integers(1, 10**6),
    held_back=st.integers(0, 10**6),
)


@given(settings)
def test_any_settings_round_trip(value: RunSettings) -> None:
    assert RunSettings.from_json(value.to_json()) == value


# target kind, configured key, key sent
KEYS = [
    (TargetKind.SANDBOX, "", DEMO_KEY),
    (TargetKind.SANDBOX, "REAL-KEY-0123456789", DEMO_KEY),
    (TargetKind.LIVE, "REAL-KEY-0123456789", "REAL-KEY-0123456789"),
    (TargetKind.LIVE, "", ""),
    (TargetKind.CUSTOM, " typed-key ", "typed-key"),
    (TargetKind.CUSTOM, DEMO_KEY, DEMO_KEY),
]


@pytest.mark.parametrize(("kind", "configured", "sent"), KEYS)
def test_key_for(kind: TargetKind, configured: str, sent: str) -> None:
    target = {
        TargetKind.SANDBOX: SANDBOX,
        TargetKind.LIVE: Target.live(),
        TargetKind.CUSTOM: CUSTOM,
    }
    assert key_for(target[kind], configured) == sent
