"""Post a lead: the single-lead form, its checks as you type, the request preview, and Send.

Every value typed lives in `st.session_state` under `keep.form.*` (kept across pages by
app.py), so sending, an error, or a visit to another page never empties the form; only
"Clear form" does, and it can be undone. The rules (building the lead, checks, the request)
come from `leadstream`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from leadstream.prepare.form import (
    EXAMPLE_LEAD,
    FormValues,
    PhoneRow,
    form_from_lead,
    is_blank,
    lead_from_form,
    pick_legend,
    received_rows,
)
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.validate import validate_lead
from leadstream.protocol.lead import LEAD_FIELDS, STANDARD_FIELDS, Lead, PhoneType
from leadstream.protocol.query import build_url, check_length, curl_command, lead_to_pairs, mask_url
from ui import state as ui
from ui.sending import send_lead
from ui.widgets import SentLead, md, note, show_sent, target_label

F = "keep.form."
PHONE_ROWS = "form.phone_rows"
NEXT_PHONE = "form.next_phone"
EXTRA_CF = "form.extra_cf"
RESULT = "form.result"
UNDO = "form.undo"
TRIED = "form.tried"
SEND_REQUEST = "form.send_request"  # set by the Send button; the send happens before drawing
LOADED_NOTE = "form.loaded_note"
# Other pages put `{"lead": Lead, "note": str}` here and switch to this page to fill the form.
LOAD = ui.FORM_LOAD_KEY
LEGEND_KEY = ui.FORM_LEGEND_KEY
TAGS_KEY = F + "tags"
PREVIEW_KEY = F + "preview"
NO_LEGEND = "(no custom fields)"
# Number, type, label, remove button, and room left empty so rows stay compact on wide screens.
PHONE_COLUMNS = [3, 1.7, 2.6, 1.2, 3.5]
_PLAIN_STATE = (PHONE_ROWS, NEXT_PHONE, EXTRA_CF)
_SETTINGS = (LEGEND_KEY, PREVIEW_KEY)  # choices about the form, not part of the lead

state = st.session_state


# ---------------------------------------------------------------------------- keys


def _field_key(name: str) -> str:
    return F + name


def _custom_key(spec: LegendField) -> str:
    # The type is in the key: a date widget must never find a string in its state.
    return f"{F}cf.{spec.id}.{spec.type.value}"


def _extra_key(field_id: str) -> str:
    return f"{F}xcf.{field_id}"


def _phone_key(row_id: int, part: str) -> str:
    return f"{F}ph.{row_id}.{part}"


# ---------------------------------------------------------------------------- form state


def _init_state() -> None:
    for spec in LEAD_FIELDS:
        state.setdefault(_field_key(spec.name), "")
    state.setdefault(PHONE_ROWS, [])
    state.setdefault(NEXT_PHONE, 0)
    state.setdefault(EXTRA_CF, [])
    state.setdefault(TAGS_KEY, [])
    state.setdefault(PREVIEW_KEY, False)
    for row_id in state[PHONE_ROWS]:
        state.setdefault(_phone_key(row_id, "number"), "")
        state.setdefault(_phone_key(row_id, "type"), int(PhoneType.MOBILE))
        state.setdefault(_phone_key(row_id, "label"), "")


def _snapshot() -> dict[str, Any]:
    kept = {k: v for k, v in state.items() if isinstance(k, str) and k.startswith(F)}
    kept.update(
        {
            k: list(state[k]) if isinstance(state[k], list) else state[k]
            for k in _PLAIN_STATE
            if k in state
        }
    )
    return kept


def _empty_form() -> None:
    for name in [k for k in state if isinstance(k, str) and k.startswith(F)]:
        if name not in _SETTINGS:
            del state[name]
    state[PHONE_ROWS] = []
    state[EXTRA_CF] = []
    state.pop(RESULT, None)
    state.pop(TRIED, None)
    state.pop(LOADED_NOTE, None)


def _clear_form() -> None:
    state[UNDO] = _snapshot()
    _empty_form()


def _undo_clear() -> None:
    snapshot = state.pop(UNDO, None)
    if snapshot:
        _empty_form()
        for name, value in snapshot.items():
            state[name] = value


def _add_phone() -> None:
    row_id = state[NEXT_PHONE]
    state[NEXT_PHONE] = row_id + 1
    state[PHONE_ROWS] = [*state[PHONE_ROWS], row_id]


def _remove_phone(row_id: int) -> None:
    state[PHONE_ROWS] = [r for r in state[PHONE_ROWS] if r != row_id]
    for part in ("number", "type", "label"):
        state.pop(_phone_key(row_id, part), None)


def _remove_extra(field_id: str) -> None:
    state[EXTRA_CF] = [f for f in state[EXTRA_CF] if f != field_id]
    state.pop(_extra_key(field_id), None)


def _request_send() -> None:
    state[TRIED] = True
    state[SEND_REQUEST] = True


def fill_from_lead(lead: Lead, *, keep_routing: bool, message: str = "") -> None:
    """Replace the form's content with `lead` (a snapshot is kept for Undo)."""
    state[UNDO] = _snapshot()
    _empty_form()
    legends = ui.get_journal().legends()
    # Only ask for the connection when the lead has no cm_id: it may start the sandbox.
    default_cm_id = lead.cm_id or ui.connection().cm_id
    chosen = pick_legend(lead, legends, default_cm_id=default_cm_id)
    if chosen is not None:
        state[LEGEND_KEY] = chosen
    current = state.get(LEGEND_KEY, NO_LEGEND)
    legend = next((lg for lg in legends if lg.name == current), None)
    values = form_from_lead(lead, legend=legend, keep_routing=keep_routing)
    for name, value in values.fields.items():
        state[_field_key(name)] = value
    extras = []
    for field_id, value in values.custom.items():
        spec = legend.by_id(field_id) if legend is not None else None
        if spec is not None:
            state[_custom_key(spec)] = value
        else:
            state[_extra_key(field_id)] = str(value)
            extras.append(field_id)
    state[EXTRA_CF] = extras
    rows = []
    for row in values.phones:
        row_id = state.get(NEXT_PHONE, 0)
        state[NEXT_PHONE] = row_id + 1
        state[_phone_key(row_id, "number")] = row.number
        state[_phone_key(row_id, "type")] = int(row.type)
        state[_phone_key(row_id, "label")] = row.label
        rows.append(row_id)
    state[PHONE_ROWS] = rows
    state[TAGS_KEY] = list(values.tags)
    if message:
        state[LOADED_NOTE] = message


