"""protocol_files: protocol PDFs made by a background job (who asked, the scope, progress, the stored file).

Revision ID: 0014_protocol_files
Revises: 0013_action_list_order
Create Date: 2026-12-02 18:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_protocol_files"
down_revision = "0013_action_list_order"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'protocol_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.Column('walk_id', sa.Integer(), nullable=True),
        sa.Column('period_start', sa.Date(), nullable=True),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column(
            'state',
            sa.Enum('queued', 'running', 'done', 'failed', name='protocolfilestate', native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column('items', sa.Integer(), nullable=True),
        sa.Column('findings', sa.Integer(), nullable=True),
        sa.Column('parts', sa.Integer(), nullable=True),
        sa.Column('parts_done', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('file_key', sa.String(length=200), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['meeting_id'], ['followup_meetings.id'],
            name=op.f('fk_protocol_files_meeting_id_followup_meetings'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['users.id'], name=op.f('fk_protocol_files_requested_by_id_users'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['walk_id'], ['walks.id'], name=op.f('fk_protocol_files_walk_id_walks'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_protocol_files')),
    )
    with op.batch_alter_table('protocol_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protocol_files_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_protocol_files_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('protocol_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_protocol_files_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_protocol_files_created_at'))
    op.drop_table('protocol_files')
