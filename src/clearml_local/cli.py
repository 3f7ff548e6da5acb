"""Command line of the local server: serve (foreground), start, stop and status."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from clearml_local.credentials import load_or_create
from clearml_local.launcher import (
    DEFAULT_IDLE_TIMEOUT,
    ServerInfo,
    ensure_running,
    read_state,
    stop_server,
)
from clearml_local.serving import DEFAULT_MAX_UPLOAD, PortInUseError, serve

DEFAULT_DATA_DIR = Path(".clearml-local")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clearml_local", description="A local ClearML-compatible server."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run in the foreground"),
        ("start", "start in the background unless already running"),
        ("stop", "stop the background server of a data folder"),
        ("status", "tell whether a server runs for a data folder"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        if name in ("serve", "start"):
            command.add_argument("--host", default="127.0.0.1")
            command.add_argument("--api-port", type=int, default=18008)
            command.add_argument("--files-port", type=int, default=18081)
            command.add_argument(
                "--idle-timeout",
                type=float,
                default=0 if name == "serve" else DEFAULT_IDLE_TIMEOUT,
                help="seconds without a request before shutting down (0: never)",
            )
            command.add_argument("--access-key")
            command.add_argument("--secret-key")
        if name == "serve":
            command.add_argument("--max-upload-bytes", type=int, default=DEFAULT_MAX_UPLOAD)
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser


def _exports(info: ServerInfo) -> str:
    return "\n".join(f"export {key}={value}" for key, value in info.environment().items())


def _serve(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    creds = load_or_create(data_dir, args.access_key, args.secret_key)

    def announce(api_url: str, files_url: str) -> None:
        info = ServerInfo(
            api_url, files_url, None, creds.access_key, creds.secret_key, data_dir, 0
        )
        print(_exports(info), flush=True)

    serve(
        data_dir,
        args.host,
        args.api_port,
        args.files_port,
        idle_timeout=args.idle_timeout or None,
        max_upload_bytes=args.max_upload_bytes,
        on_ready=announce,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "start":
            info = ensure_running(
                args.data_dir,
                args.host,
                args.api_port,
                args.files_port,
                idle_timeout=args.idle_timeout or None,
                access_key=args.access_key,
                secret_key=args.secret_key,
            )
            print(_exports(info))
            return 0
        if args.command == "stop":
            stopped = stop_server(args.data_dir)
            print("stopped" if stopped else "not running")
            return 0
        state = read_state(args.data_dir)
        print(f"running: {state['api_url']} (pid {state['pid']})" if state else "not running")
        return 0 if state else 1
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
