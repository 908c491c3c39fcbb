"""Desk roles, site scopes and the audit log.

``admin_users`` gets ``role`` and ``sites``, ``admin_tokens`` gets ``sites`` and ``can_write``, and
the table ``admin_audit`` is new. The columns are NOT NULL with a constant default, which is what
every row stored before gets: accounts become admins of every site, as they were, and tokens read
every site and write nothing, as they did (the API had no writes), so nobody is locked out.

Safe at start-up: a column with a constant default is added without rewriting the table (SQLite
stores the default in the schema; PostgreSQL 11 and later likewise), and older servers of a rolling
upgrade keep working, their new rows taking the defaults.

Revision ID: 0002_desk_roles
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_desk_roles"
down_revision = "0001"
branch_labels = None
depends_on = None

startup_safe = True  # a new table, and columns with a constant default (above)


def upgrade() -> None:
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("actor_kind", sa.String(length=8), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_audit_at", "admin_audit", ["at"], unique=False)
    op.add_column("admin_users", sa.Column("role", sa.String(length=16), server_default="admin", nullable=False))
    op.add_column("admin_users", sa.Column("sites", sa.Text(), server_default="*", nullable=False))
    op.add_column("admin_tokens", sa.Column("sites", sa.Text(), server_default="*", nullable=False))
    op.add_column("admin_tokens", sa.Column("can_write", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("admin_tokens") as batch_op:
        batch_op.drop_column("can_write")
        batch_op.drop_column("sites")
    with op.batch_alter_table("admin_users") as batch_op:
        batch_op.drop_column("sites")
        batch_op.drop_column("role")
    op.drop_index("ix_admin_audit_at", table_name="admin_audit")
    op.drop_table("admin_audit")