def _fill_example() -> None:
    fill_from_lead(
        EXAMPLE_LEAD,
        keep_routing=False,
        message="Filled with the vendor document's example lead. Sent twice to the same "
        "LeadStream, it is refused as DUPLICATE EMAIL (change the email to send it again).",
    )


# ---------------------------------------------------------------------------- reading the form


def _current_legend(legends: list[Legend]) -> Legend | None:
    name = state.get(LEGEND_KEY, NO_LEGEND)
    return next((lg for lg in legends if lg.name == name), None)


def _form_values(legend: Legend | None) -> FormValues:
    fields = {spec.name: str(state.get(_field_key(spec.name), "")) for spec in LEAD_FIELDS}
    custom: dict[str, Any] = {}
    if legend is not None:
        for spec in legend.fields:
            custom[spec.id] = state.get(_custom_key(spec))
    for field_id in state[EXTRA_CF]:
        custom.setdefault(field_id, state.get(_extra_key(field_id), ""))
    phones = tuple(
        PhoneRow(
            str(state.get(_phone_key(r, "number"), "")),
            PhoneType(int(state.get(_phone_key(r, "type"), PhoneType.MOBILE))),
            str(state.get(_phone_key(r, "label"), "")),
        )
        for r in state[PHONE_ROWS]
    )
    return FormValues(fields=fields, custom=custom, phones=phones, tags=tuple(state[TAGS_KEY]))


