"""Duplicates nearby and "what happened to my finding": agreements ("Jag håller med"), the record of outcome
mails sent to reporters, and the optional address participants leave for them.

Revision ID: 0008_agreements_notices
Revises: 0007_session_tokens
Create Date: 2026-12-02 08:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_agreements_notices'
down_revision = "0008_promise_kinds"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'finding_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('walk_id', sa.Integer(), nullable=True),
        sa.Column('photo_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_agreements_finding_id_findings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finding_agreements_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['walk_id'], ['walks.id'], name=op.f('fk_finding_agreements_walk_id_walks'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_finding_agreements_photo_id_photos'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_agreements')),
        sa.UniqueConstraint('finding_id', 'user_id', name=op.f('uq_finding_agreements_finding_id')),
    )
    with op.batch_alter_table('finding_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_agreements_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_agreements_user_id'), ['user_id'], unique=False)
    op.create_table(
        'finding_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.Enum('resolved', 'rejected', name='noticeoutcome', native_enum=False, length=20),
                  nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_notices_finding_id_findings'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_notices')),
        sa.UniqueConstraint('finding_id', 'outcome', name=op.f('uq_finding_notices_finding_id')),
    )
    with op.batch_alter_table('finding_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_notices_finding_id'), ['finding_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_email', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notify_email')
    with op.batch_alter_table('finding_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_notices_finding_id'))
    op.drop_table('finding_notices')
    with op.batch_alter_table('finding_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_agreements_user_id'))
        batch_op.drop_index(batch_op.f('ix_finding_agreements_finding_id'))
    op.drop_table('finding_agreements')
