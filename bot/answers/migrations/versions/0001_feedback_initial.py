"""feedback: the table as bot/answers/feedback.py created it before migrations existed

A database from that time (this table, no alembic_version) is stamped at this revision rather
than upgraded through it (bot/answers/migrate.py); tests/fixtures/feedback_v0.sql is that schema.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("topic", sa.String(64)),
        sa.Column("question", sa.Text),
    )
    op.create_index("ix_feedback_at", "feedback", ["at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_at", table_name="feedback")
    op.drop_table("feedback")
