"""Post a lead: the single-lead form, its checks as you type, the request preview, and Send.

Every value typed lives in `st.session_state` under `keep.form.*` (kept across pages by
app.py), so sending, an error, or a visit to another page never empties the form; only
"Clear form" does, and it can be undone. The rules (building the lead, checks, the request)
come from `leadstream`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from leadstream.prepare.dates import long_date, read_date, wire
from leadstream.prepare.form import (
    EXAMPLE_LEAD,
    DateAnswer,
    FormLead,
    FormProblem,
    FormValues,
    PhoneRow,
    dedupe_tags,
    default_legend_name,
    field_value,
    form_from_lead,
    is_blank,
    lead_from_form,
    phone_problems_by_row,
    pick_legend,
    received_rows,
    resolve_typed_date,
)
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.validate import Checked, Problem, validate_lead
from leadstream.protocol.lead import LEAD_FIELDS, STANDARD_FIELDS, Lead, PhoneType
from leadstream.protocol.query import build_url, check_length, curl_command, lead_to_pairs, mask_url
from ui import state as ui
from ui.entry import through_app
from ui.sending import send_lead
from ui.widgets import SentLead, md, note, show_sent, target_label

through_app()  # before anything is drawn: see ui/entry.py

F = "keep.form."
PHONE_ROWS = "form.phone_rows"
NEXT_PHONE = "form.next_phone"
EXTRA_CF = "form.extra_cf"
RESULT = "form.result"
UNDO = "form.undo"
SENT_LEAD = "form.sent_lead"  # the lead as it was sent, to tell whether the answer still applies
TAGS_DROPPED = "form.tags_dropped"
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
    # The type is in the key: a checkbox must never find a string in its state. Dates are typed
    # text (`datetext`): a date picker kept an old value when it could not read what was typed.
    kind = "datetext" if spec.type is FieldType.DATE else spec.type.value
    return f"{F}cf.{spec.id}.{kind}"


def _date_answer_key(spec: LegendField, text: str) -> str:
    # The typed text is in the key: a new text asks again instead of reusing an old answer.
    return f"form.cfq.{spec.id}.{' '.join(text.split())}"


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
    state.pop(SENT_LEAD, None)
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
    for name, text in values.fields.items():
        state[_field_key(name)] = text
    extras = []
    for field_id, value in values.custom.items():
        spec = legend.by_id(field_id) if legend is not None else None
        if spec is not None and spec.type is FieldType.DATE:
            # As the lead holds it: a date field is typed text, and an unreadable one must
            # show (and be reported) rather than be left empty.
            state[_custom_key(spec)] = lead.custom_fields.get(field_id, "")
        elif spec is not None:
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


def _dedupe_tags() -> None:
    kept, dropped = dedupe_tags(state.get(TAGS_KEY, []))
    state[TAGS_KEY] = kept
    if dropped:
        state[TAGS_DROPPED] = dropped


def _form_values(legend: Legend | None) -> tuple[FormValues, list[FormProblem]]:
    """What the form holds, and the questions about typed dates still to answer."""
    fields = {spec.name: str(state.get(_field_key(spec.name), "")) for spec in LEAD_FIELDS}
    custom: dict[str, Any] = {}
    questions: list[FormProblem] = []
    if legend is not None:
        for spec in legend.fields:
            value = state.get(_custom_key(spec))
            if spec.type is FieldType.DATE:
                text = str(value or "")
                answer: DateAnswer | None = state.get(_date_answer_key(spec, text))
                value, question = resolve_typed_date(text, answer)
                if question:
                    questions.append(FormProblem(f"custom_field[{spec.id}]", question))
            custom[spec.id] = value
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
    values = FormValues(fields=fields, custom=custom, phones=phones, tags=tuple(state[TAGS_KEY]))
    return values, questions


# ---------------------------------------------------------------------------- what is shown


@dataclass(slots=True)
class Shown:
    """Everything the drawing functions need from one run: the lead, its problems by field, and
    the last answer with the lead it was for."""

    conn: ui.Connection
    legend: Legend | None
    legend_names: list[str]
    built: FormLead
    checked: Checked
    problems: list[Problem]
    form_problems: list[FormProblem]
    blank: bool
    tried: bool
    sent: SentLead | None = None
    sent_lead: Lead | None = None
    notes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        found = [p.message for p in self.problems if p.level == "error"]
        found += [p.message for p in self.form_problems]
        if self.blank:
            found.append(BLANK)
        return found

    @property
    def warnings(self) -> list[str]:
        return [p.message for p in self.problems if p.level != "error"]

    def answer_applies(self, name: str) -> bool:
        """Whether the last refusal still speaks of what the field holds now."""
        if self.sent_lead is None:
            return True
        return field_value(self.sent_lead, name) == field_value(self.checked.lead, name)


BLANK = "The lead is empty: fill in at least a name, an email or a phone."


def _choose_legend(conn: ui.Connection, legends: list[Legend]) -> list[str]:
    names = [lg.name for lg in legends]
    if state.get(LEGEND_KEY) not in [NO_LEGEND, *names]:
        # First visit, or the chosen legend was deleted: the one for this LeadStream (the demo
        # legend first when several fit), else the demo.
        fitting = default_legend_name(legends, conn.cm_id, preferred=ui.DEMO_LEGEND_NAME)
        if fitting is None and ui.DEMO_LEGEND_NAME in names:
            fitting = ui.DEMO_LEGEND_NAME
        state[LEGEND_KEY] = fitting or NO_LEGEND
    return names


def _read_form(conn: ui.Connection, legends: list[Legend], names: list[str]) -> Shown:
    legend = _current_legend(legends)
    values, questions = _form_values(legend)
    built = lead_from_form(
        values, legend=legend, default_user_id=conn.user_id, default_cm_id=conn.cm_id
    )
    checked = validate_lead(built.lead, legend=legend)
    shown = Shown(
        conn=conn,
        legend=legend,
        legend_names=names,
        built=built,
        checked=checked,
        problems=phone_problems_by_row(checked.problems, built.phone_rows),
        form_problems=[*built.problems, *questions],
        blank=is_blank(values),
        tried=bool(state.get(TRIED)),
    )
    for problem in shown.problems:
        shown.notes.setdefault(problem.field, []).append((problem.level, problem.message))
    for form_problem in shown.form_problems:
        shown.notes.setdefault(form_problem.field, []).append(("error", form_problem.message))
    if shown.blank:
        shown.notes.setdefault("", []).append(("error", BLANK))
    return shown


def _send_if_asked(shown: Shown) -> tuple[str, bool]:
    """Send now, before anything is drawn, so the answer and the field it names show at once.
    Returns why it was not sent ("" when it was, or was not asked) and whether the live
    target must be confirmed first."""
    if not (state.pop(SEND_REQUEST, False) or ui.confirmed_now("form")):
        return "", False
    conn = shown.conn
    if shown.checked.errors or shown.form_problems or shown.blank:
        return "Not sent: fix the problems listed above, then press Send again.", False
    if conn.problem:
        return f"Not sent: {conn.problem}", False
    if conn.target.is_live and not conn.live_confirmed:
        return "", True
    with st.spinner(f"Sending to {target_label(conn)}…"):
        _delivery, result = send_lead(conn, shown.checked.lead, source="form")
    state[RESULT] = result
    state[SENT_LEAD] = shown.checked.lead
    state.pop(LOADED_NOTE, None)
    if result.outcome == "delivered":
        st.toast(f"Sent: {result.name}", icon=":material/check_circle:")
    return "", False


def _field_notes(shown: Shown, name: str, *, has_value: bool) -> None:
    """Notes under a field: always for what was typed, for empty fields once Send was tried;
    PhoneBurner's refusal only while the field still holds what was refused."""
    if name in shown.notes and (has_value or shown.tried):
        note(shown.notes[name])
    sent = shown.sent
    if sent is None or sent.field != name:
        return
    if shown.answer_applies(name):
        st.error(
            f"PhoneBurner refused the lead because of this field: {sent.help}",
            icon=":material/arrow_upward:",
        )
    else:
        st.caption(f"Changed since PhoneBurner refused it ({sent.code}). Press Send to try again.")


