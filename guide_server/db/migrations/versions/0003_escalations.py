"""Escalations: messages to a site's support, with the question, the answer given and the page,
and the state of their delivery (docs/escalations.md).

Safe at start-up: one new table and the indexes on it; older servers of a rolling upgrade never
read it.

Revision ID: 0003_escalations
Revises: 0002_desk_roles
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_escalations"
down_revision = "0002_desk_roles"
branch_labels = None
depends_on = None

startup_safe = True  # a new table, and indexes on it (above)


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("app_user", sa.String(length=200), nullable=True),
        sa.Column("anon_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("question_id", sa.String(length=32), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answer_faq_id", sa.String(length=200), nullable=True),
        sa.Column("answer_title", sa.Text(), nullable=True),
        sa.Column("answer_url", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("tour_id", sa.String(length=200), nullable=True),
        sa.Column("step_id", sa.String(length=200), nullable=True),
        sa.Column("desk_url", sa.Text(), nullable=True),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("delivery_status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_escalations_site_created", "escalations", ["site", "created_at"], unique=False)
    op.create_index("ix_escalations_due", "escalations", ["delivery_status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_escalations_due", table_name="escalations")
    op.drop_index("ix_escalations_site_created", table_name="escalations")
    op.drop_table("escalations")
