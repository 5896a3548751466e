"""assignment modes (全員 / k人) and withdrawal (辞退) of panel members

A call says whether the whole panel scores every proposal ("all") or each
proposal is scored by ``reviewers_per_proposal`` members ("k"), assigned
automatically at release. A panel member who withdraws mid-period keeps
their row (and pseudonym, and submitted sheets); ``withdrawn_at`` marks it,
and the reason stays with the secretariat.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 02:20:00
"""
from alembic import op
import sqlalchemy as sa

from portal.models.base import UTCDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: recreating ``calls`` would break the
    # score triggers of 0002 that name it (see 0007).
    op.add_column('calls', sa.Column('assignment_mode', sa.String(10), nullable=False, server_default='all'))
    op.add_column('calls', sa.Column('reviewers_per_proposal', sa.Integer(), nullable=True))
    op.add_column('panel_members', sa.Column('withdrawn_at', UTCDateTime(), nullable=True))
    op.add_column('panel_members', sa.Column('withdrawal_reason', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('panel_members', 'withdrawal_reason')
    op.drop_column('panel_members', 'withdrawn_at')
    op.drop_column('calls', 'reviewers_per_proposal')
    op.drop_column('calls', 'assignment_mode')
