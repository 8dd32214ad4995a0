"""Read-model tables and the projection tracking tables (all created by Alembic).

Every read-model row carries a ``generation``: a rebuild writes the next generation beside
the live one and swaps it in when caught up, so queries never see a half-built model.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


ZERO = timedelta(0)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which drops offsets) too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.tzinfo is UTC:
            return value.replace(tzinfo=UTC)
        # psycopg answers in the session's zone: a UTC session needs only the label.
        if value.utcoffset() == ZERO:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


projection_tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("events_processed", sa.BigInteger, nullable=False),
    sa.Column("caught_up_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

projection_active = sa.Table(
    "projection_active",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)

case_list = sa.Table(
    "case_list",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("crn", sa.String(7), nullable=False),
    sa.Column("sentence_type", sa.String(40), nullable=False),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("practitioner_id", sa.String(100)),
    sa.Column("rosh", sa.String(20)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("terminated_at", UTCDateTime()),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("last_event_at", UTCDateTime(), nullable=False),
    sa.Index("ix_case_list_team", "generation", "team", "crn"),
    sa.Index("ix_case_list_practitioner", "generation", "practitioner_id", "status"),
    sa.Index("ix_case_list_crn", "generation", "crn"),
)

staff_directory = sa.Table(
    "staff_directory",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("staff_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("grade", sa.String(10), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("training", sa.JSON, nullable=False),
    sa.Index("ix_staff_directory_team", "generation", "team"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("aggregate_id", sa.Uuid, nullable=False),
    sa.Column("aggregate_type", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("actor_id", sa.String(200), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Index("ix_audit_events_actor", "generation", "actor_id", "position"),
    sa.Index("ix_audit_events_type", "generation", "type", "position"),
)

# -- oversight queue, compliance rates, quality indicators (projections/oversight*.py) --------
# One row per case: scope and typed columns that the rates and indicators sum over a scope. No
# threshold is baked in: rows keep dates and business days taken; the queries compare them
# with the settings in force. The case's folded facts (JSON, about 1 KB) live in a table of
# their own, so that a national rate scans narrow rows.
oversight_cases = sa.Table(
    "oversight_cases",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("crn", sa.String(7), nullable=False),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("practitioner_id", sa.String(100)),
    sa.Column("sentence_type", sa.String(40), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("items_digest", sa.String(16), nullable=False),
    sa.Column("rosh", sa.String(20)),
    sa.Column("rosh_high", sa.Boolean, nullable=False),
    sa.Column("high_oversight", sa.Boolean, nullable=False),
    sa.Column("ns_attended", sa.Integer, nullable=False),
    sa.Column("ns_countable", sa.Integer, nullable=False),
    sa.Column("first_failure_on", sa.Date),
    sa.Column("first_uncited_on", sa.Date),
    sa.Column("enforcement_worst_bd", sa.Integer),
    sa.Column("induction_bd", sa.Integer),
    sa.Column("inducted_on", sa.Date),
    sa.Column("plan_agreed", sa.Boolean, nullable=False),
    sa.Column("plan_bd", sa.Integer),
    sa.Column("uw_required", sa.Boolean, nullable=False),
    sa.Column("uw_sessions", sa.Integer, nullable=False),
    sa.Column("uw_attended", sa.Integer, nullable=False),
    sa.Column("uw_months", sa.Integer),
    sa.Column("needs_count", sa.Integer, nullable=False),
    sa.Column("needs_referred", sa.Integer, nullable=False),
    sa.Column("ap_completed", sa.Integer, nullable=False),
    sa.Column("ap_ended", sa.Integer, nullable=False),
    sa.Column("hv_required", sa.Boolean, nullable=False),
    sa.Column("hv_bd", sa.Integer),
    sa.Column("enq_requested", sa.Integer, nullable=False),
    sa.Column("enq_answered", sa.Integer, nullable=False),
    sa.Column("court_reports", sa.Integer, nullable=False),
    sa.Column("court_ok", sa.Boolean, nullable=False),
    sa.Column("assessed", sa.Boolean, nullable=False),
    sa.Column("assessment_person_involved", sa.Boolean, nullable=False),
    sa.Column("assessment_needs_analysed", sa.Boolean, nullable=False),
    sa.Column("assessment_sources_ok", sa.Boolean, nullable=False),
    sa.Column("plan_person_involved", sa.Boolean, nullable=False),
    sa.Column("plan_desistance", sa.Boolean, nullable=False),
    sa.Column("plan_contingency", sa.Boolean, nullable=False),
    sa.Column("sig_events", sa.Integer, nullable=False),
    sa.Column("sig_worst_bd", sa.Integer),
    sa.Column("sig_first_unreviewed_on", sa.Date),
    sa.Column("reviewed", sa.Boolean, nullable=False),
    sa.Column("review_person_involved", sa.Boolean, nullable=False),
    sa.Column("rosh_changes", sa.Integer, nullable=False),
    sa.Column("rosh_changes_planned", sa.Integer, nullable=False),
    sa.Column("completed", sa.Boolean, nullable=False),
    sa.Column("sfo", sa.Integer, nullable=False),
    sa.Index("ix_oversight_cases_team", "generation", "team", "opened_on"),
    sa.Index("ix_oversight_cases_pdu", "generation", "pdu", "opened_on"),
    sa.Index("ix_oversight_cases_practitioner", "generation", "practitioner_id", "opened_on"),
)

# Per-team rollups of the indicator figures (projections/rollups.py). The oversight projection
# stamps a team, in the transaction that changes its case rows, with the position of the batch
# that changed them; a rollup holds one team's sums for one set of definitions (a key naming the
# measures, the thresholds and the day asked about) and the stamp they were summed at. A rollup
# whose stamp is not its team's is stale: summed again from the team's rows on the next read.
team_stamps = sa.Table(
    "team_stamps",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("pdu", sa.String(50), primary_key=True),
    sa.Column("team", sa.String(50), primary_key=True),
    sa.Column("stamp", sa.BigInteger, nullable=False),
)
indicator_rollups = sa.Table(
    "indicator_rollups",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("pdu", sa.String(50), primary_key=True),
    sa.Column("team", sa.String(50), primary_key=True),
    sa.Column("stamp", sa.BigInteger, nullable=False),
    sa.Column("sums", sa.JSON, nullable=False),
)

# A scope's sums (the store's, a PDU's: what dashboards ask) kept with the newest stamp of its
# teams: current while no team of it has changed since (stamps only grow).
scope_rollups = sa.Table(
    "scope_rollups",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("stamp", sa.BigInteger, nullable=False),
    sa.Column("sums", sa.JSON, nullable=False),
)

# Trends' rollups: a team's stamp from a month on (its month rows of that month and later
# changed), and a team's points of a measure by month, each with the stamp it was summed at.
team_month_stamps = sa.Table(
    "team_month_stamps",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("pdu", sa.String(50), primary_key=True),
    sa.Column("team", sa.String(50), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("stamp", sa.BigInteger, nullable=False),
)
trend_rollups = sa.Table(
    "trend_rollups",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("pdu", sa.String(50), primary_key=True),
    sa.Column("team", sa.String(50), primary_key=True),
    sa.Column("points", sa.JSON, nullable=False),
)

# Each case's columns as at the end of every month it was open (projections/oversight_months.py):
# a row holds from `month` (the first day of a London month) until `until` (the first day of
# the month of the case's next row; null: still current). Trends read it month by month.
_MONTHLESS = ("generation", "case_id", "version", "items_digest")
oversight_months = sa.Table(
    "oversight_months",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("until", sa.Date),
    *(
        sa.Column(column.name, column.type, nullable=column.nullable)
        for column in oversight_cases.columns
        if column.name not in _MONTHLESS
    ),
    sa.Index("ix_oversight_months_team", "generation", "team", "month"),
    sa.Index("ix_oversight_months_pdu", "generation", "pdu", "month"),
)

# The queue's open clocks: at most one row per (case, rule), rewritten when a case's clocks
# change. A rule's deadline is its start plus its threshold, so "due by D" is a range on
# `since_on` (or `since`, for hours) worked out per rule at query time.
oversight_facts = sa.Table(
    "oversight_facts",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("facts", sa.JSON, nullable=False),
)

oversight_items = sa.Table(
    "oversight_items",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("rule", sa.String(40), primary_key=True),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("practitioner_id", sa.String(100)),
    sa.Column("crn", sa.String(7), nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("since_on", sa.Date, nullable=False),
    sa.Index("ix_oversight_items_team", "generation", "team", "rule", "since_on"),
)

# -- webhooks (projections/webhooks.py, relay.py): subscriptions and their deliveries --------

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", sa.JSON, nullable=False),  # [] = every event type
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("secret", sa.LargeBinary, nullable=False),  # AES-GCM sealed
    sa.Column("status", sa.String(20), nullable=False),  # active, disabled, deleted
    sa.Column("status_reason", sa.String(500)),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("subscription_id", sa.Uuid, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("case_id", sa.Uuid, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("webhook_id", sa.String(100), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # pending, delivered, parked
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.String(500)),
    sa.Column("response_prefix", sa.String(500)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime()),
    sa.Index("ix_webhook_deliveries_status", "subscription_id", "status", "case_id", "position"),
)

# Issue 13: codes only, one row per case (docs/equality.md).
equality_cases = sa.Table(
    "equality_cases",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Uuid, primary_key=True),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("ethnic_group", sa.String(20), nullable=False),
    sa.Column("sex", sa.String(20), nullable=False),
    sa.Column("disability", sa.String(20), nullable=False),
    sa.Column("age_band", sa.String(20), nullable=False),
    sa.Column("start_date", sa.Date),
    sa.Column("licence", sa.Boolean, nullable=False),
    sa.Column("breach_or_recall", sa.Boolean, nullable=False),
    sa.Column("enforcement", sa.Boolean, nullable=False),
    sa.Column("recall", sa.Boolean, nullable=False),
    sa.Column("high_rosh", sa.Boolean, nullable=False),
    sa.Column("needs", sa.Boolean, nullable=False),
    sa.Column("crs_referral", sa.Boolean, nullable=False),
    sa.Column("inducted", sa.Boolean, nullable=False),
    sa.Column("inducted_on_time", sa.Boolean, nullable=False),
    sa.Column("terminated", sa.Boolean, nullable=False),
    sa.Column("completed", sa.Boolean, nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.Index("ix_equality_cases_team", "generation", "team"),
    sa.Index("ix_equality_cases_pdu", "generation", "pdu"),
)

# Issue 13: staff codes and training records, for /equality/workforce and mandatory training.
staff_profiles = sa.Table(
    "staff_profiles",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("aggregate_id", sa.Uuid, primary_key=True),
    sa.Column("staff_id", sa.String(100), nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("pdu", sa.String(50), nullable=False),
    sa.Column("ethnic_group", sa.String(20), nullable=False),
    sa.Column("sex", sa.String(20), nullable=False),
    sa.Column("training", sa.JSON, nullable=False),
    # The staff member's personal data was erased: codes not_stated, left out of the figures.
    sa.Column("erased", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_staff_profiles_team", "generation", "team"),
)
