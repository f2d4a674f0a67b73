"""`python -m leadstream`: send a spreadsheet of leads from a terminal, resumably.

    python -m leadstream send FILE (--sandbox | --live | --url URL) [options]
    python -m leadstream runs

The same calls as the bulk upload page (`files`, `mapping`, `bulk`, `journal`), with a terminal
face: problems go to standard error, the dry run's URLs and the final summary to standard
output, a progress bar only when standard output is a terminal. Exit status: 0 when every row
has an outcome (rejected rows included), 1 when the run could not finish (paused, stopped,
interrupted), 2 for a usage error (arguments, unreadable files, no key). Errors are printed as
plain messages, never as tracebacks, and the key is never printed unmasked.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from leadstream import cli_rest, desk
from leadstream.deliver.client import Client
from leadstream.deliver.journal import Journal
from leadstream.deliver.runs import (
    PlannedRow,
    RunController,
    create_planned_run,
    known_fingerprints,
    plan_rows,
    results_csv,
    start_run,
)
from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID, Target, find_key
from leadstream.prepare.files import read_table
from leadstream.prepare.legend import Legend, parse_legend
from leadstream.prepare.mapping import ColumnMapping, PreparedRow, auto_match, prepare_rows
from leadstream.protocol.query import build_url, mask_url
from leadstream.sandbox import Account, SandboxServer

__all__ = ["CliError", "build_parser", "main"]

EXIT_OK = 0
EXIT_UNFINISHED = 1
EXIT_USAGE = 2

_OUTCOME_ORDER = ("delivered", "rejected", "failed", "uncertain", "invalid", "duplicate")
_SHOWN_PROBLEMS = 20


class CliError(ValueError):
    """A reason to stop before or after sending; `code` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small; use 1 or more")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number above 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        # The console script `leadstream` and `python -m leadstream` are the same program.
        prog="leadstream" if Path(sys.argv[0]).stem == "leadstream" else "python -m leadstream",
        description="Post leads to PhoneBurner's LeadStream (put_contact) safely.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    send = commands.add_parser(
        "send",
        # `--key` must not pass for `--key-file`: a key typed there would show in `ps`.
        allow_abbrev=False,
        help="send the leads of a CSV or Excel file",
        description=(
            "Send every row of FILE as a lead. Invalid rows and duplicates are kept back; every "
            "row is recorded in the journal ($LEADSTREAM_HOME, default ~/.leadstream) so that "
            "an interrupted run can be resumed with --resume."
        ),
        epilog=(
            "The vendor key comes from LEADSTREAM_KEY, .streamlit/secrets.toml or --key-file, "
            "never from the command line. Exit status: 0 every row has an outcome, 1 the run "
            "could not finish, 2 usage error."
        ),
    )
    send.add_argument("file", metavar="FILE", type=Path, help="the CSV or Excel (.xlsx) file")
    target = send.add_mutually_exclusive_group(required=True)
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
        type=_positive_int,
        default=4,
        help="leads in flight at once (default 4)",
    )
    send.add_argument(
        "--rate", metavar="R", type=_positive_float, help="at most R requests a second"
    )
    send.add_argument("--results", metavar="OUT.csv", type=Path, help="write a results CSV")
    send.add_argument(
        "--dry-run", action="store_true", help="print each URL (key masked); send nothing"
    )
    send.add_argument(
        "--resume", metavar="RUN_ID", type=_positive_int, help="carry on an unfinished run"
    )
    send.add_argument("--key-file", metavar="F", type=Path, help="a file holding the vendor key")
    send.add_argument(
        "--include-duplicates",
        action="store_true",
        help="also send rows repeated in the file or already delivered from this computer",
    )
    send.add_argument(
        "--yes", action="store_true", help="do not ask before sending to PhoneBurner live"
    )

    runs = commands.add_parser("runs", help="list unfinished bulk runs", allow_abbrev=False)
    runs.add_argument("--all", action="store_true", help="list finished runs too")
    desk.add_parser(commands)
    cli_rest.add_commands(commands)  # legend fetch, check: PhoneBurner's REST API
    return parser


# --- helpers --------------------------------------------------------------------------------


def _say(message: str, stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stderr, flush=True)


def _wanted_target(args: argparse.Namespace) -> Target | None:
    """The target named on the command line; None for the sandbox (its URL comes later)."""
    if args.sandbox:
        return None
    if args.live:
        return Target.live()
    return Target.custom(args.url)


def _resume_hint(args: argparse.Namespace, run_id: int) -> str:
    where = "--sandbox" if args.sandbox else "--live" if args.live else f"--url {args.url}"
    return f"python -m leadstream send {args.file} {where} --resume {run_id}"


def _load_legend(args: argparse.Namespace, journal: Journal) -> Legend | None:
    if not args.legend:
        demo = Account.demo().leadstream(DEMO_CM_ID)
        if args.sandbox and demo is not None:
            # The sandbox's LeadStream has a legend of its own: use it, so that a file with
            # its custom-field columns can be tried out as it is.
            _say(f"note: no --legend given; using the sandbox's legend {demo.name!r}.")
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


