"""Brings the feedback log's database to the newest schema revision, or shows or lowers it.

    python -m bot.tools.migrate [--db URL|FILE]          # upgrade to head (the default)
    python -m bot.tools.migrate current | downgrade REV

The migrations themselves are bot/answers/migrate.py and bot/answers/migrations/.
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from bot.answers.feedback import FeedbackLog
from bot.answers.migrate import MigrationError, current, downgrade, head, upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "action", nargs="?", default="upgrade", choices=["upgrade", "current", "downgrade"],
        help="upgrade (the default), print the current revision, or downgrade",
    )  # fmt: skip
    parser.add_argument("revision", nargs="?", help="target revision (upgrade: head)")
    parser.add_argument(
        "--db", help="database URL or SQLite file (default: where the action server logs)"
    )
    args = parser.parse_args(argv)
    if args.action == "downgrade" and not args.revision:
        parser.error("downgrade needs a revision (e.g. 0001, or base to drop the table)")
    log = FeedbackLog(args.db)
    try:
        if args.action == "upgrade":
            upgrade(log.url, args.revision or "head")
        elif args.action == "downgrade":
            downgrade(log.url, args.revision)
        revision = current(log.url)
    except (MigrationError, sa.exc.SQLAlchemyError) as error:
        print(f"migrate: {log.where}: {error}", file=sys.stderr)
        return 1
    latest = head()
    state = "head" if revision == latest else f"head is {latest}"
    print(f"feedback log {log.where}: revision {revision or 'none'} ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
