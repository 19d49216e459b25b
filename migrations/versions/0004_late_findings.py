"""Late findings: when a walk was closed, and which findings reached the server after that.

Revision ID: 0004_late_findings
Revises: 0003
Create Date: 2026-12-02 05:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_late_findings'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrived_after_close', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # Walks closed before this revision: their last change is the best guess of when that was.
    op.execute("UPDATE walks SET closed_at = updated_at WHERE status IN ('completed', 'followed_up')")


def downgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_column('arrived_after_close')
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
