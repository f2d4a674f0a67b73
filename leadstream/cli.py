"""`python -m leadstream`: send a spreadsheet of leads from a terminal, and manage its runs.

    python -m leadstream send FILE (--sandbox | --live | --url URL) [options]
    python -m leadstream send --resume RUN_ID          (any run, the app's too)
    python -m leadstream runs [--all]
    python -m leadstream run (show | pause | cancel) RUN_ID
    python -m leadstream run export RUN_ID OUT.csv

The same engine as the app (`deliver.engine`): a run started here can be opened, paused,
resumed, cancelled and exported in the app, and the other way round. A terminal face:
problems go to standard error, the dry run's URLs and the final summary to standard output, a
progress bar only when standard output is a terminal. Exit status: 0 when every row has an
outcome (rejected rows included), 1 when the run could not finish (paused, stopped,
interrupted), 2 for a usage error (arguments, unreadable files, no key). Errors are printed as
plain messages, never as tracebacks, and the key is never printed unmasked.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from leadstream import cli_db, cli_rest, desk
from leadstream import views as view
from leadstream.cli_common import (
    EXIT_OK,
    EXIT_UNFINISHED,
    EXIT_USAGE,
    CliError,
    positive_float,
    positive_int,
    say,
)
from leadstream.deliver.engine import Engine, engine_for
from leadstream.deliver.journal import Journal, RunInfo
from leadstream.deliver.outcomes import may_send_again
from leadstream.deliver.run_settings import RunSettings
from leadstream.deliver.target import (
    DEMO_CM_ID,
    DEMO_USER_ID,
    Target,
    TargetKind,
    find_key,
    key_for,
)
from leadstream.prepare.files import read_table
from leadstream.prepare.legend import Legend, parse_legend
from leadstream.prepare.mapping import ColumnMapping, PreparedRow, auto_match, prepare_rows
from leadstream.prepare.plan import PlannedRow
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import masked_url
from leadstream.sandbox import Account, SandboxServer

__all__ = ["CliError", "build_parser", "main"]

_OUTCOME_ORDER = ("delivered", "rejected", "failed", "uncertain", "invalid", "duplicate")
_SHOWN_PROBLEMS = 20
_NO_KEY = "no-key-configured"
# How long `run pause` / `run cancel` wait for another program to stop sending.
_STOP_WAIT_S = 60.0


# --- the command line -----------------------------------------------------------------------


def _add_send(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = commands.add_parser(
        "send",
        # `--key` must not pass for `--key-file`: a key typed there would show in `ps`.
        allow_abbrev=False,
        help="send the leads of a CSV or Excel file, or resume a run",
        description=(
            "Send every row of FILE as a lead. Invalid rows and duplicates are kept back; every "
            "row is recorded in the journal ($LEADSTREAM_HOME, default ~/.leadstream) so that "
            "an interrupted run can be resumed with --resume, here or in the app."
        ),
        epilog=(
            "The vendor key comes from LEADSTREAM_KEY, .streamlit/secrets.toml or --key-file, "
            "never from the command line; the sandbox always gets its demo key. Exit status: "
            "0 every row has an outcome, 1 the run could not finish, 2 usage error."
        ),
    )
    send.add_argument(
        "file",
        metavar="FILE",
        type=Path,
        nargs="?",
        help="the CSV or Excel (.xlsx) file (not needed with --resume)",
    )
    target = send.add_mutually_exclusive_group()
    target.add_argument(
        "--sandbox", action="store_true", help="send to a built-in sandbox (demo account)"
    )
    target.add_argument("--live", action="store_true", help="send to PhoneBurner for real")
    target.add_argument("--url", metavar="URL", help="send to this put_contact address")
    send.add_argument(
        "--mapping", metavar="MAP.json", type=Path, help="column mapping saved from the app"
    )
    send.add_argument("--legend", metavar="LEGEND", help="a saved legend's name, or a legend file")
    send.add_argument("--sheet", metavar="NAME", help="the Excel sheet to read")
    send.add_argument("--user-id", metavar="ID", help="user_id for rows that have none")
    send.add_argument("--cm-id", metavar="ID", help="cm_id (LeadStream ID) for rows that have none")
    send.add_argument(
        "--concurrency",
        metavar="C",
        type=positive_int,
        default=4,
        help="leads in flight at once (default 4; a resumed run keeps its own)",
    )
    send.add_argument(
        "--rate",
        metavar="R",
        type=positive_float,
        help="at most R requests a second (a resumed run keeps its own)",
    )
    send.add_argument("--results", metavar="OUT.csv", type=Path, help="write a results CSV")
    send.add_argument(
        "--dry-run", action="store_true", help="print each URL (key masked); send nothing"
    )
    send.add_argument(
        "--resume",
        metavar="RUN_ID",
        type=positive_int,
        help="carry on an unfinished run, started here or in the app, as it was set up",
    )
    send.add_argument("--key-file", metavar="F", type=Path, help="a file holding the vendor key")
    send.add_argument(
        "--include-duplicates",
        action="store_true",
        help="also send rows repeated in the file or already delivered from this computer",
    )
    send.add_argument(
        "--no-canary",
        dest="canary",
        action="store_false",
        help="do not send the first row alone (it pauses the run if it fails)",
    )
    send.add_argument(
        "--yes", action="store_true", help="do not ask before sending to PhoneBurner live"
    )
    # For the checks argparse cannot make (see `_check_send_args`), with its usage message.
    send.set_defaults(send_parser=send)


def _add_runs(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    runs = commands.add_parser(
        "runs", help="list bulk runs (unfinished ones unless --all)", allow_abbrev=False
    )
    runs.add_argument("--all", action="store_true", help="list finished runs too")

    run = commands.add_parser(
        "run",
        help="show, pause, cancel or export one bulk run",
        allow_abbrev=False,
        description=(
            "One bulk run, wherever it was started (here or in the app) and wherever it is "
            "being sent: a run another program sends is asked to pause or cancel, and stops "
            "after the leads on their way. Resume a run with `send --resume RUN_ID`."
        ),
    )
    actions = run.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("show", "where the run stands and how it was set up"),
        ("pause", "stop sending after the leads on their way; resume later"),
        ("cancel", "stop for good; rows not sent stay unsent"),
    ):
        action = actions.add_parser(name, help=text, allow_abbrev=False)
        action.add_argument("run_id", metavar="RUN_ID", type=positive_int)
    export = actions.add_parser(
        "export", help="write the run's results as CSV ('-': standard output)", allow_abbrev=False
    )
    export.add_argument("run_id", metavar="RUN_ID", type=positive_int)
    export.add_argument("out", metavar="OUT.csv", help="the file to write, or - ")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        # The console script `leadstream` and `python -m leadstream` are the same program.
        prog="leadstream" if Path(sys.argv[0]).stem == "leadstream" else "python -m leadstream",
        description="Post leads to PhoneBurner's LeadStream (put_contact) safely.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_send(commands)
    _add_runs(commands)
    desk.add_parser(commands)
    cli_db.add_parser(commands)  # db upgrade|status: the team database's schema
    cli_rest.add_commands(commands)  # legend fetch, check: PhoneBurner's REST API
    return parser


def _check_send_args(args: argparse.Namespace) -> None:
    """What argparse cannot say: FILE and a target are needed unless a run is resumed."""
    if args.resume is not None:
        return
    send: argparse.ArgumentParser = args.send_parser
    if args.file is None:
        send.error("the following arguments are required: FILE (or --resume RUN_ID)")
    if not (args.sandbox or args.live or args.url):
        send.error("one of the arguments --sandbox --live --url is required")


# --- helpers --------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def _flag_target(args: argparse.Namespace) -> TargetKind | None:
    if args.sandbox:
        return TargetKind.SANDBOX
    if args.live:
        return TargetKind.LIVE
    return TargetKind.CUSTOM if args.url else None


def _start_target(kind: TargetKind, url: str, stack: ExitStack) -> Target:
    """The target to send to now; the sandbox is started in this process (demo account)."""
    if kind is TargetKind.SANDBOX:
        server = stack.enter_context(SandboxServer(Account.demo(), port=0, log=None))
        return Target.sandbox(server.url)
    if kind is TargetKind.LIVE:
        return Target.live()
    return Target.custom(url)


def _key(target: Target, args: argparse.Namespace, *, required: bool) -> str:
    if target.kind is TargetKind.SANDBOX:
        # `key_for`: the sandbox knows only its demo account; a real key never goes there.
        say("key: the sandbox's demo key")
        return key_for(target, "")
    found = find_key(key_file=args.key_file)
    if found is not None:
        say(f"key: {found}")
        return key_for(target, found.value)
    if not required:
        say("note: no vendor key is configured; the URLs below show where it would go.")
        return _NO_KEY
    raise CliError(
        'No vendor key is configured. Set LEADSTREAM_KEY, put LEADSTREAM_KEY = "…" in '
        ".streamlit/secrets.toml, or pass --key-file FILE."
    )


def _confirm_live(count: int, args: argparse.Namespace) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CliError(
            "Refusing to send to PhoneBurner live without confirmation: add --yes to go on "
            "without being asked."
        )
    print(
        f"About to send {_plural(count, 'lead')} to PhoneBurner LIVE. Type yes to go on: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    try:
        answer = input()
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("yes", "y"):
        raise CliError("Nothing was sent.", EXIT_UNFINISHED)


def _print_urls(leads: Iterable[Lead], *, key: str, url: str) -> None:
    """One masked URL a line, written in blocks: a dry run of 100,000 rows prints fast."""
    block: list[str] = []
    for lead in leads:
        block.append(masked_url(lead, key=key, base_url=url))
        if len(block) >= 2000:
            sys.stdout.write("\n".join(block) + "\n")
            block.clear()
    if block:
        sys.stdout.write("\n".join(block) + "\n")
    sys.stdout.flush()


# --- reading the file -----------------------------------------------------------------------


def _load_legend(args: argparse.Namespace, journal: Journal) -> Legend | None:
    if not args.legend:
        demo = Account.demo().leadstream(DEMO_CM_ID)
        if args.sandbox and demo is not None:
            # The sandbox's LeadStream has a legend of its own: use it, so that a file with
            # its custom-field columns can be tried out as it is.
            say(f"note: no --legend given; using the sandbox's legend {demo.name!r}.")
            return demo.legend
        return None
    path = Path(args.legend)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"The legend file {path} could not be read: {error}.") from None
        return parse_legend(text)
    saved = journal.legend(args.legend)
    if saved is None:
        names = ", ".join(repr(legend.name) for legend in journal.legends()) or "none saved yet"
        raise CliError(
            f"--legend {args.legend!r} is neither a file nor a saved legend (saved: {names})."
        )
    return saved


def _mapping(
    args: argparse.Namespace, columns: Sequence[str], legend: Legend | None
) -> ColumnMapping:
    """The mapping file's, or one matched from the headers; routing IDs from the flags (and the
    sandbox's demo account when none is given for it)."""
    if args.mapping is not None:
        try:
            text = args.mapping.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"The mapping file {args.mapping} could not be read: {error}.") from None
        mapping = ColumnMapping.from_json(text)
    else:
        mapping = auto_match(columns, legend)
    if args.user_id:
        mapping = mapping.with_constant("user_id", args.user_id)
    if args.cm_id:
        mapping = mapping.with_constant("cm_id", args.cm_id)
    if args.sandbox:
        targets = set(mapping.mapped.values()) | set(mapping.constants)
        for name, value in (("user_id", DEMO_USER_ID), ("cm_id", DEMO_CM_ID)):
            if name not in targets:
                mapping = mapping.with_constant(name, value)
                say(f"note: no {name} given; using the sandbox demo account's {value}.")
    return mapping


