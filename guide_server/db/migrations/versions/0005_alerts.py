"""Alerts and digests: outgoing notifications to a site's CS team, stored before they are sent
(docs/alerts.md).

Safe at start-up: one new table and the indexes on it; older servers of a rolling upgrade never
read it.

Revision ID: 0005_alerts
Revises: 0004_tour_versions
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_alerts"
down_revision = "0004_tour_versions"
branch_labels = None
depends_on = None

startup_safe = True  # a new table, and indexes on it (above)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("dedupe", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe"),
    )
    op.create_index("ix_alerts_site_created", "alerts", ["site", "created_at"], unique=False)
    op.create_index("ix_alerts_due", "alerts", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_due", table_name="alerts")
    op.drop_index("ix_alerts_site_created", table_name="alerts")
    op.drop_table("alerts")
