"""`python -m leadstream.sandbox`: run the put_contact emulator on loopback until Ctrl-C."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType

from leadstream.protocol.query import mask_secret
from leadstream.sandbox.account import Account, AccountError
from leadstream.sandbox.faults import Faults, FaultsError
from leadstream.sandbox.server import SandboxServer

DEFAULT_PORT = 8765


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port; use 0 to 65535 (0 = any free).")
    return port


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m leadstream.sandbox",
        description="A local emulator of PhoneBurner's LeadStream put_contact endpoint.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help="default %(default)s")
    p.add_argument("--account", metavar="FILE", help="account JSON (default: the demo account)")
    p.add_argument("--latency-ms", type=float, default=0, metavar="N", help="delay every answer")
    p.add_argument("--fail-rate", type=float, default=0.0, metavar="F", help="share of HTTP 503")
    p.add_argument(
        "--timeout-rate", type=float, default=0.0, metavar="F", help="share held, then no answer"
    )
    p.add_argument(
        "--timeout-hold",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a timeout fault holds the request (default 30)",
    )
    p.add_argument(
        "--lost-reply-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="share stored, then cut off with no answer",
    )
    p.add_argument(
        "--garbage-rate", type=float, default=0.0, metavar="F", help="share answered by HTML"
    )
    p.add_argument(
        "--rate-limit", type=float, metavar="R", help="over R requests a second → HTTP 429"
    )
    p.add_argument("--seed", type=int, help="repeatable faults and lead IDs")
    p.add_argument(
        "--print-account", action="store_true", help="print the account as JSON and exit"
    )
    return p


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _banner(server: SandboxServer, account_source: str | None) -> str:
    account = server.account
    if account.is_demo:
        key = f"{account.key} (the demo key of PhoneBurner's document)"
    else:
        key = f"{mask_secret(account.key)} (the key in {account_source})"
    banner = f"{server.describe()}\nVendor key: {key}\n"
    for user in account.users:
        if user.token:
            # The demo token is public (docs/DESIGN.md); any other is a secret like the key.
            shown = user.token if account.is_demo else mask_secret(user.token)
            banner += f"REST access token of user {user.user_id}: {shown}\n"
    if not _is_loopback(server.host):
        banner += (
            f"Warning: listening on {server.host}, so other machines may post to it. Use the "
            "default 127.0.0.1 unless that is what you want.\n"
        )
    return banner + "Press Ctrl-C to stop.\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        account = Account.load(args.account) if args.account else Account.demo()
    except AccountError as e:
        parser.error(str(e))
    if args.print_account:
        sys.stdout.write(account.to_json())
        return 0
    try:
        faults = Faults(
            latency_ms=args.latency_ms,
            fail_rate=args.fail_rate,
            timeout_rate=args.timeout_rate,
            timeout_hold_s=args.timeout_hold,
            lost_reply_rate=args.lost_reply_rate,
            garbage_rate=args.garbage_rate,
            rate_limit=args.rate_limit,
            seed=args.seed,
        )
    except FaultsError as e:
        parser.error(str(e))

    server = SandboxServer(account, host=args.host, port=args.port, faults=faults)
    try:
        server.start()
    except OSError as e:
        print(
            f"Cannot listen on {args.host}:{args.port} ({e.strerror or e}). "
            "Choose another --port, or stop whatever is using it.",
            file=sys.stderr,
        )
        return 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        print(_banner(server, args.account), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while stopping should not print a traceback either.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()
    print("Sandbox stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