def _check_mapping(
    args: argparse.Namespace, mapping: ColumnMapping, columns: Sequence[str], legend: Legend | None
) -> None:
    problems = mapping.problems(columns, legend)
    for problem in problems:
        if problem.level != "error":
            say(f"warning: {problem.message}")
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise CliError(
            "The mapping cannot be used:\n"
            + "\n".join(f"  {p.message}" for p in errors)
            + "\nFix it in the app's bulk upload page and save it, or pass --mapping."
        )
    if args.mapping is None:
        mapped = ", ".join(f"{h} → {t}" for h, t in mapping.mapped.items()) or "nothing"
        say(f"columns: {mapped}")
        # The bulk page's words, then how to choose a field from here.
        if unsent := view.unsent_columns_warning(columns, mapping):
            say(
                f"warning: {unsent} Here: --legend for custom fields, or --mapping saved in "
                "the app."
            )


def _read_rows(
    args: argparse.Namespace, journal: Journal
) -> tuple[list[PreparedRow], ColumnMapping, Legend | None]:
    """The file's rows prepared as leads, with the mapping and legend used."""
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise CliError(f"{args.file} could not be read: {error.strerror}.") from None
    table = read_table(data, args.file.name, sheet=args.sheet)
    for note in table.notes:
        say(f"note: {note}")
    legend = _load_legend(args, journal)
    mapping = _mapping(args, table.columns, legend)
    _check_mapping(args, mapping, table.columns, legend)
    rows = prepare_rows(table.frame, mapping, legend=legend, row_numbers=table.row_numbers)
    return rows, mapping, legend


