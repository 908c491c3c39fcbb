"""Every table of the service, in one place: ``db.engine.connect`` creates what is missing.

User ids in every table are keyed pseudonyms (see ``privacy``), never the host app's ids.
"""

from __future__ import annotations

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
    false,
)

metadata = MetaData()

# --- the chat: questions asked, with their outcome, and feedback on answers ----------------------

questions = Table(
    "questions", metadata,
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

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False, index=True),
    Column("question_id", String(32), ForeignKey("questions.id"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("comment", Text),
)

# Messages to a site's support ("contact a person"), stored before they are delivered: by a signed
# webhook (a sender thread, with retries: chat.delivery), a mailto: link the widget opens, or none.
# The question, and the answer given, are copied from the question log when the escalation is made.
escalations = Table(
    "escalations", metadata,
    Column("id", String(32), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("user_id", String(200)),  # pseudonym of the user, or "a-..." of the anonymous browser
    # The ids as the widget sent them (the user's as the site vouched for it): the person asked to be
    # contacted, so their support team gets them. `guide forget-user` removes the row by user_id.
    Column("app_user", String(200)),
    Column("anon_id", String(200)),
    Column("email", String(254)),
    Column("message", Text, nullable=False),
    Column("reason", String(16), nullable=False),  # no_answer | unhelpful | other
    Column("question_id", String(32)),  # no foreign key: `guide purge` may remove the question first
    Column("question", Text),
    Column("answer_faq_id", String(200)),
    Column("answer_title", Text),
    Column("answer_url", Text),
    Column("url", Text),
    Column("tour_id", String(200)),
    Column("step_id", String(200)),
    Column("desk_url", Text),  # this escalation on the review desk, for the webhook's receiver
    Column("delivery", String(8), nullable=False),  # webhook | mailto | none
    Column("delivery_status", String(16), nullable=False),  # pending | delivered | failed; none (not ours to send)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float),  # due (pending) or leased to a sender until then (being sent)
    Column("last_error", Text),
    Column("delivered_at", Float),
    Index("ix_escalations_site_created", "site", "created_at"),
    Index("ix_escalations_due", "delivery_status", "next_attempt_at"),
)

# Notifications to a site's CS team (chat.alerts): escalation.created, feedback.negative and the
# daily or weekly digest, one row per channel (webhook | slack | email), stored rendered before they
# are sent by the same claim/lease/retry rules as escalations (chat.outbox). ``dedupe`` is unique: a
# digest of one period, or the alert of one 👎, is inserted once by whichever process gets there first.
alerts = Table(
    "alerts", metadata,
    Column("id", String(32), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("kind", String(32), nullable=False),  # escalation.created | feedback.negative | digest.daily | digest.weekly
    Column("channel", String(8), nullable=False),  # webhook | slack | email
    Column("target", Text, nullable=False),  # the URL, or the e-mail addresses (comma-separated)
    Column("dedupe", String(200), unique=True),  # NULL: no other row can be the same notification
    Column("body", Text, nullable=False),  # JSON: what is sent (the e-mail's subject, text and HTML)
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float),  # due (pending) or leased to a sender until then (being sent)
    Column("last_error", Text),
    Column("delivered_at", Float),
    Index("ix_alerts_site_created", "site", "created_at"),
    Index("ix_alerts_due", "status", "next_attempt_at"),
)

# --- guidance: what each user did with tours, checklists and surveys -----------------------------

user_traits = Table(
    "user_traits", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("traits", Text, nullable=False),  # JSON object
    Column("locale", String(8)),
    Column("updated_at", Float, nullable=False),
)

tour_progress = Table(
    "tour_progress", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("tour_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
    # First completion; kept when the tour is restarted, so after/unless/checklists stay satisfied.
    Column("completed_at", Float),
    # Which browser tab wrote the row, and its running number of saves: concurrent requests may
    # arrive out of order, and a save older than the stored one from the same tab is dropped.
    Column("client_tab", String(64)),
    Column("client_seq", BigInteger),
)

checklist_tasks = Table(
    "checklist_tasks", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("checklist_id", String(200), primary_key=True),
    Column("task_id", String(200), primary_key=True),
    Column("done_at", Float, nullable=False),
)

# Reports of tour steps whose target was missing, kept for anonymous users too.
tour_events = Table(
    "tour_events", metadata,
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

# Each version of each tour as the server first served it: the fingerprint of its steps (their
# ids, in order, and the tour's kind) and the steps with their titles (JSON), so a change of steps
# under the same ``version`` is refused (guidance.versions) and a funnel shows each version's steps.
tour_versions = Table(
    "tour_versions", metadata,
    Column("tour_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("steps", Text, nullable=False),  # JSON list of {"id", "title": {locale: text}}
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

people = Table(
    "people", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("first_seen", Float, nullable=False),
)

# A user's answers to surveys: kept apart from the events, which `guide purge` removes.
survey_state = Table(
    "survey_state", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("survey_id", String(200), primary_key=True),
    Column("answered_at", Float),
    Column("dismissed_at", Float),
    Column("later_at", Float),
)

# --- widget events for the review desk ------------------------------------------------------------

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("user_id", String(200)),  # pseudonym; "a-..." for anonymous browsers
    Column("session", String(64)),
    Column("at", Float, nullable=False),  # client time, epoch seconds
    Column("received_at", Float, nullable=False, index=True),  # server time; purge goes by this
    Column("url", Text),
    Column("tour_id", String(200)),
    Column("version", Integer),
    Column("step_id", String(200)),
    Column("step_index", Integer),
    Column("props", Text, nullable=False),  # JSON object, strings masked
    UniqueConstraint("site", "event_id", name="uq_events_site_event"),
    Index("ix_events_site_at", "site", "at"),
    Index("ix_events_site_user", "site", "user_id"),
    Index("ix_events_site_tour", "site", "tour_id", "version", "step_id"),
)

# --- the review desk: accounts, sessions, API tokens, lock-out ------------------------------------

ADMIN_NAME_CHARS = 100

admin_users = Table(
    "admin_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(ADMIN_NAME_CHARS), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_login_at", Float),
    # What the account may do ("viewer" | "editor" | "admin") and on which sites ("*": all, or
    # "a,b"). The defaults are what accounts made before roles became: admins of every site.
    Column("role", String(16), nullable=False, server_default="admin"),
    Column("sites", Text, nullable=False, server_default="*"),
)

admin_sessions = Table(
    "admin_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("admin_id", Integer, ForeignKey("admin_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

admin_tokens = Table(
    "admin_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(ADMIN_NAME_CHARS), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
    # The sites the token reads ("*" or "a,b") and whether it may write (drafts); tokens made
    # before scopes read every site, as they did, and write nothing (the API had no writes).
    Column("sites", Text, nullable=False, server_default="*"),
    Column("can_write", Boolean, nullable=False, server_default=false()),
)

# One row per failed login, counted twice: under the account name and under the client address.
admin_login_failures = Table(
    "admin_login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # "account" | "ip"
    Column("key", String(200), nullable=False),
    Column("at", Float, nullable=False, index=True),
)

admin_lockouts = Table(
    "admin_lockouts", metadata,
    Column("kind", String(8), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("until", Float, nullable=False),
)

# What was done on the desk, by whom: logins, failed logins, logouts, drafts, CSV downloads, API
# token use, refusals, and account and token changes made with the command line (desk.audit).
admin_audit = Table(
    "admin_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("actor", String(ADMIN_NAME_CHARS)),  # the account or token name (as typed, for a failed login)
    Column("actor_kind", String(8), nullable=False),  # "account" | "token" | "cli"
    Column("site", String(64)),
    Column("ip", String(64)),
    Column("detail", Text),  # JSON object
)

# The tables that hold a person's data, by the name `guide forget-user` reports (see db.retention).
PERSONAL = {"questions": questions, "events": events, "tour_progress": tour_progress, "user_traits": user_traits,
            "checklist_tasks": checklist_tasks, "tour_events": tour_events, "people": people,
            "survey_state": survey_state, "escalations": escalations}
