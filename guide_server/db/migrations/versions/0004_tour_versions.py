"""Tour versions: the steps each version of a tour had, fingerprinted (guidance.versions).

Safe at start-up: one new table; older servers of a rolling upgrade never read it.

Revision ID: 0004_tour_versions
Revises: 0003_escalations
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_tour_versions"
down_revision = "0003_escalations"
branch_labels = None
depends_on = None

startup_safe = True  # a new table


def upgrade() -> None:
    op.create_table(
        "tour_versions",
        sa.Column("tour_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tour_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("tour_versions")