def _report_plan(plans: Sequence[PlannedRow]) -> None:
    shown = 0
    for plan in plans:
        for problem in plan.row.warnings:
            if shown < _SHOWN_PROBLEMS:
                say(f"warning: {problem.message}")
            shown += 1
        if plan.state != "pending":
            if shown < _SHOWN_PROBLEMS:
                # Problems from the checks name their row already.
                where = "" if plan.reason.startswith("Row ") else f"row {plan.row.line}: "
                say(f"{where}{plan.state}: {plan.reason}")
            shown += 1
    if shown > _SHOWN_PROBLEMS:
        say(f"… and {shown - _SHOWN_PROBLEMS} more; the results CSV lists every row.")


# --- sending --------------------------------------------------------------------------------


def _summary(info: RunInfo) -> str:
    parts = [f"{info.counts.get(name, 0)} {name}" for name in _OUTCOME_ORDER]
    unsent = info.counts.get("pending", 0) + info.counts.get("in_flight", 0)
    if unsent:
        parts.append(f"{unsent} not sent")
    return f"Run {info.id} {info.status}: {info.total} rows: " + ", ".join(parts)


def _show_trouble(journal: Journal, run_id: int) -> None:
    states = ["rejected", "failed", "uncertain"]
    for row in journal.run_rows(run_id, states=states, limit=_SHOWN_PROBLEMS):
        code = f" ({row.code})" if row.code else ""
        say(f"row {row.line}: {row.state}{code}: {row.help}")
    total = sum(journal.run(run_id).counts.get(state, 0) for state in states)
    if total > _SHOWN_PROBLEMS:
        say(f"… and {total - _SHOWN_PROBLEMS} more; the results CSV lists every row.")


