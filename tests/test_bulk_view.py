"""leadstream.views: what the bulk upload page shows, checked without Streamlit."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from leadstream import views as view
from leadstream.deliver.runner import Progress
from leadstream.prepare.files import read_table
from leadstream.prepare.identity import fingerprint
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.mapping import ColumnMapping, auto_match, prepare_rows

LEGEND = Legend(
    fields=(
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
    ),
    name="Demo",
    cm_id="576846",
)
KEY = "XXXYYYZZZ"
CSV = (
    "First Name,Email,Phone,Follow Up Date,Notes\n"
    "Jeff,jeff@example.com,(716) 293-2368,2017-12-24,=HYPERLINK(1)\n"  # ready
    "Bob,,(716) 293-2370,,\n"  # warning: no email
    "Cat,not-an-email,(716) 293-2371,,\n"  # invalid
    "Jeff,JEFF@example.com,,,\n"  # duplicate of row 2
    "Ann,ann@example.com,(716) 293-2369,,\n"  # ready
)


def prepared(text: str = CSV, constants: dict[str, str] | None = None) -> list:
    table = read_table(text.encode(), "leads.csv")
    mapping = auto_match(table.columns, LEGEND)
    for target, value in (constants or {"cm_id": "576846", "user_id": "377310706"}).items():
        mapping = mapping.with_constant(target, value)
    return prepare_rows(table.frame, mapping, legend=LEGEND, row_numbers=table.row_numbers)


# ---------------------------------------------------------------------------- the file

LABELS = [
    (view.encoding_label, view.AUTO, None, "Detect automatically"),
    (
        view.encoding_label,
        view.AUTO,
        "cp1252",
        "Detect automatically (found Windows-1252 (Western European))",
    ),
    (view.encoding_label, "utf-8", "cp1252", "UTF-8"),
    (view.delimiter_label, view.AUTO, ";", "Detect automatically (found semicolons)"),
    (view.delimiter_label, "\t", None, "Tab"),
]


@pytest.mark.parametrize(("label", "choice", "found", "expected"), LABELS)
def test_read_option_labels(label, choice: str, found: str | None, expected: str) -> None:
    assert label(choice, found) == expected


@pytest.mark.parametrize(("choice", "expected"), [(view.AUTO, None), (None, None), (";", ";")])
def test_read_option(choice: str | None, expected: str | None) -> None:
    assert view.read_option(choice) == expected


def test_describe_table() -> None:
    table = read_table(b"a;b\n1;2\n3;4\n", "x.csv")
    assert view.describe_table(table) == (
        "2 rows and 2 columns; UTF-8 text, columns separated by semicolons."
    )


SAMPLES = [
    (["Jeff", "Jeff", "", "Ann", "Bob", "Cat"], "Jeff · Ann · Bob"),
    (["", "  "], "(empty)"),
    (["x" * 40], "x" * 27 + "…"),
    (["two  spaces\nand a line"], "two spaces and a line"),
]


@pytest.mark.parametrize(("values", "expected"), SAMPLES)
def test_sample_values(values: list[str], expected: str) -> None:
    assert view.sample_values(values) == expected


# ---------------------------------------------------------------------------- mapping


def test_target_menu_round_trips_every_target() -> None:
    menu = view.target_menu(LEGEND, extra=["custom_field[999]"])
    assert menu.labels[0] == view.IGNORE_LABEL
    assert len(set(menu.labels)) == len(menu.labels)
    for label in menu.labels:
        assert menu.label(menu.target(label)) == label
    assert menu.label("custom_field[195481]") == "Follow Up Date (custom field 195481)"
    assert menu.target("Custom field 999") == "custom_field[999]"


def test_target_menu_tells_same_named_legend_fields_apart() -> None:
    twins = Legend((LegendField("1", "Notes"), LegendField("2", "Notes")))
    menu = view.target_menu(twins)
    assert menu.target("Notes (custom field 1)") == "custom_field[1]"
    assert menu.target("Notes (custom field 2)") == "custom_field[2]"


def test_target_menu_refuses_unknown_labels() -> None:
    with pytest.raises(view.BulkViewError, match="not one of the choices"):
        view.target_menu().target("Shoe size")


EDITS = [
    ({1: {"Sends as": "Promo code"}}, {"Email": "promocode"}),
    ({"1": {"Sends as": view.IGNORE_LABEL}}, {"Email": None}),
    ({0: {"Sample values": "x"}}, {}),  # only the target column is editable
    ({9: {"Sends as": "Email"}}, {}),  # out of range: ignored
]


@pytest.mark.parametrize(("edits", "changed"), EDITS)
def test_apply_mapping_edits(edits: dict, changed: dict[str, str | None]) -> None:
    columns = ["First Name", "Email"]
    mapping = ColumnMapping({"First Name": "firstname", "Email": "email"})
    result = view.apply_mapping_edits(mapping, columns, edits, view.target_menu())
    assert result.columns == {**mapping.columns, **changed}


def test_mapping_table_and_summary() -> None:
    table = read_table(CSV.encode(), "leads.csv")
    mapping = auto_match(table.columns, LEGEND)
    frame = view.mapping_table(table, mapping, view.target_menu(LEGEND))
    assert list(frame.columns) == list(view.MAPPING_COLUMNS)
    assert frame.iloc[3].tolist() == [
        "Follow Up Date",
        "Follow Up Date (custom field 195481)",
        "2017-12-24",
    ]
    assert view.mapping_summary(table.columns, mapping) == (
        "4 of 5 columns are sent. Ignored: “Notes”."
    )


def test_a_sample_value_far_down_a_long_column_is_shown_as_a_short_column_shows_it() -> None:
    rows = ["Email,Country"] + [f"a{i}@example.com,US" for i in range(3_000)]
    rows[2_500] = "late@example.com,Canada"
    table = read_table("\n".join(rows).encode(), "long.csv")
    frame = view.mapping_table(table, auto_match(table.columns), view.target_menu())
    assert frame.iloc[1].tolist()[2] == "US · Canada"  # not in the first 1,000 rows
    assert frame.iloc[0].tolist()[2] == view.sample_values(table.frame["Email"])


CARRIED = [
    (None, ["Email", "Phone"], {"Email": "email", "Phone": "phone"}, 0),
    (  # shared columns keep the person's choices, even "ignore"
        ColumnMapping({"Email": None, "Notes": "promocode"}),
        ["Email", "Notes", "Phone"],
        {"Email": None, "Notes": "promocode", "Phone": "phone"},
        2,
    ),
    (  # a new column does not take a field a kept column already fills
        ColumnMapping({"Mail": "email"}),
        ["Mail", "Email", "Tags", "Labels"],
        {"Mail": "email", "Email": None, "Tags": "tags", "Labels": "tags"},
        1,
    ),
]


@pytest.mark.parametrize(("previous", "columns", "expected", "kept"), CARRIED)
def test_carry_mapping(
    previous: ColumnMapping | None, columns: list[str], expected: dict, kept: int
) -> None:
    mapping, count = view.carry_mapping(previous, columns, LEGEND)
    assert mapping.columns == expected
    assert count == kept


def test_fit_mapping_reports_missing_columns() -> None:
    loaded = ColumnMapping({"Email": "email", "Gone": "phone", "Old": None}, {"cm_id": "1"})
    fitted, missing = view.fit_mapping(loaded, ["Email", "New"])
    assert fitted.columns == {"Email": "email", "New": None}
    assert fitted.constants == {"cm_id": "1"}
    assert missing == ["Gone"]


def test_merge_legend_matches_fills_only_ignored_columns() -> None:
    columns = ["Reference #", "Follow Up Date", "Email"]
    mapping = ColumnMapping({"Reference #": None, "Follow Up Date": "promocode", "Email": "email"})
    merged = view.merge_legend_matches(mapping, columns, LEGEND)
    assert merged.columns == {
        "Reference #": "custom_field[297989]",
        "Follow Up Date": "promocode",  # the person's choice stands
        "Email": "email",
    }
    assert view.merge_legend_matches(mapping, columns, None) is mapping


MISMATCHES = [
    # legend, cm_id typed for every row → warns
    (LEGEND, "576846", False),
    (LEGEND, " 576846 ", False),
    (LEGEND, "", False),
    (LEGEND, "111", True),
    (replace(LEGEND, cm_id=""), "111", False),
    (None, "111", False),
]


@pytest.mark.parametrize(("legend", "cm_id", "warns"), MISMATCHES)
def test_legend_mismatch(legend: Legend | None, cm_id: str, warns: bool) -> None:
    text = view.legend_mismatch(legend, cm_id)
    assert bool(text) is warns
    if warns:
        assert "“Demo” belongs to LeadStream 576846" in text
        assert "go to 111" in text


ROW_VALUES = [
    ({}, {}, {}),
    ({"cm_id": " 576846 ", "tags": "Hot, Cold"}, {}, {"cm_id": "576846", "tags": "Hot, Cold"}),
    ({"user_id": "  "}, {"user_id": "1", "address2": "x"}, {"user_id": "1", "address2": "x"}),
    ({"user_id": "2"}, {"user_id": "1"}, {"user_id": "2"}),
]


@pytest.mark.parametrize(("typed", "other", "constants"), ROW_VALUES)
def test_with_row_values(
    typed: dict[str, str], other: dict[str, str], constants: dict[str, str]
) -> None:
    columns = ColumnMapping({"Email": "email", "Notes": None}, {"cm_id": "dropped"})
    mapping = view.with_row_values(columns, other, **typed)
    assert mapping.columns == columns.columns
    assert mapping.constants == constants


# ---------------------------------------------------------------------------- preview

PLANS = [
    # send_warnings, include_duplicates → fates by spreadsheet row, counts
    (
        True,
        False,
        {2: "pending", 3: "pending", 4: "invalid", 5: "duplicate", 6: "pending"},
        view.PreviewCounts(5, 2, 1, 1, 1, 0, 3, 0),
    ),
    (
        False,
        False,
        {2: "pending", 3: "held", 4: "invalid", 5: "duplicate", 6: "pending"},
        view.PreviewCounts(5, 2, 1, 1, 1, 0, 2, 1),
    ),
    (
        True,
        True,
        {2: "pending", 3: "pending", 4: "invalid", 5: "pending", 6: "pending"},
        view.PreviewCounts(5, 3, 1, 1, 0, 0, 4, 0),
    ),
]


@pytest.mark.parametrize(("warnings", "duplicates", "fates", "counts"), PLANS)
def test_plan_preview(
    warnings: bool, duplicates: bool, fates: dict[int, str], counts: view.PreviewCounts
) -> None:
    preview = view.plan_preview(prepared(), send_warnings=warnings, include_duplicates=duplicates)
    assert {r.row.line: r.fate for r in preview.rows} == fates
    assert preview.counts == counts
    c = preview.counts
    assert c.ready + c.warnings + c.invalid + c.duplicates + c.uncertain == c.total
    assert len(preview.prepared_to_run) == c.total - c.held
    tiles = {label: n for label, n, _ in view.count_tiles(c)}
    assert tiles["Will be sent"] == c.to_send
    assert tiles["Held back"] == c.uncertain + c.held
    assert view.warned_count(prepared()) == 1


def test_plan_preview_knows_what_was_delivered_before() -> None:
    rows = prepared()
    delivered = {"576846": {fingerprint(rows[4].lead)}}
    preview = view.plan_preview(rows, delivered=delivered, send_warnings=True)
    ann = preview.rows[4]
    assert ann.fate == "duplicate"
    assert "already delivered" in ann.reason
    assert preview.counts.to_send == 2


FILTERED = [
    ("all", [2, 3, 4, 5, 6]),
    ("attention", [3, 4, 5]),
    ("invalid", [4]),
    ("duplicate", [5]),
    ("send", [2, 3, 6]),
]


@pytest.mark.parametrize(("choice", "lines"), FILTERED)
def test_preview_filters(choice: str, lines: list[int]) -> None:
    preview = view.plan_preview(prepared(), send_warnings=True)
    assert [r.row.line for r in preview.selected(choice)] == lines


def test_unknown_filter_is_refused() -> None:
    with pytest.raises(view.BulkViewError):
        view.plan_preview(prepared(), send_warnings=True).selected("everything")


def test_preview_table_shows_sent_values_and_hides_the_key() -> None:
    preview = view.plan_preview(prepared(), send_warnings=True)
    table = view.preview_table(
        preview.rows, key=KEY, base_url="http://127.0.0.1:1/api/vendor/put_contact", legend=LEGEND
    )
    assert KEY not in table.to_csv()
    first, cat = table.iloc[0], table.iloc[2]
    assert first["What will happen"] == "Will be sent"
    assert first["Other values"] == "Follow Up Date (custom field 195481): 12/24/2017"
    assert first["Request (key hidden)"].startswith(
        "http://127.0.0.1:1/api/vendor/put_contact?key=****&firstname=Jeff&"
    )
    assert cat["What will happen"] == "Not sent: fix the problems"
    assert cat["Request (key hidden)"] == ""  # not sent: no request
    assert cat["Problems"].startswith("✖ Column “Email”: Email 'not-an-email'")
    assert table.iloc[1]["What will happen"] == "Will be sent (has warnings)"


PAGES = [
    (0, 1, 100, (0, 0)),
    (250, 1, 100, (0, 100)),
    (250, 3, 100, (200, 250)),
    (250, 9, 100, (200, 250)),  # past the end: the last page
    (250, 0, 100, (0, 100)),
]


@pytest.mark.parametrize(("total", "page", "size", "bounds"), PAGES)
def test_page_bounds(total: int, page: int, size: int, bounds: tuple[int, int]) -> None:
    assert view.page_bounds(total, page, size) == bounds
    assert 1 <= view.page_count(total, size) <= max(1, -(-total // size))


def test_problem_rows_csv_is_ready_to_fix_and_upload_again() -> None:
    rows = prepared(CSV.replace("Notes", "Problems"))  # a file column named like ours
    preview = view.plan_preview(rows, send_warnings=False)
    data = view.problem_rows_csv(preview, ["First Name", "Email", "Problems"])
    assert data.startswith(b"\xef\xbb\xbf")
    records = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(records[0]) == [
        "First Name",
        "Email",
        "Problems",
        "File row",
        "What will happen",
        "Problems (LeadStream)",
    ]
    assert [r["File row"] for r in records] == ["3", "4", "5"]
    assert records[0]["What will happen"] == "Held back: has warnings"
    assert "No email" in records[0]["Problems (LeadStream)"]


def test_problem_rows_csv_neutralises_formulas() -> None:
    held = view.plan_preview(prepared(CSV.replace("Bob,,", "=Bob,,")), send_warnings=False)
    lines = view.problem_rows_csv(held, ["First Name"]).decode("utf-8-sig").splitlines()
    assert lines[1].startswith("'=Bob,3,")


def test_routing_counts() -> None:
    rows = prepared()
    preview = view.plan_preview(rows, send_warnings=True)
    assert view.routing_counts(preview.rows) == [("576846", "377310706", 3)]


ROUTING = [
    ({}, ""),
    ({"user_id": ""}, "3 rows have no user ID: PhoneBurner refuses"),
    ({"cm_id": ""}, "3 rows have no LeadStream ID (cm_id): PhoneBurner refuses"),
    ({"cm_id": "", "user_id": ""}, "3 rows have no LeadStream ID (cm_id) and 3 rows have no"),
]


@pytest.mark.parametrize(("blanked", "start"), ROUTING)
def test_routing_problem_counts_only_rows_that_will_be_sent(
    blanked: dict[str, Any], start: str
) -> None:
    # Validation already refuses rows without routing; blank it after, as a bad plan would.
    preview = view.plan_preview(prepared(), send_warnings=True)
    rows = tuple(
        replace(r, row=replace(r.row, lead=replace(r.row.lead, **blanked))) for r in preview.rows
    )
    problem = view.routing_problem(replace(preview, rows=rows))
    assert problem.startswith(start)
    assert bool(problem) == bool(start)


# ---------------------------------------------------------------------------- runs

DURATIONS = [(0, "0 s"), (44.6, "45 s"), (60, "1 min"), (200, "3 min 20 s"), (3900, "1 h 5 min")]


@pytest.mark.parametrize(("seconds", "text"), DURATIONS)
def test_format_duration(seconds: float, text: str) -> None:
    assert view.format_duration(seconds) == text


def _progress(**changes: object) -> Progress:
    values: dict = {
        "run_id": 3,
        "total": 1000,
        "done": 120,
        "by_outcome": {"delivered": 118, "rejected": 2},
        "pending": 876,
        "in_flight": 4,
        "rate_per_s": 44.0,
        "elapsed_s": 2.7,
        "state": "running",
        "message": "",
    }
    values.update(changes)
    return Progress(**values)


CAPTIONS = [
    ({}, "120 of 1,000 rows done (12%) · 44.0 leads a second · about 20 s left · 3 s so far"),
    ({"state": "paused"}, "120 of 1,000 rows done (12%) · 44.0 leads a second · 3 s so far"),
    ({"rate_per_s": 0.0, "elapsed_s": 0.2}, "120 of 1,000 rows done (12%)"),
]


@pytest.mark.parametrize(("changes", "caption"), CAPTIONS)
def test_progress_caption(changes: dict, caption: str) -> None:
    assert view.progress_caption(_progress(**changes)) == caption


def test_outcome_counts_and_labels() -> None:
    counts = {"duplicate": 1, "delivered": 5, "failed": 0, "pending": 2, "rejected": 3}
    assert view.outcome_counts(counts) == [
        ("delivered", 5),
        ("rejected", 3),
        ("duplicate", 1),
        ("pending", 2),
    ]
    assert sorted(["not sent", "duplicate", "delivered"], key=view.outcome_rank) == [
        "delivered",
        "duplicate",
        "not sent",
    ]


def test_local_time() -> None:
    moment = datetime(2026, 11, 29, 9, 40, 18, tzinfo=UTC).astimezone()
    assert view.local_time("2026-11-29T09:40:18.123456+00:00") == moment.strftime("%d %b %Y, %H:%M")
    assert view.local_time("not a time") == "not a time"


def test_results_view_orders_and_filters() -> None:
    frame = pd.DataFrame(
        {
            "Email": ["a@x.com", "b@x.com"],
            "row": [2, 3],
            "outcome": ["delivered", "rejected"],
            "code": ["SUCCESS", "INVALID EMAIL"],
            "detail": ["", "Fix the email."],
            "lead_url": ["https://x", ""],
            "attempts": [1, 1],
        }
    )
    shown = view.results_view(frame)
    assert list(shown.columns) == [*view.RESULTS_FIRST, "Email"]
    assert view.results_view(frame, ["rejected"])["Email"].tolist() == ["b@x.com"]
    styled = view.coloured(shown, "outcome").to_html()
    assert "background-color: #e3f4e8" in styled  # delivered, green
    assert "background-color: #fde3e1" in styled  # rejected, red


@pytest.mark.parametrize(
    ("text_bytes", "shown"),
    [
        ("Name,Email\nJosé,j@x.com\n".encode("utf-16-le"), "UTF-16 (little-endian"),
        ("Name,Email\nJosé,j@x.com\n".encode("utf-16-be"), "UTF-16 (big-endian"),
        ("Name,Email\nJosé,j@x.com\n".encode("cp1252"), "Windows-1252"),
    ],
)
def test_the_detected_encoding_is_named_for_people(text_bytes: bytes, shown: str) -> None:
    table = read_table(text_bytes, "leads.csv")
    assert shown in view.encoding_label(view.AUTO, table.encoding)


NO_SKIPS = {"delivered before": 0, "repeated in the file": 0, "being sent elsewhere": 0}


@pytest.mark.parametrize(
    ("counts", "skipped", "message", "clean"),
    [
        (
            {"delivered": 1, "duplicate": 303},
            {**NO_SKIPS, "delivered before": 278, "repeated in the file": 25},
            "Run #2 finished: 1 delivered, 278 skipped as already delivered, 25 skipped as "
            "repeated in the file (304 rows).",
            False,
        ),
        (
            {"delivered": 1, "duplicate": 278},
            {**NO_SKIPS, "delivered before": 278},
            "Run #2 finished: 1 delivered, 278 skipped as already delivered (279 rows).",
            True,
        ),
        (
            {"delivered": 3, "rejected": 1, "failed": 2, "uncertain": 1, "invalid": 4},
            NO_SKIPS,
            "Run #2 finished: 3 delivered, 1 refused by PhoneBurner, 2 failed (certainly not "
            "taken, safe to send again), 1 without a clear answer (check PhoneBurner), 4 not "
            "sent as they failed the checks (11 rows).",
            False,
        ),
        # skipped rows of no known reason are still counted, so the parts add up
        (
            {"delivered": 0, "duplicate": 2},
            NO_SKIPS,
            "Run #2 finished: 0 delivered, 2 skipped as duplicates (2 rows).",
            False,
        ),
        ({"delivered": 1}, NO_SKIPS, "Run #2 finished: 1 delivered (1 row).", True),
    ],
)
def test_finished_message_accounts_for_every_row(
    counts: dict[str, int], skipped: dict[str, int], message: str, clean: bool
) -> None:
    assert view.finished_message(2, counts, skipped) == message
    assert view.finished_cleanly(counts, skipped) is clean


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (
            {"Email": "email", "Notes": None},
            "1 of 2 columns are sent. Ignored: “Notes”. Those "
            "columns are not sent: choose a field for any you want in PhoneBurner.",
        ),
        ({"Email": "email", "First": "firstname"}, None),
    ],
)
def test_unsent_columns_warning_is_the_pages_and_the_clis(
    columns: dict[str, str | None], expected: str | None
) -> None:
    mapping = ColumnMapping(columns, {})
    assert view.unsent_columns_warning(list(columns), mapping) == expected


@pytest.mark.parametrize("collector_on", [True, False])
def test_plan_preview_leaves_the_cycle_collector_as_it_found_it(collector_on: bool) -> None:
    import gc

    was_on = gc.isenabled()
    (gc.enable if collector_on else gc.disable)()
    try:
        preview = view.plan_preview(prepared(), send_warnings=True)
        assert gc.isenabled() is collector_on
        assert preview.counts.total == len(prepared())
    finally:
        (gc.enable if was_on else gc.disable)()
