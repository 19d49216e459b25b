"""Medborgarlöfte commitment kinds: quarters with a follow-up, resolved within N days (optionally for one
category); the old `activity` values are converted (followup_meetings → quarterly_followup).

Revision ID: 0008_promise_kinds
Revises: 0007_session_tokens
Create Date: 2026-12-02 08:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_promise_kinds'
down_revision = "0007_session_tokens"
branch_labels = None
depends_on = None

KINDS = ('walks', 'quarterly_followup', 'resolved_actions', 'resolved_within')
# "Uppföljning varje kvartal" counted meetings; it now counts quarters, so a target above 4 is capped.
TO_KIND = {'walks': 'walks', 'followup_meetings': 'quarterly_followup', 'resolved_actions': 'resolved_actions'}
TO_ACTIVITY = {'walks': 'walks', 'quarterly_followup': 'followup_meetings', 'resolved_actions': 'resolved_actions',
               'resolved_within': 'resolved_actions'}


def _table(*columns):
    return sa.table('promise_commitments', sa.column('id', sa.Integer()), sa.column('target', sa.Integer()),
                    *columns)


def upgrade():
    with op.batch_alter_table('promise_commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum(*KINDS, name='promisekind', native_enum=False, length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column('days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('category_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_promise_commitments_category_id_categories'), 'categories',
                                    ['category_id'], ['id'])
    table = _table(sa.column('activity', sa.String(20)), sa.column('kind', sa.String(20)))
    connection = op.get_bind()
    for old, new in TO_KIND.items():
        connection.execute(table.update().where(table.c.activity == old).values(kind=new))
    connection.execute(table.update().where(table.c.kind == 'quarterly_followup', table.c.target > 4)
                       .values(target=4))
    with op.batch_alter_table('promise_commitments', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.Enum(*KINDS, name='promisekind', native_enum=False,
                                                            length=20), nullable=False)
        batch_op.drop_column('activity')


def downgrade():
    old_kinds = ('walks', 'followup_meetings', 'resolved_actions')
    with op.batch_alter_table('promise_commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity', sa.Enum(*old_kinds, name='promiseactivity', native_enum=False,
                                                          length=20), nullable=True))
    table = _table(sa.column('activity', sa.String(20)), sa.column('kind', sa.String(20)))
    connection = op.get_bind()
    for new, old in TO_ACTIVITY.items():
        connection.execute(table.update().where(table.c.kind == new).values(activity=old))
    with op.batch_alter_table('promise_commitments', schema=None) as batch_op:
        batch_op.alter_column('activity', existing_type=sa.Enum(*old_kinds, name='promiseactivity',
                                                                native_enum=False, length=20), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_promise_commitments_category_id_categories'), type_='foreignkey')
        batch_op.drop_column('category_id')
        batch_op.drop_column('days')
        batch_op.drop_column('kind')
