"""The journal, actions, snapshots and settings tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("seq", _SEQ, nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_actions_seq", "actions", ["seq"])
    op.create_index("ix_actions_status", "actions", ["status"])
    op.create_table(
        "snapshots",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("snapshots")
    op.drop_index("ix_actions_status", "actions")
    op.drop_index("ix_actions_seq", "actions")
    op.drop_table("actions")
    op.drop_table("journal")
