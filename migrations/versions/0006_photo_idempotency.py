"""One photo row per finding and upload content: unique (finding_id, source_sha256).

Rows that concurrent double submits made before the constraint existed are merged first (the oldest row
of each pair is kept; the files are content-addressed and shared, so none is lost).

Revision ID: 0006_photo_idempotency
Revises: 0005_erasure
Create Date: 2026-12-02 05:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_photo_idempotency"
down_revision = "0005_erasure"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "DELETE FROM photos WHERE finding_id IS NOT NULL AND id NOT IN ("
        " SELECT MIN(id) FROM photos WHERE finding_id IS NOT NULL GROUP BY finding_id, source_sha256)"
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_photos_finding_id"), ["finding_id", "source_sha256"])


def downgrade():
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_photos_finding_id"), type_="unique")
