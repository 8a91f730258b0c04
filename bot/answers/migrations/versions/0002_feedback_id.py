"""feedback: an integer primary key, ``id``

Retention (bot/tools/retention.py) deletes old rows; PostgreSQL's logical replication (replicas,
managed-database upgrades, change capture) refuses to publish deletes from a table without a
primary key. It also gives entries written in the same instant a stable order. Existing rows
get ids in their stored order.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _table(with_id: bool) -> sa.Table:
    """The table before (0001) or after this revision, for SQLite's copy of it (no reflection:
    the copy is the same with or without a live database)."""
    columns = [sa.Column("id", sa.Integer, primary_key=True)] if with_id else []
    return sa.Table(
        "feedback",
        sa.MetaData(),
        *columns,
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("topic", sa.String(64)),
        sa.Column("question", sa.Text),
        sa.Index("ix_feedback_at", "at"),
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        # SQLite cannot add a primary key to a table: copy it into a new one, where ``id`` is
        # the rowid, numbered as the rows are copied.
        with op.batch_alter_table(
            "feedback", copy_from=_table(with_id=False), recreate="always"
        ) as batch:
            batch.add_column(sa.Column("id", sa.Integer, primary_key=True), insert_before="at")
        return
    # SERIAL, as create_all makes it from bot/answers/feedback.py's table; the key is a separate
    # step
    op.add_column("feedback", sa.Column("id", sa.Integer, primary_key=True))
    op.create_primary_key("feedback_pkey", "feedback", ["id"])


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table(
            "feedback", copy_from=_table(with_id=True), recreate="always"
        ) as batch:
            batch.drop_column("id")
        return
    op.drop_column("feedback", "id")  # its constraint and sequence go with it