def _read_rows(args: argparse.Namespace, journal: Journal) -> tuple[list[PreparedRow], str]:
    """The file's rows prepared as leads, and the mapping used (as JSON, for the journal)."""

    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise CliError(f"{args.file} could not be read: {error.strerror}.") from None
    table = read_table(data, args.file.name, sheet=args.sheet)
    for note in table.notes:
        _say(f"note: {note}")
    legend = _load_legend(args, journal)
    if args.mapping is not None:
        try:
            text = args.mapping.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"The mapping file {args.mapping} could not be read: {error}.") from None
        mapping = ColumnMapping.from_json(text)
    else:
        mapping = auto_match(table.columns, legend)
    if args.user_id:
        mapping = mapping.with_constant("user_id", args.user_id)
    if args.cm_id:
        mapping = mapping.with_constant("cm_id", args.cm_id)
    targets = set(mapping.mapped.values()) | set(mapping.constants)
    if args.sandbox:
        # The demo account's IDs, so that a file without them can be tried out on the sandbox.
        for name, value in (("user_id", DEMO_USER_ID), ("cm_id", DEMO_CM_ID)):
            if name not in targets:
                mapping = mapping.with_constant(name, value)
                _say(f"note: no {name} given; using the sandbox demo account's {value}.")
    problems = mapping.problems(table.columns, legend)
    errors = [p for p in problems if p.level == "error"]
    for problem in problems:
        if problem.level != "error":
            _say(f"warning: {problem.message}")
    if errors:
        raise CliError(
            "The mapping cannot be used:\n"
            + "\n".join(f"  {p.message}" for p in errors)
            + "\nFix it in the app's bulk upload page and save it, or pass --mapping."
        )
    if not args.mapping:
        mapped = ", ".join(f"{h} → {t}" for h, t in mapping.mapped.items()) or "nothing"
        _say(f"columns: {mapped}")
        unmatched = [column for column in table.columns if column not in mapping.mapped]
        if unmatched:
            _say(
                f"not sent (no matching field): {', '.join(unmatched)}. "
                "Pass --legend for custom fields, or --mapping from the app."
            )
    rows = prepare_rows(table.frame, mapping, legend=legend, row_numbers=table.row_numbers)
    return rows, mapping.to_json()


def _report_plan(plans: Sequence[PlannedRow]) -> None:

    shown = 0
    for plan in plans:
        for problem in plan.row.warnings:
            if shown < _SHOWN_PROBLEMS:
                _say(f"warning: {problem.message}")
            shown += 1
        if plan.state != "pending":
            if shown < _SHOWN_PROBLEMS:
                # Problems from the checks name their row already.
                where = "" if plan.reason.startswith("Row ") else f"row {plan.row.line}: "
                _say(f"{where}{plan.state}: {plan.reason}")
            shown += 1
    if shown > _SHOWN_PROBLEMS:
        _say(f"… and {shown - _SHOWN_PROBLEMS} more; the results CSV lists every row.")


def _key(args: argparse.Namespace, *, required: bool) -> str:
    if args.sandbox:
        # The in-process sandbox only knows its demo account, and a real key has no business
        # leaving for a rehearsal: the sandbox always gets the demo key.
        _say("key: the sandbox's demo key")
        return DEMO_KEY
    found = find_key(key_file=args.key_file)
    if found is not None:
        _say(f"key: {found}")
        return found.value
    if not required:
        _say("note: no vendor key is configured; the URLs below show where it would go.")
        return "no-key-configured"
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
        f"About to send {count} lead{'s' * (count != 1)} to PhoneBurner LIVE. Type yes to go on: ",
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


def _summary(journal: Journal, run_id: int) -> str:

    info = journal.run(run_id)
    parts = [f"{info.counts.get(name, 0)} {name}" for name in _OUTCOME_ORDER]
    unsent = info.counts.get("pending", 0) + info.counts.get("in_flight", 0)
    if unsent:
        parts.append(f"{unsent} not sent")
    return f"Run {run_id} {info.status}: {info.total} rows: " + ", ".join(parts)


def _show_trouble(journal: Journal, run_id: int) -> None:

    rows = journal.run_rows(run_id, states=["rejected", "failed", "uncertain"])
    for row in rows[:_SHOWN_PROBLEMS]:
        code = f" ({row.code})" if row.code else ""
        _say(f"row {row.line}: {row.state}{code}: {row.help}")
    if len(rows) > _SHOWN_PROBLEMS:
        _say(f"… and {len(rows) - _SHOWN_PROBLEMS} more; the results CSV lists every row.")


def _watch(controller: RunController, total: int) -> None:
    """Wait for the run to settle, with a progress bar when standard output is a terminal."""

    if not sys.stdout.isatty():
        while not controller.wait(0.1):
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
        task = bar.add_task("send", total=total, detail="")
        while True:
            settled = controller.wait(0.2)
            progress = controller.progress()
            counts = progress.by_outcome
            detail = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
            if progress.rate_per_s:
                detail += f"  {progress.rate_per_s:.1f}/s"
            bar.update(task, completed=progress.done, total=progress.total, detail=detail)
            if settled:
                return


# --- commands -------------------------------------------------------------------------------