# ---------------------------------------------------------------------------- drawing


def _top(conn: ui.Connection) -> None:
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


def _contact_fields(shown: Shown) -> None:
    st.subheader("Contact and address")
    grid = None
    for position, spec in enumerate(STANDARD_FIELDS):
        if position % 2 == 0:
            grid = st.columns(2)
        assert grid is not None
        with grid[position % 2]:
            key = _field_key(spec.name)
            st.text_input(spec.label, key=key, help=spec.help or None)
            _field_notes(shown, spec.name, has_value=bool(str(state[key]).strip()))


def _routing_fields(shown: Shown) -> None:
    st.subheader("Routing")
    routing = st.columns(2)
    for column, spec in zip(routing, LEAD_FIELDS[len(STANDARD_FIELDS) :], strict=True):
        with column:
            default = getattr(shown.conn, spec.name)
            st.text_input(
                spec.label,
                key=_field_key(spec.name),
                placeholder=f"{default} (from Connection)" if default else "Set under Connection",
                help=f"{spec.help} Leave empty to use the default from the sidebar.",
            )
            _field_notes(shown, spec.name, has_value=True)


def _date_field(shown: Shown, spec: LegendField, helptext: str) -> None:
    """A date typed as text; under it, the date that will be sent, or the question when the
    text reads two ways. Nothing typed earlier is kept when the new text cannot be read."""
    key = _custom_key(spec)
    state.setdefault(key, "")
    st.text_input(
        spec.name,
        key=key,
        placeholder="MM/DD/YYYY, e.g. 12/24/2026",
        help=helptext + " Type it as you like: 1/5/2025, 2025-01-05, Jan 5 2025, 24.12.2026.",
    )
    text = str(state.get(key) or "")
    reading = read_date(text)
    if reading.day is not None and reading.other is not None:
        answer_key = _date_answer_key(spec, text)
        choices: dict[str, str] = {
            "as_read": f"{long_date(reading.day)} (month first)",
            "other": f"{long_date(reading.other)} (day first)",
        }
        st.radio(
            f"Which date is “{text.strip()}”?",
            list(choices),
            format_func=choices.__getitem__,
            index=None,
            key=answer_key,
            horizontal=True,
        )
        answer = state.get(answer_key)
        if answer is not None:
            chosen = reading.day if answer == "as_read" else reading.other
            st.caption(f"Will be sent as **{wire(chosen)}** ({long_date(chosen)}).")
    elif reading.day is not None:
        st.caption(f"Will be sent as **{wire(reading.day)}** ({long_date(reading.day)}).")
    _field_notes(shown, f"custom_field[{spec.id}]", has_value=bool(text.strip()))


