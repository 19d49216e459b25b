"""Indexes the lists need at 10,000 items (issue 12): a finding's action items, a period's changed items,
a participant's walks. Each was a full scan per lookup (EXPLAIN QUERY PLAN / EXPLAIN on both databases).

Revision ID: 0011_indexes
Revises: 0010_event_codes
Create Date: 2026-12-02 14:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_indexes"
down_revision = "0010_event_codes"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_action_item_findings_finding_id", "action_item_findings", "finding_id"),
    ("ix_action_events_created_at", "action_events", "created_at"),
    ("ix_walk_participants_user_id", "walk_participants", "user_id"),
]


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade():
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
