"""Suggested places remember who typed them, so that erasing a person finds their suggestions; users.erased_at.

Revision ID: 0005_erasure
Revises: 0004_late_findings
Create Date: 2026-12-02 05:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005_erasure"
down_revision = "0004_late_findings"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("suggested_places", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggested_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_suggested_places_suggested_by_id"), ["suggested_by_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_suggested_places_suggested_by_id_users"), "users",
                                    ["suggested_by_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("suggested_places", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_suggested_places_suggested_by_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_suggested_places_suggested_by_id"))
        batch_op.drop_column("suggested_by_id")
