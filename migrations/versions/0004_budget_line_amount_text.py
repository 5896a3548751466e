"""budget lines keep the amount as typed when it is not a number of yen

A draft must keep what the person typed, valid or not: autosave used to
drop a budget row whose amount could not be read ("-30000", "1e5") or
whose category was not chosen. The row is now stored with amount 0 and
the typed text in ``amount_text``; submission asks for a correction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_text', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.drop_column('amount_text')