def _send(args: argparse.Namespace) -> int:

    with ExitStack() as stack:
        journal = stack.enter_context(Journal())
        wanted = _wanted_target(args)
        if args.resume is not None:
            info = journal.run(args.resume)
            wanted_name = "sandbox" if wanted is None else wanted.name
            if info.target_name != wanted_name:
                same = "--sandbox" if info.target_name == "sandbox" else info.target_name
                raise CliError(
                    f"Run {info.id} was sent to {info.target_name}; resume it with the same "
                    f"target ({same})."
                )
            if info.source_name and info.source_name != args.file.name:
                _say(
                    f"note: run {info.id} was made from {info.source_name}; its stored rows are "
                    "sent, not those of the file named now."
                )
        if wanted is None:
            server = stack.enter_context(SandboxServer(Account.demo(), port=0, log=None))
            target = Target.sandbox(server.url)
        else:
            target = wanted
        key = _key(args, required=not args.dry_run)

        if args.resume is not None:
            run_id = args.resume
            pending = journal.run_rows(run_id, states=["pending", "in_flight", "uncertain"])
            if args.dry_run:
                for row in pending:
                    if row.state != "uncertain" or row.has_email:
                        print(mask_url(build_url(row.lead, key=key, base_url=target.url)))
                return EXIT_OK
            if journal.run(run_id).status == "finished":
                _say(f"Run {run_id} is already finished.")
        else:
            rows, mapping_json = _read_rows(args, journal)
            if args.dry_run:
                delivered, uncertain = known_fingerprints(journal, target, rows)
                plans = plan_rows(
                    rows,
                    delivered=delivered,
                    uncertain=uncertain,
                    include_duplicates=args.include_duplicates,
                )
                _report_plan(plans)
                for plan in plans:
                    if plan.state == "pending":
                        print(mask_url(build_url(plan.row.lead, key=key, base_url=target.url)))
                sys.stdout.flush()
                return EXIT_OK
            run_id, plans = create_planned_run(
                journal,
                target=target,
                source_name=args.file.name,
                prepared_rows=rows,
                settings={
                    "concurrency": args.concurrency,
                    "rate": args.rate,
                    "legend": args.legend or "",
                    "mapping": mapping_json,
                },
                include_duplicates=args.include_duplicates,
                origin="cli",
            )
            _report_plan(plans)
        info = journal.run(run_id)
        to_send = info.counts.get("pending", 0) + info.counts.get("in_flight", 0)
        if target.is_live and to_send:
            _confirm_live(to_send, args)
        _say(
            f"Run {run_id}: {to_send} to send of {info.total} rows, to {target.name} "
            f"(journal {journal.path})."
        )

        if info.status != "finished":
            client = stack.enter_context(
                Client(url=target.url, key=key, rate=args.rate, concurrency=args.concurrency)
            )
            controller = start_run(journal, client, run_id, concurrency=args.concurrency)
            try:
                _watch(controller, info.total)
            except KeyboardInterrupt:
                _say("Pausing: waiting for the leads on the way…")
                controller.pause("Paused from the keyboard (Ctrl-C).")
                controller.wait()
            if controller.error is not None:
                _say(f"error: {controller.error}")

        info = journal.run(run_id)
        print(_summary(journal, run_id), flush=True)
        _show_trouble(journal, run_id)
        if args.results is not None:
            try:
                args.results.write_bytes(results_csv(journal, run_id))
            except OSError as error:
                raise CliError(
                    f"The results could not be written to {args.results}: {error.strerror}.",
                    EXIT_UNFINISHED,
                ) from None
            _say(f"results: {args.results}")
        if info.status == "finished":
            return EXIT_OK
        if info.message:
            _say(info.message)
        _say(f"To carry on: {_resume_hint(args, run_id)}")
        return EXIT_UNFINISHED


def _runs(args: argparse.Namespace) -> int:

    with Journal() as journal:
        listed = journal.runs() if args.all else journal.unfinished_runs()
        if not listed:
            _say("No unfinished runs." if not args.all else "No runs yet.")
            return EXIT_OK
        for info in listed:
            when = info.created[:19].replace("T", " ")
            line = (
                f"{info.id:>5}  {info.status:<11} {when} UTC  {info.target_name}  "
                f"{info.source_name}  {info.done}/{info.total} done"
            )
            print(line)
            if info.message:
                print(f"       {info.message}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "desk":
            return desk.run(args)
        if args.command in cli_rest.COMMANDS:
            return cli_rest.run(args)
        if args.command == "send":
            return _send(args)
        return _runs(args)
    except CliError as error:
        _say(f"error: {error}")
        return error.code
    except KeyboardInterrupt:
        _say("Stopped.")
        return EXIT_UNFINISHED
    except ValueError as error:
        # Every module's own error (file, mapping, legend, settings, journal, client) says what
        # to fix in its message.
        _say(f"error: {error}")
        return EXIT_USAGE
    except Exception as error:
        if os.environ.get("LEADSTREAM_DEBUG"):
            raise
        _say(f"error: unexpected {type(error).__name__}: {error}")
        return EXIT_UNFINISHED
