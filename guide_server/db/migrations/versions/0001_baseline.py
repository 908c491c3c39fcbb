"""The baseline: the schema of guide 0.1, the last release without migrations.

On an empty database it creates every table. On a database made by an earlier release (tables, no
``alembic_version``) it creates only what is missing: tables, and columns added since that release
(always nullable, so rows already stored keep NULL there). Indexes of tables that already exist are
left to ``guide db upgrade``.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

startup_safe = True  # tables and nullable columns only


def upgrade() -> None:
    conn = op.get_bind()
    meta = baseline()
    meta.create_all(conn, checkfirst=True)
    present = sa.inspect(conn)
    for table in meta.sorted_tables:
        have = {c["name"] for c in present.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                if not column.nullable:
                    raise RuntimeError(f"{table.name}.{column.name} is missing and cannot be added to stored rows")
                op.add_column(table.name, sa.Column(column.name, column.type))


def downgrade() -> None:
    baseline().drop_all(op.get_bind())


def baseline() -> MetaData:
    """The tables as guide 0.1 declared them: a copy, so that later changes to db/schema.py
    (each with its own revision) never change what this revision does."""
    meta = MetaData()
    Table(
        "questions", meta,
        Column("id", String(32), primary_key=True),
        Column("site", String(64), nullable=False, index=True),
        Column("created_at", Float, nullable=False, index=True),
        Column("channel", String(8), nullable=False),
        Column("locale", String(8), nullable=False),
        Column("question", Text, nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("top_faq_id", String(200)),
        Column("confidence", Float, nullable=False),
        Column("url", Text),
        Column("tour_id", String(200)),
        Column("step_id", String(200)),
        Column("user_id", String(200)),
        Column("build_id", String(64)),
    )

    Table(
        "feedback", meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("site", String(64), nullable=False, index=True),
        Column("question_id", String(32), ForeignKey("questions.id"), nullable=False, index=True),
        Column("created_at", Float, nullable=False),
        Column("helpful", Boolean, nullable=False),
        Column("comment", Text),
    )

    Table(
        "user_traits", meta,
        Column("site", String(64), primary_key=True),
        Column("user_id", String(200), primary_key=True),
        Column("traits", Text, nullable=False),
        Column("locale", String(8)),
        Column("updated_at", Float, nullable=False),
    )

    Table(
        "tour_progress", meta,
        Column("site", String(64), primary_key=True),
        Column("user_id", String(200), primary_key=True),
        Column("tour_id", String(200), primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("status", String(16), nullable=False),
        Column("step", Integer, nullable=False),
        Column("updated_at", Float, nullable=False),
        Column("completed_at", Float),
        Column("client_tab", String(64)),
        Column("client_seq", BigInteger),
    )

    Table(
        "checklist_tasks", meta,
        Column("site", String(64), primary_key=True),
        Column("user_id", String(200), primary_key=True),
        Column("checklist_id", String(200), primary_key=True),
        Column("task_id", String(200), primary_key=True),
        Column("done_at", Float, nullable=False),
    )
    Table(
        "tour_events", meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("site", String(64), nullable=False, index=True),
        Column("user_id", String(200)),
        Column("tour_id", String(200), nullable=False),
        Column("version", Integer, nullable=False),
        Column("step_id", String(200), nullable=False),
        Column("action", String(16), nullable=False),
        Column("url", Text),
        Column("created_at", Float, nullable=False, index=True),
    )

    Table(
        "people", meta,
        Column("site", String(64), primary_key=True),
        Column("user_id", String(200), primary_key=True),
        Column("first_seen", Float, nullable=False),
    )
    Table(
        "survey_state", meta,
        Column("site", String(64), primary_key=True),
        Column("user_id", String(200), primary_key=True),
        Column("survey_id", String(200), primary_key=True),
        Column("answered_at", Float),
        Column("dismissed_at", Float),
        Column("later_at", Float),
    )

    Table(
        "events", meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("site", String(64), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("type", String(32), nullable=False),
        Column("user_id", String(200)),
        Column("session", String(64)),
        Column("at", Float, nullable=False),
        Column("received_at", Float, nullable=False, index=True),
        Column("url", Text),
        Column("tour_id", String(200)),
        Column("version", Integer),
        Column("step_id", String(200)),
        Column("step_index", Integer),
        Column("props", Text, nullable=False),
        UniqueConstraint("site", "event_id", name="uq_events_site_event"),
        Index("ix_events_site_at", "site", "at"),
        Index("ix_events_site_user", "site", "user_id"),
        Index("ix_events_site_tour", "site", "tour_id", "version", "step_id"),
    )

    Table(
        "admin_users", meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(100), nullable=False, unique=True),
        Column("password_hash", String(200), nullable=False),
        Column("created_at", Float, nullable=False),
        Column("last_login_at", Float),
    )

    Table(
        "admin_sessions", meta,
        Column("id_hash", String(64), primary_key=True),
        Column("admin_id", Integer, ForeignKey("admin_users.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("created_at", Float, nullable=False),
        Column("expires_at", Float, nullable=False),
    )

    Table(
        "admin_tokens", meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(100), nullable=False, unique=True),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("created_at", Float, nullable=False),
        Column("last_used_at", Float),
    )
    Table(
        "admin_login_failures", meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(8), nullable=False),
        Column("key", String(200), nullable=False),
        Column("at", Float, nullable=False, index=True),
    )

    Table(
        "admin_lockouts", meta,
        Column("kind", String(8), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("until", Float, nullable=False),
    )
    return meta