# ---------------------------------------------------------------------------- the page

_init_state()
if (load := state.pop(LOAD, None)) is not None:
    fill_from_lead(load["lead"], keep_routing=True, message=load.get("note", ""))

conn = ui.connection()
journal = ui.get_journal()
legends = journal.legends()
legend_names = [lg.name for lg in legends]
if state.get(LEGEND_KEY) not in [NO_LEGEND, *legend_names]:
    # First visit, or the chosen legend was deleted: the one for this LeadStream, else the demo.
    fitting = next((lg.name for lg in legends if lg.cm_id == conn.cm_id), None)
    if fitting is None and ui.DEMO_LEGEND_NAME in legend_names:
        fitting = ui.DEMO_LEGEND_NAME
    state[LEGEND_KEY] = fitting or NO_LEGEND
legend = _current_legend(legends)

values = _form_values(legend)
built = lead_from_form(
    values, legend=legend, default_user_id=conn.user_id, default_cm_id=conn.cm_id
)
checked = validate_lead(built.lead, legend=legend)
blank = is_blank(values)
tried = bool(state.get(TRIED))

# Send here, before anything is drawn, so the answer and the field it names show at once.
blocked = ""
confirm_first = False
if state.pop(SEND_REQUEST, False) or ui.confirmed_now("form"):
    if checked.errors or built.problems or blank:
        blocked = "Not sent: fix the problems listed above, then press Send again."
    elif conn.problem:
        blocked = f"Not sent: {conn.problem}"
    elif conn.target.is_live and not conn.live_confirmed:
        confirm_first = True
    else:
        with st.spinner(f"Sending to {target_label(conn)}…"):
            _delivery, result = send_lead(conn, checked.lead, source="form")
        state[RESULT] = result
        state.pop(LOADED_NOTE, None)
        if result.outcome == "delivered":
            st.toast(f"Sent: {result.name}", icon=":material/check_circle:")
sent: SentLead | None = state.get(RESULT)

# Problems by the form field they belong to; what no field claims goes to the summary.
notes: dict[str, list[tuple[str, str]]] = {}
for problem in checked.problems:
    name = problem.field
    inside = name.removeprefix("additional_phones[").removesuffix("]")
    if inside != name and inside.isdigit() and int(inside) < len(built.phone_rows):
        name = f"phone_row[{built.phone_rows[int(inside)]}]"  # shown on the row it came from
    notes.setdefault(name, []).append((problem.level, problem.message))
for form_problem in built.problems:
    notes.setdefault(form_problem.field, []).append(("error", form_problem.message))
if blank:
    notes.setdefault("", []).append(
        ("error", "The lead is empty: fill in at least a name, an email or a phone.")
    )


def _field_notes(name: str, *, has_value: bool) -> None:
    """Notes under a field: always for what was typed, for empty fields once Send was tried."""
    if name in notes and (has_value or tried):
        note(notes[name])
    if sent is not None and sent.field == name:
        st.error(
            f"PhoneBurner refused the lead because of this field: {sent.help}",
            icon=":material/arrow_upward:",
        )


st.title("Post a lead")
st.caption(
    f"Fill in the lead and press **Send**. Leads go to **{md(target_label(conn))}**; change "
    "that under Connection in the sidebar."
)
if conn.target.is_live:
    st.warning(
        "You are sending to **PhoneBurner live**: leads reach real people.",
        icon=":material/public:",
    )

