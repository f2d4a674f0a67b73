"""`python -m leadstream legend fetch` and `python -m leadstream check`: the commands that read
the PhoneBurner account over its REST API.

    python -m leadstream legend fetch (--sandbox | --live | --url URL) [--format paste|json]
                                      [--save NAME] [--token-file F]
    python -m leadstream check RUN_ID (--sandbox | --live | --url URL) [--resend]
                                      [--results OUT.csv] [--token-file F] [--key-file F]

The access token comes from `LEADSTREAM_TOKEN`, `.streamlit/secrets.toml` or `--token-file`,
never from an argument; with `--sandbox`, the sandbox's demo token. The REST base is the origin
of the put_contact URL. `cli.py` registers these commands (`add_commands`) and hands them over
(`run`); errors are printed as plain messages and the token is never printed unmasked.

`check` exit status: 0 when no row of the run is left `uncertain` (and, with `--resend`, the
missing rows were sent and every one has an outcome), 1 when some still need a look or the
resend could not finish, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from leadstream.cli_common import (
    EXIT_OK,
    EXIT_UNFINISHED,
    EXIT_USAGE,
    CliError,
    positive_int,
    say,
)
from leadstream.deliver.engine import engine_for
from leadstream.deliver.journal import Journal, RunRow
from leadstream.deliver.reports import results_frame, write_results_csv
from leadstream.deliver.rest import RestClient, RestClientError, legend_from_fields
from leadstream.deliver.settle import Finding, settle_run
from leadstream.deliver.target import DEMO_KEY, Target, TargetKind, find_key, find_token
from leadstream.prepare.files import to_csv_bytes
from leadstream.prepare.legend import FieldType
from leadstream.sandbox import DEMO_TOKEN, Account, SandboxServer

__all__ = ["COMMANDS", "REST_OPTIONS", "add_commands", "run"]

COMMANDS = ("legend", "check")
# How hard the commands ask; tests make it quicker.
REST_OPTIONS: dict[str, Any] = {"max_attempts": 6}
_SHOWN = 20
_NO_TOKEN = (
    "No PhoneBurner access token is configured. Make a personal access token in PhoneBurner "
    '(see the README, "PhoneBurner\'s REST API"), then set LEADSTREAM_TOKEN, put '
    'LEADSTREAM_TOKEN = "…" in .streamlit/secrets.toml, or pass --token-file FILE.'
)


def _target_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--sandbox", action="store_true", help=f"{what} the built-in sandbox")
    target.add_argument("--live", action="store_true", help=f"{what} PhoneBurner itself")
    target.add_argument(
        "--url", metavar="URL", help=f"{what} the account behind this put_contact address"
    )
    parser.add_argument(
        "--token-file", metavar="F", type=Path, help="a file holding the REST access token"
    )


def add_commands(commands: Any) -> None:
    """Add `legend` and `check` to the subcommands of `python -m leadstream`."""
    epilog = (
        "The access token comes from LEADSTREAM_TOKEN, .streamlit/secrets.toml or --token-file, "
        "never from the command line."
    )
    legend = commands.add_parser(
        "legend", help="the custom-field legend of the PhoneBurner account", allow_abbrev=False
    )
    actions = legend.add_subparsers(dest="legend_command", required=True, metavar="ACTION")
    fetch = actions.add_parser(
        "fetch",
        allow_abbrev=False,
        help="read the account's custom fields over PhoneBurner's REST API",
        description=(
            "Read the account's custom fields and print them as a legend: paste (the "
            "custom_field[ID]=Name& form) or json (the app's legend file). Drop-downs and "
            "numbers become text fields, and a note says so."
        ),
        epilog=epilog,
    )
    _target_arguments(fetch, "read")
    fetch.add_argument("--format", choices=("paste", "json"), default="paste")
    fetch.add_argument("--save", metavar="NAME", help="also save it as a legend named NAME")

    check = commands.add_parser(
        "check",
        allow_abbrev=False,
        help="look up a run's uncertain rows in PhoneBurner",
        description=(
            "Look up each uncertain row of run RUN_ID in the PhoneBurner account: by email, "
            "else by phone and name among the contacts added since the run began. Found rows "
            "become delivered, absent ones failed (safe to send again); --resend then sends "
            "the failed rows as a new run. A lead that might be in PhoneBurner is never sent "
            "again."
        ),
        epilog=epilog
        + " The vendor key for --resend comes from LEADSTREAM_KEY, secrets or --key-file. Exit "
        "status: 0 no row left uncertain, 1 some still need a look, 2 usage error.",
    )
    check.add_argument("run_id", metavar="RUN_ID", type=positive_int)
    _target_arguments(check, "check against")
    check.add_argument("--resend", action="store_true", help="send the rows not in PhoneBurner")
    check.add_argument("--results", metavar="OUT.csv", type=Path, help="write a results CSV")
    check.add_argument("--key-file", metavar="F", type=Path, help="a file holding the vendor key")
    check.add_argument(
        "--concurrency", metavar="C", type=positive_int, default=4, help="for --resend"
    )
    check.add_argument(
        "--yes", action="store_true", help="do not ask before sending to PhoneBurner live"
    )


def run(args: argparse.Namespace) -> int:
    """Carry out `legend fetch` or `check`; returns the exit status."""
    try:
        if args.command == "legend":
            return _legend_fetch(args)
        return _check(args)
    except CliError as stop:
        say(f"error: {stop}")
        return stop.code
    except RestClientError as error:
        say(f"error: {error}")
        return EXIT_USAGE if error.is_auth else EXIT_UNFINISHED
    except KeyboardInterrupt:
        say("Stopped.")
        return EXIT_UNFINISHED
    except ValueError as error:
        say(f"error: {error}")
        return EXIT_USAGE
    except Exception as error:
        if os.environ.get("LEADSTREAM_DEBUG"):
            raise
        say(f"error: unexpected {type(error).__name__}: {error}")
        return EXIT_UNFINISHED


def _token(args: argparse.Namespace) -> str:
    found = find_token(token_file=args.token_file)
    if found is None:
        raise CliError(_NO_TOKEN)
    say(f"token: {found}")
    return found.value


def _rest(stack: ExitStack, put_contact_url: str, token: str) -> RestClient:
    rest = stack.enter_context(RestClient.for_put_contact(put_contact_url, token, **REST_OPTIONS))
    rest.tranquility()
    return rest


# --- legend fetch -------------------------------------------------------------------------------


def _legend_fetch(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        if args.sandbox:
            server = stack.enter_context(SandboxServer(Account.demo(), port=0, log=None))
            url, token = server.url, DEMO_TOKEN
            say("token: the sandbox's demo token")
        else:
            url = Target.live().url if args.live else Target.custom(args.url).url
            token = _token(args)
        rest = _rest(stack, url, token)
        fields = rest.custom_fields()
        fetched = legend_from_fields(fields, name=(args.save or "").strip())
        for note in fetched.notes:
            say(f"note: {note}")
        count = len(fetched.legend.fields)
        say(f"{count} custom field{'s' * (count != 1)} from {rest.base_url}")
        if not count:
            say("The account has no custom fields.")
        if args.format == "json":
            sys.stdout.write(fetched.legend.to_json())
        elif count:
            sys.stdout.write(fetched.legend.to_pasted().rstrip("\n") + "\n")
            if any(f.type is not FieldType.TEXT for f in fetched.legend.fields):
                say(
                    "note: the pasted form carries no field types (dates and check boxes); "
                    "use --format json or --save to keep them."
                )
        sys.stdout.flush()
        if args.save is not None:
            if not fetched.legend.name:
                raise CliError("--save needs a name for the legend.")
            with Journal() as journal:
                journal.save_legend(fetched.legend)
                say(f"saved as the legend {fetched.legend.name!r} in {journal.path}")
    return EXIT_OK


# --- check --------------------------------------------------------------------------------------


def _check_target(args: argparse.Namespace, info_kind: str, info_name: str, info_url: str) -> str:
    """The put_contact URL the run went to, after making sure it is the one named."""
    if args.sandbox:
        if info_kind != TargetKind.SANDBOX:
            raise CliError(f"Run {args.run_id} went to {info_name}, not to the sandbox; name it.")
        return info_url
    wanted = Target.live() if args.live else Target.custom(args.url)
    if wanted.name != info_name:
        same = "--sandbox" if info_kind == TargetKind.SANDBOX else info_name
        raise CliError(
            f"Run {args.run_id} was sent to {info_name}; check it against the same target ({same})."
        )
    return wanted.url


def _check(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        journal = stack.enter_context(Journal())
        info = journal.run(args.run_id)
        url = _check_target(args, info.target_kind, info.target_name, info.target_url)
        token = DEMO_TOKEN if args.sandbox else _token(args)
        try:
            rest = _rest(stack, url, token)
        except RestClientError as error:
            if not args.sandbox or error.is_auth:
                raise
            raise CliError(
                f"The sandbox that run {info.id} went to ({url}) is not running any more, and "
                "its leads went with it: there is nothing to check them against.",
                EXIT_UNFINISHED,
            ) from None
        shown = [0]

        def tell(row: RunRow, finding: Finding) -> None:
            if finding.outcome == "uncertain":
                if shown[0] < _SHOWN:
                    say(f"row {row.line}: still uncertain: {finding.detail}")
                shown[0] += 1

        report = settle_run(journal, rest, info.id, on_row=tell)
        if shown[0] > _SHOWN:
            say(f"… and {shown[0] - _SHOWN} more; the results CSV lists every row.")
        print(report.summary(), flush=True)

        retry_id: int | None = None
        retry_done = True
        if args.resend:
            retry_id, retry_done = _resend(args, journal, info.id, url)
        if args.results is not None:
            _write_results(journal, info.id, retry_id, args.results)
        left = journal.run(info.id).counts.get("uncertain", 0)
        if retry_id is not None:
            retry = journal.run(retry_id)
            unfinished = sum(retry.counts.get(s, 0) for s in ("pending", "in_flight", "uncertain"))
            if unfinished:
                where = "--sandbox" if args.sandbox else "--live" if args.live else f"--url {url}"
                say(
                    f"Run {retry_id} (the resend) has {unfinished} row"
                    f"{'s' * (unfinished != 1)} without a sure outcome; check it in turn: "
                    f"python -m leadstream check {retry_id} {where} --resend"
                )
                retry_done = False
        return EXIT_OK if not left and retry_done else EXIT_UNFINISHED


def _resend_key(args: argparse.Namespace) -> str:
    if args.sandbox:
        return DEMO_KEY
    found = find_key(key_file=args.key_file)
    if found is None:
        raise CliError(
            "No vendor key is configured for --resend. Set LEADSTREAM_KEY, put "
            'LEADSTREAM_KEY = "…" in .streamlit/secrets.toml, or pass --key-file FILE.'
        )
    say(f"key: {found}")
    return found.value


def _resend(
    args: argparse.Namespace, journal: Journal, run_id: int, url: str
) -> tuple[int | None, bool]:
    """Send the run's `failed` rows as a new run through the engine; returns (its id, whether
    it finished)."""
    failed = journal.run(run_id).counts.get("failed", 0)
    if not failed:
        say("Nothing to send again: no row of the run is failed.")
        return None, True
    key = _resend_key(args)
    if Target.live().url == url and not args.yes:
        raise CliError(
            f"Refusing to send {failed} lead{'s' * (failed != 1)} to PhoneBurner live without "
            "confirmation: add --yes.",
            EXIT_UNFINISHED,
        )
    engine = engine_for(journal)
    retry_id = engine.retry(run_id, ["failed"])
    say(f"Run {retry_id}: sending the {failed} failed row{'s' * (failed != 1)} of run {run_id}.")
    engine.start(retry_id, key=key, url=url)
    try:
        while not engine.wait(retry_id, 0.2):
            pass
    except KeyboardInterrupt:
        say("Pausing: waiting for the leads on the way…")
        engine.pause(retry_id, "Paused from the keyboard (Ctrl-C).")
        engine.wait(retry_id)
    retry = journal.run(retry_id)
    parts = ", ".join(f"{n} {state}" for state, n in retry.counts.items() if n)
    print(f"Run {retry_id} {retry.status}: {parts}", flush=True)
    if retry.status != "finished":
        if retry.message:
            say(retry.message)
        say(f"To carry on: python -m leadstream send FILE --url {url} --resume {retry_id}")
    return retry_id, retry.status == "finished"


def _write_results(journal: Journal, run_id: int, retry_id: int | None, out: Path) -> None:
    """The run's results; rows sent again by `retry_id` show how that went."""
    if retry_id is None:
        # Streamed from the journal: a 100,000-row run costs a chunk of memory at a time.
        try:
            with out.open("wb") as handle:
                write_results_csv(journal, run_id, handle)
        except OSError as error:
            raise CliError(
                f"The results could not be written to {out}: {error.strerror}.", EXIT_UNFINISHED
            ) from None
        say(f"results: {out}")
        return
    # Merged with the resend's rows: the whole run as one table (the resend is usually small).
    frame = results_frame(journal, run_id)
    if retry_id is not None:
        again = {row.line: row for row in journal.run_rows(retry_id)}
        for index, line in enumerate(frame["row"].tolist()):
            row = again.get(int(line))
            if row is None:
                continue
            frame.at[index, "outcome"] = row.state
            frame.at[index, "code"] = row.code
            frame.at[index, "detail"] = f"Sent again in run {retry_id}: {row.help}"
            frame.at[index, "lead_url"] = row.lead_url
            frame.at[index, "attempts"] = int(frame.at[index, "attempts"]) + row.attempts
    try:
        out.write_bytes(to_csv_bytes(frame))
    except OSError as error:
        raise CliError(
            f"The results could not be written to {out}: {error.strerror}.", EXIT_UNFINISHED
        ) from None
    say(f"results: {out}")
