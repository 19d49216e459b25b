"""failed_jobs: jobs (mail, later protocols and exports) whose every attempt failed, shown to the admin.

Revision ID: 0012_failed_jobs
Revises: 0011_indexes
Create Date: 2026-12-02 13:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_failed_jobs"
down_revision = "0011_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'failed_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.Column('function', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('arguments', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queue', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_jobs')),
    )
    with op.batch_alter_table('failed_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_jobs_failed_at'), ['failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('failed_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failed_jobs_failed_at'))
    op.drop_table('failed_jobs')