top = st.columns([1, 1, 1, 3])
top[0].button(
    "Fill with example",
    on_click=_fill_example,
    icon=":material/auto_fix_high:",
    help="The example lead from PhoneBurner's vendor document, for a quick demo.",
)
top[1].button(
    "Clear form",
    on_click=_clear_form,
    icon=":material/backspace:",
    help="Empty every field (you can undo it).",
)
if state.get(UNDO):
    top[2].button(
        "Undo", on_click=_undo_clear, icon=":material/undo:", help="Bring back what was there."
    )
if loaded := state.get(LOADED_NOTE):
    st.info(loaded, icon=":material/content_paste:")

left, right = st.columns(2, gap="large")

with left:
    st.subheader("Contact and address")
    grid = None
    for position, spec in enumerate(STANDARD_FIELDS):
        if position % 2 == 0:
            grid = st.columns(2)
        assert grid is not None
        with grid[position % 2]:
            key = _field_key(spec.name)
            st.text_input(spec.label, key=key, help=spec.help or None)
            _field_notes(spec.name, has_value=bool(str(state[key]).strip()))

    st.subheader("Routing")
    routing = st.columns(2)
    for column, spec in zip(routing, LEAD_FIELDS[len(STANDARD_FIELDS) :], strict=True):
        with column:
            default = getattr(conn, spec.name)
            st.text_input(
                spec.label,
                key=_field_key(spec.name),
                placeholder=f"{default} (from Connection)" if default else "Set under Connection",
                help=f"{spec.help} Leave empty to use the default from the sidebar.",
            )
            _field_notes(spec.name, has_value=True)

with right:
    st.subheader("Custom fields")
    st.selectbox(
        "Legend",
        [NO_LEGEND, *legend_names],
        key=LEGEND_KEY,
        help="The custom fields of your LeadStream. Paste and save legends on the "
        "Custom-field legend page.",
    )
    if legend is None:
        st.caption("No legend chosen: this lead carries no custom fields.")
    else:
        if legend.cm_id and legend.cm_id != built.lead.cm_id:
            st.warning(
                f"This legend is for LeadStream {legend.cm_id}, but the lead goes to "
                f"{built.lead.cm_id or '(no cm_id)'}. Field IDs differ between LeadStreams.",
                icon=":material/warning:",
            )
        if not legend.fields:
            st.caption("This legend has no fields.")
        for spec in legend.fields:
            key = _custom_key(spec)
            helptext = f"Sent as custom_field[{spec.id}] ({spec.type.label.lower()})."
            if spec.type is FieldType.DATE:
                state.setdefault(key, None)
                st.date_input(
                    spec.name,
                    value=None,
                    key=key,
                    format="MM/DD/YYYY",
                    min_value=date(1900, 1, 1),
                    max_value=date(2100, 12, 31),
                    help=helptext,
                )
            elif spec.type is FieldType.CHECKBOX:
                state.setdefault(key, False)
                st.checkbox(spec.name, key=key, help=helptext + " Unticked leaves it out.")
            else:
                state.setdefault(key, "")
                st.text_input(spec.name, key=key, help=helptext)
            _field_notes(f"custom_field[{spec.id}]", has_value=bool(state.get(key)))
    st.page_link("pages/legend.py", label="Edit legends", icon=":material/edit_note:")
    if state[EXTRA_CF]:
        st.markdown("**Other custom fields** (not in the chosen legend)")
        for field_id in state[EXTRA_CF]:
            number, remove = st.columns([5, 1], vertical_alignment="bottom")
            number.text_input(f"custom_field[{field_id}]", key=_extra_key(field_id))
            remove.button(
                "Remove",
                key=f"form.xcf.{field_id}.remove",
                on_click=_remove_extra,
                args=(field_id,),
            )
            _field_notes(f"custom_field[{field_id}]", has_value=True)

    st.subheader("Tags")
    st.multiselect(
        "Tags",
        sorted(set(state[TAGS_KEY]), key=str.casefold),
        key=TAGS_KEY,
        accept_new_options=True,
        placeholder="Type a tag and press Enter",
        help="Tags are added to the contact in PhoneBurner.",
    )
    _field_notes("tags", has_value=True)