def _watch(engine: Engine, run_id: int) -> None:
    """Wait for the run to settle, with a progress bar when standard output is a terminal."""
    if not sys.stdout.isatty():
        while not engine.wait(run_id, 0.1):
            pass
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]Sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("send", total=None, detail="")
        while True:
            settled = engine.wait(run_id, 0.2)
            progress = engine.progress(run_id)
            detail = ", ".join(f"{n} {name}" for name, n in progress.by_outcome.items() if n)
            if progress.rate_per_s:
                detail += f"  {progress.rate_per_s:.1f}/s"
            bar.update(task, completed=progress.done, total=progress.total, detail=detail)
            if settled:
                return


def _send_run(
    engine: Engine, run_id: int, target: Target, key: str, args: argparse.Namespace
) -> int:
    """Send the run to `target` in this process, watch it, report; the exit status."""
    info = engine.run(run_id)
    to_send = info.counts.get("pending", 0) + info.counts.get("in_flight", 0)
    if target.is_live and to_send:
        _confirm_live(to_send, args)
    say(
        f"Run {run_id}: {to_send} to send of {info.total} rows, to {target.name} "
        f"(journal {engine.journal.where})."
    )
    if info.status == "finished":
        say(f"Run {run_id} is already finished.")
    else:
        engine.start(run_id, key=key, url=target.url)
        controller = engine.controller(run_id)
        try:
            _watch(engine, run_id)
        except KeyboardInterrupt:
            say("Pausing: waiting for the leads on the way…")
            engine.pause(run_id, "Paused from the keyboard (Ctrl-C).")
            engine.wait(run_id)
        if controller is not None and controller.error is not None:
            say(f"error: {controller.error}")
    return _finish(engine, run_id, args)