def _custom_fields(shown: Shown) -> None:
    st.subheader("Custom fields")
    st.selectbox(
        "Legend",
        [NO_LEGEND, *shown.legend_names],
        key=LEGEND_KEY,
        help="The custom fields of your LeadStream. Paste and save legends on the "
        "Custom-field legend page.",
    )
    legend = shown.legend
    if legend is None:
        st.caption("No legend chosen: this lead carries no custom fields.")
    else:
        cm_id = shown.built.lead.cm_id
        if legend.cm_id and legend.cm_id != cm_id:
            st.warning(
                f"This legend is for LeadStream {legend.cm_id}, but the lead goes to "
                f"{cm_id or '(no cm_id)'}. Field IDs differ between LeadStreams.",
                icon=":material/warning:",
            )
        if not legend.fields:
            st.caption("This legend has no fields.")
        for spec in legend.fields:
            key = _custom_key(spec)
            helptext = f"Sent as custom_field[{spec.id}] ({spec.type.label.lower()})."
            if spec.type is FieldType.DATE:
                _date_field(shown, spec, helptext)
                continue
            if spec.type is FieldType.CHECKBOX:
                state.setdefault(key, False)
                st.checkbox(spec.name, key=key, help=helptext + " Unticked leaves it out.")
            else:
                state.setdefault(key, "")
                st.text_input(spec.name, key=key, help=helptext)
            _field_notes(shown, f"custom_field[{spec.id}]", has_value=bool(state.get(key)))
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
            _field_notes(shown, f"custom_field[{field_id}]", has_value=True)


