"""`rcm console` serves the console; `rcm users add NAME --role ROLE` creates or updates a user
(the password comes from a prompt, or from stdin when it is not a terminal)."""
from __future__ import annotations

import getpass
import sys


def add_arguments(parser, name: str) -> None:
    if name == "console":
        parser.add_argument("--host", default="127.0.0.1",
                            help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
        return
    from infra.console.auth import ROLES

    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="create a user, or set an existing user's role and password")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=list(ROLES))


def cmd_console(args) -> int:
    import uvicorn

    from infra.console.app import build
    from infra.services import apply_migrations
    from infra.settings import load

    settings = load()
    apply_migrations(settings.dsn)
    print(f"rcm console: http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    uvicorn.run(build(settings), host=args.host, port=args.port, log_level="warning",
                access_log=False)  # an access log would write account ids (paths) to the log
    return 0


def read_password(stdin=sys.stdin) -> str:
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise ValueError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\n")


def cmd_users(args) -> int:
    from infra.console import auth
    from infra.console.db import Db
    from infra.services import apply_migrations
    from infra.settings import load

    settings = load()
    apply_migrations(settings.dsn)
    try:
        password = read_password()
        db = Db(settings.console_dsn, size=1)
        try:
            auth.add_user(db, args.username, args.role, password)
        finally:
            db.close()
    except ValueError as exc:
        print(f"rcm users add: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username} ({auth.ROLES[args.role]}) saved", file=sys.stderr)
    return 0
