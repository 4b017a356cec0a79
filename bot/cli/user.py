"""`gridbot user add | list | token`: console and API accounts (passwords hashed with scrypt, never stored in clear);
`gridbot user bind | unbind`: which WeChat contact is a person of config, for people config gives no wechat_id."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from bot.cli._common import add_config_argument, load_or_report, run_in_database

if TYPE_CHECKING:
    from storage.session import Session


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("user", help="console and API accounts")
    commands = parser.add_subparsers(dest="user_command", metavar="add|list|token|bind|unbind")
    add = commands.add_parser("add", help="create an account (prints its API token once)")
    add_config_argument(add)
    add.add_argument("username")
    add.add_argument("--role", choices=("secretary", "leader", "viewer"), required=True)
    add.add_argument("--person", help="the config person this account acts as (secretary / leader)")
    add.add_argument("--node", help="viewer: the node code whose subtree it may read")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=run_add)
    listing = commands.add_parser("list", help="list accounts")
    add_config_argument(listing)
    listing.set_defaults(handler=run_list)
    token = commands.add_parser("token", help="issue a new API token for an account (the old one stops working)")
    add_config_argument(token)
    token.add_argument("username")
    token.set_defaults(handler=run_token)
    bind = commands.add_parser("bind", help="print a one-time code; the person sends it to the bot privately")
    add_config_argument(bind)
    bind.add_argument("person", help="the person's key under people: in config.yaml")
    bind.set_defaults(handler=run_bind)
    unbind = commands.add_parser("unbind", help="revoke the WeChat contact bound to a person (and unused codes)")
    add_config_argument(unbind)
    unbind.add_argument("person", help="the person's key under people: in config.yaml")
    unbind.set_defaults(handler=run_unbind)


def run_add(args: argparse.Namespace) -> int:
    from bot.domain.people import Directory
    from bot.web.accounts import hash_password, new_token, scope
    from storage.web_repository import WebRepository

    config = load_or_report(args.config)
    if config is None:
        return 1
    if args.role in ("secretary", "leader") and (not args.person or args.person not in config.people):
        print(f"--person must name a person under people: in {args.config} (the account acts as them)",
              file=sys.stderr)
        return 2
    if args.role == "viewer" and (not args.node or args.node not in config.tree):
        print(f"--node must be a node code in {args.config} (the viewer reads that subtree)", file=sys.stderr)
        return 2
    directory = Directory(config.tree, config.people, config.roles)
    if args.role == "leader" and not scope(config.tree, directory, role="leader", person_key=args.person,
                                           node_code=None):
        print(f"{args.person} holds no role on any node, so a leader account would see nothing", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("密码 / password: ")
    if len(password) < 8:
        print("the password must have at least 8 characters", file=sys.stderr)
        return 2
    token, token_hashed = new_token()

    async def work(session: Session) -> str | None:
        from datetime import datetime, timezone

        repo = WebRepository(session)
        if await repo.user(args.username) is not None:
            return f"account {args.username!r} exists already"
        await repo.add_user(username=args.username, password_hash=hash_password(password), role=args.role,
                            person_key=args.person, node_code=args.node, token_hash=token_hashed,
                            disabled=False, created_at=datetime.now(timezone.utc))
        return None

    problem = run_in_database(config, work, what="adding an account")
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"account {args.username} ({args.role}) created")
    print(f"API token (shown once; use as 'Authorization: Bearer …'): {token}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from storage.web_repository import WebRepository

    config = load_or_report(args.config)
    if config is None:
        return 1

    for user in run_in_database(config, lambda s: WebRepository(s).users(), what="accounts"):
        fields = [user.username, user.role, user.person_key or user.node_code or ""]
        print("\t".join(fields + (["disabled"] if user.disabled else [])))
    return 0


def run_token(args: argparse.Namespace) -> int:
    from bot.web.accounts import new_token
    from storage.web_repository import WebRepository

    config = load_or_report(args.config)
    if config is None:
        return 1
    token, hashed = new_token()

    if not run_in_database(config, lambda s: WebRepository(s).set_token_hash(args.username, hashed), what="new token"):
        print(f"no account {args.username!r}", file=sys.stderr)
        return 1
    print(f"new API token for {args.username} (shown once): {token}")
    return 0


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:100]
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def run_bind(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from bot.domain.binding import BIND_WORD, CODE_LIFETIME, hash_code, new_code
    from storage.identity_repository import IdentityRepository

    config = load_or_report(args.config)
    if config is None:
        return 1
    person = config.people.get(args.person)
    if person is None:
        print(f"no person {args.person!r} under people: in {args.config}", file=sys.stderr)
        return 2
    code = new_code()
    now = datetime.now(timezone.utc)
    expires = now + CODE_LIFETIME

    run_in_database(config, lambda s: IdentityRepository(s).issue_code(
        person.key, hash_code(code), now=now, expires=expires, actor=_operator()), what="binding code")
    hours = int(CODE_LIFETIME.total_seconds() // 3600)
    print(f"one-time code for {person.name} ({person.key}), valid {hours} h, shown once:")
    print(f"  {BIND_WORD} {code}")
    print(f"{person.name} sends that line to the bot in a private chat (not in a group: there it is revoked).")
    if person.wechat_id:
        print(f"note: config already gives {person.key} wechat_id {person.wechat_id}; the code binds another account")
    return 0


def run_unbind(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from storage.identity_repository import IdentityRepository

    config = load_or_report(args.config)
    if config is None:
        return 1
    if args.person not in config.people:
        print(f"no person {args.person!r} under people: in {args.config}", file=sys.stderr)
        return 2

    bindings, codes = run_in_database(config, lambda s: IdentityRepository(s).unbind(
        args.person, now=datetime.now(timezone.utc), actor=_operator()), what="unbinding")
    print(f"{args.person}: {bindings} binding(s) and {codes} unused code(s) revoked "
          "(a running bot stops honouring them within a minute)")
    return 0