st.subheader("Additional phones")
if not state[PHONE_ROWS]:
    st.caption("None yet. The main phone number goes in Phone above.")
else:
    header = st.columns(PHONE_COLUMNS)
    for column, title in zip(header, ("Number", "Type", "Label", "", ""), strict=True):
        column.caption(title)
for position, row_id in enumerate(state[PHONE_ROWS]):
    cells = st.columns(PHONE_COLUMNS, vertical_alignment="center")
    cells[0].text_input(
        f"Additional phone {position + 1} number",
        key=_phone_key(row_id, "number"),
        label_visibility="collapsed",
        placeholder="(702) 530-6954",
    )
    cells[1].selectbox(
        f"Additional phone {position + 1} type",
        [int(t) for t in PhoneType],
        format_func=lambda v: PhoneType(v).label,
        key=_phone_key(row_id, "type"),
        label_visibility="collapsed",
    )
    cells[2].text_input(
        f"Additional phone {position + 1} label",
        key=_phone_key(row_id, "label"),
        label_visibility="collapsed",
        placeholder="e.g. Work",
    )
    cells[3].button(
        "Remove",
        key=f"form.ph.{row_id}.remove",
        on_click=_remove_phone,
        args=(row_id,),
        help=f"Remove additional phone {position + 1}",
    )
    _field_notes(f"phone_row[{position}]", has_value=True)
st.button("Add a phone", on_click=_add_phone, icon=":material/add_call:")

st.divider()

# Problems no field showed (or none could): listed above the Send button.
errors = [p.message for p in checked.errors] + [p.message for p in built.problems]
if blank:
    errors.append("The lead is empty: fill in at least a name, an email or a phone.")
warnings = [p.message for p in checked.warnings]
if blank and not tried:
    st.caption("Fill in the lead, then press Send.")
else:
    if errors:
        st.error(
            "**Fix before sending:**\n" + "\n".join(f"- {md(message)}" for message in errors),
            icon=":material/edit:",
        )
    if warnings:
        st.warning(
            "**Check:**\n" + "\n".join(f"- {md(message)}" for message in warnings),
            icon=":material/warning:",
        )
    if not errors and not warnings:
        st.caption("✔ Ready to send.")

actions = st.columns([1, 1, 4], vertical_alignment="center")
actions[0].button(
    "Send", type="primary", icon=":material/send:", on_click=_request_send, key="form.send"
)
actions[1].toggle(
    "Preview",
    key=PREVIEW_KEY,
    help="Show the exact request: the web address, what the server receives, a curl command.",
)

if blocked:
    st.error(blocked, icon=":material/front_hand:")
if confirm_first:
    ui.confirm_live(conn, action="form")  # its "Yes" sends on the next run

if sent is not None:
    show_sent(sent)

if state[PREVIEW_KEY]:
    st.subheader("Preview of the request")
    pairs = lead_to_pairs(checked.lead, key=conn.key)
    url = mask_url(build_url(checked.lead, key=conn.key, base_url=conn.target.url))
    st.caption("The web address (the vendor key is hidden):")
    st.code(url, language=None, wrap_lines=True)
    if (too_long := check_length(pairs, base_url=conn.target.url)) is not None:
        st.warning(too_long.message, icon=":material/straighten:")
    st.caption("What the server will receive:")
    table = pd.DataFrame(
        [row._asdict() for row in received_rows(pairs, legend=legend)],
        columns=["parameter", "value", "meaning"],
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=38 + 35 * len(table),
        column_config={
            "parameter": st.column_config.TextColumn("Parameter"),
            "value": st.column_config.TextColumn("Value"),
            "meaning": st.column_config.TextColumn("Meaning"),
        },
    )
    st.caption("The same request as a curl command, to copy (put the real key in place of ****):")
    st.code(curl_command(url), language="bash", wrap_lines=True)