def _tags(shown: Shown) -> None:
    st.subheader("Tags")
    st.multiselect(
        "Tags",
        sorted(set(state[TAGS_KEY]), key=str.casefold),
        key=TAGS_KEY,
        accept_new_options=True,
        on_change=_dedupe_tags,
        placeholder="Type a tag and press Enter",
        help="Tags are added to the contact in PhoneBurner. Tags that differ only in capitals "
        "are one tag.",
        # Directly in a column, Streamlit keeps the chips on one row that scrolls sideways and
        # hides the first tags; wrapped, the box grows and every tag stays in sight.
        wrap=True,
    )
    if dropped := state.pop(TAGS_DROPPED, None):
        listed = ", ".join(f"“{tag}”" for tag in dropped)
        st.caption(f"Already a tag (capitals aside), not added twice: {md(listed)}.")
    _field_notes(shown, "tags", has_value=True)


def _phones(shown: Shown) -> None:
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
        _field_notes(shown, f"phone_row[{position}]", has_value=True)
    st.button("Add a phone", on_click=_add_phone, icon=":material/add_call:")


def _summary(shown: Shown) -> None:
    """Problems no field showed (or none could), listed above the Send button."""
    errors, warnings = shown.errors, shown.warnings
    if shown.blank and not shown.tried:
        st.caption("Fill in the lead, then press Send.")
        return
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


def _actions(shown: Shown, blocked: str, confirm_first: bool) -> None:
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
        ui.confirm_live(shown.conn, action="form")  # its "Yes" sends on the next run
    if shown.sent is not None:
        if shown.sent_lead is not None and shown.sent_lead != shown.checked.lead:
            st.caption(
                "The answer below is for the lead as it was sent; the form has changed since."
            )
        show_sent(shown.sent)


def _preview(shown: Shown) -> None:
    conn, lead = shown.conn, shown.checked.lead
    st.subheader("Preview of the request")
    pairs = lead_to_pairs(lead, key=conn.key)
    url = mask_url(build_url(lead, key=conn.key, base_url=conn.target.url))
    st.caption("The web address (the vendor key is hidden):")
    st.code(url, language=None, wrap_lines=True)
    if (too_long := check_length(pairs, base_url=conn.target.url)) is not None:
        st.warning(too_long.message, icon=":material/straighten:")
    st.caption("What the server will receive:")
    table = pd.DataFrame(
        [row._asdict() for row in received_rows(pairs, legend=shown.legend)],
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


def main() -> None:
    _init_state()
    if (load := state.pop(LOAD, None)) is not None:
        fill_from_lead(load["lead"], keep_routing=True, message=load.get("note", ""))
    conn = ui.connection()
    legends = ui.get_journal().legends()
    names = _choose_legend(conn, legends)
    shown = _read_form(conn, legends, names)
    blocked, confirm_first = _send_if_asked(shown)
    shown.sent = state.get(RESULT)
    shown.sent_lead = state.get(SENT_LEAD)

    _top(conn)
    left, right = st.columns(2, gap="large")
    with left:
        _contact_fields(shown)
        _routing_fields(shown)
    with right:
        _custom_fields(shown)
        _tags(shown)
    _phones(shown)
    st.divider()
    _summary(shown)
    _actions(shown, blocked, confirm_first)
    if state[PREVIEW_KEY]:
        _preview(shown)


main()