def _finish(engine: Engine, run_id: int, args: argparse.Namespace) -> int:
    info = engine.run(run_id)
    print(_summary(info), flush=True)
    _show_trouble(engine.journal, run_id)
    if args.results is not None:
        _export(engine, run_id, str(args.results), EXIT_UNFINISHED)
        say(f"results: {args.results}")
    if info.status == "finished":
        return EXIT_OK
    if info.message:
        say(info.message)
    say(f"To carry on: python -m leadstream send --resume {run_id}")
    return EXIT_UNFINISHED


def _export(engine: Engine, run_id: int, out: str, code: int = EXIT_USAGE) -> None:
    if out == "-":
        engine.write_results(run_id, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    try:
        with open(out, "wb") as handle:
            stream: BinaryIO = handle
            engine.write_results(run_id, stream)
    except OSError as error:
        raise CliError(
            f"The results could not be written to {out}: {error.strerror}.", code
        ) from None


def _settings(
    args: argparse.Namespace, target: Target, mapping: ColumnMapping, legend: Legend | None
) -> RunSettings:
    return RunSettings(
        target=target,
        user_id=mapping.constants.get("user_id", ""),
        cm_id=mapping.constants.get("cm_id", ""),
        legend=legend,
        mapping=mapping,
        concurrency=args.concurrency,
        rate_per_s=args.rate,
        canary=args.canary,
        include_duplicates=args.include_duplicates,
    )


def _send_file(args: argparse.Namespace, engine: Engine, stack: ExitStack) -> int:
    kind = _flag_target(args)
    assert kind is not None  # _check_send_args saw to it
    target = _start_target(kind, args.url or "", stack)
    key = _key(target, args, required=not args.dry_run)
    rows, mapping, legend = _read_rows(args, engine.journal)
    if args.dry_run:
        plans = engine.plan(rows, target=target, include_duplicates=args.include_duplicates)
        _report_plan(plans)
        _print_urls((p.row.lead for p in plans if p.state == "pending"), key=key, url=target.url)
        return EXIT_OK
    run_id, plans = engine.create_run(
        _settings(args, target, mapping, legend),
        source_name=args.file.name,
        prepared_rows=rows,
        origin="cli",
    )
    _report_plan(plans)
    return _send_run(engine, run_id, target, key, args)


def _resume(args: argparse.Namespace, engine: Engine, stack: ExitStack) -> int:
    """Carry on any run, from its stored settings: the target it was made for (the sandbox
    started here again), its concurrency, rate and pauses."""
    info = engine.run(args.resume)
    wanted = _flag_target(args)
    named = Target.custom(args.url).name if args.url else None
    if (wanted is not None and wanted != info.target.kind) or (named and named != info.target_name):
        same = {"sandbox": "--sandbox", "live": "--live"}.get(
            info.target_kind, f"--url {info.target_url}"
        )
        raise CliError(
            f"Run {info.id} was sent to {info.target_name}; resume it with the same target "
            f"({same}), or with --resume alone."
        )
    if args.file is not None and info.source_name and info.source_name != args.file.name:
        say(
            f"note: run {info.id} was made from {info.source_name}; its stored rows are sent, "
            "not those of the file named now."
        )
    target = _start_target(info.target.kind, info.target_url, stack)
    key = _key(target, args, required=not args.dry_run)
    if args.dry_run:
        rows = engine.journal.run_rows(info.id, states=["pending", "in_flight", "uncertain"])
        again = (r.lead for r in rows if may_send_again(r.state, has_email=r.has_email))
        _print_urls(again, key=key, url=target.url)
        return EXIT_OK
    return _send_run(engine, info.id, target, key, args)


# --- commands -------------------------------------------------------------------------------


def _send(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        engine = engine_for(stack.enter_context(Journal()))
        if args.resume is not None:
            return _resume(args, engine, stack)
        return _send_file(args, engine, stack)


def _run_line(info: RunInfo) -> str:
    when = info.created[:19].replace("T", " ")
    return (
        f"{info.id:>5}  {info.status:<11} {when} UTC  {info.origin:<5} {info.target_name}  "
        f"{info.source_name}  {info.done}/{info.total} done"
        # Who made or last sent it: on a team database every desk's runs are listed.
        + (f"  by {info.sender}" if info.sender else "")
    )


def _runs(args: argparse.Namespace) -> int:
    with Journal() as journal:
        engine = engine_for(journal)
        if args.all:
            listed: list[RunInfo] = []
            for offset in range(0, engine.run_count(), 100):
                listed.extend(engine.runs(offset=offset, limit=100))
        else:
            listed = engine.unfinished_runs()
        if not listed:
            say("No unfinished runs." if not args.all else "No runs yet.")
            return EXIT_OK
        for info in listed:
            print(_run_line(info))
            if info.message:
                print(f"       {info.message}")
    return EXIT_OK


def _show(engine: Engine, info: RunInfo) -> None:
    print(_summary(info))
    settings = info.run_settings
    rate = f"{settings.rate_per_s:g}/s" if settings.rate_per_s else "no limit"
    lines = [
        f"  to:       {info.target.kind.label} {info.target_url}",
        f"  file:     {info.source_name or '(none)'}, from {info.origin}",
        f"  created:  {info.created[:19].replace('T', ' ')} UTC",
        f"  sending:  {settings.concurrency} at a time, {rate}, first row alone: "
        f"{'yes' if settings.canary else 'no'}, pause after {settings.pause_after_failures} "
        "failures in a row",
    ]
    if settings.retry_of is not None:
        lines.append(f"  re-sends: rows of run {settings.retry_of}")
    if info.status == "running":
        here = " (this program)" if engine.sending_here(info.id) else ""
        lines.append(f"  sender:   {info.owner}{here}")
    if info.message:
        lines.append(f"  note:     {info.message}")
    print("\n".join(lines))
    if info.unfinished and info.status != "running":
        say(f"To carry on: python -m leadstream send --resume {info.id}")


def _stop(engine: Engine, info: RunInfo, action: str) -> int:
    asked = engine.pause(info.id) if action == "pause" else engine.cancel(info.id)
    if asked == "nothing":
        say(f"Run {info.id} is {info.status}; there is nothing to {action}.")
        return EXIT_OK
    if asked == "asked":
        say(f"Asked {info.owner or 'the sending program'} to {action} run {info.id}…")
    if not engine.wait(info.id, _STOP_WAIT_S):
        say(f"Run {info.id} is still being sent; the sender has not answered yet.")
        return EXIT_UNFINISHED
    print(_summary(engine.run(info.id)), flush=True)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    with Journal() as journal:
        engine = engine_for(journal)
        info = engine.run(args.run_id)
        if args.action == "show":
            _show(engine, info)
            return EXIT_OK
        if args.action == "export":
            _export(engine, info.id, args.out)
            if args.out != "-":
                say(f"results: {args.out}")
            return EXIT_OK
        return _stop(engine, info, args.action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "send":
        _check_send_args(args)
    try:
        if args.command == "desk":
            return desk.run(args)
        if args.command == cli_db.COMMAND:
            return cli_db.run(args)
        if args.command in cli_rest.COMMANDS:
            return cli_rest.run(args)
        if args.command == "send":
            return _send(args)
        if args.command == "run":
            return _run(args)
        return _runs(args)
    except CliError as error:
        say(f"error: {error}")
        return error.code
    except KeyboardInterrupt:
        say("Stopped.")
        return EXIT_UNFINISHED
    except ValueError as error:
        # Every module's own error (file, mapping, legend, settings, journal, engine, client)
        # says what to fix in its message.
        say(f"error: {error}")
        return EXIT_USAGE
    except Exception as error:
        if os.environ.get("LEADSTREAM_DEBUG"):
            raise
        say(f"error: unexpected {type(error).__name__}: {error}")
        return EXIT_UNFINISHED
