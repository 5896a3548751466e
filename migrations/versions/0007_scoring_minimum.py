"""the minimum of valid score sheets a proposal needs (採点の成立)

A call may set how many valid sheets a proposal needs for its score to
count; NULL keeps the default, every assigned member not excluded for a
conflict. A proposal under it gets no rank and no recommendation, and its
decision needs a published reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 23:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


CHECK = 'min_valid_sheets IS NULL OR min_valid_sheets >= 1'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # Not a batch: recreating ``calls`` would break the score triggers of
        # 0002 that name it. SQLite adds a column with its own CHECK in place.
        op.execute(f'ALTER TABLE calls ADD COLUMN min_valid_sheets INTEGER '
                   f'CONSTRAINT ck_calls_min_valid_sheets_positive CHECK ({CHECK})')
        return
    op.add_column('calls', sa.Column('min_valid_sheets', sa.Integer(), nullable=True))
    op.create_check_constraint(op.f('ck_calls_min_valid_sheets_positive'), 'calls', CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_calls_min_valid_sheets_positive'), 'calls', type_='check')
    op.drop_column('calls', 'min_valid_sheets')
