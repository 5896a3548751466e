"""notices (通知書) and their 文書番号 counter

One numbered notice per proposal and published version, its PDF kept under
a generated name with its SHA-256; the per-fiscal-year counter the numbers
are taken from. Scheduled reminders need no table: they are outbox
messages whose first delivery waits for ``next_attempt_at``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 02:55:00
"""
from alembic import op
import sqlalchemy as sa

from portal.models.base import UTCDateTime


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notice_counters',
        sa.Column('fiscal_year', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('last_serial', sa.Integer(), nullable=False),
    )
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('call_id', sa.Integer(), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False, index=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('fiscal_year', sa.Integer(), nullable=False),
        sa.Column('serial', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(60), nullable=False),
        sa.Column('outcome', sa.String(20), nullable=False),
        sa.Column('issued_at', UTCDateTime(), nullable=False),
        sa.Column('pdf_name', sa.String(64), nullable=True),
        sa.Column('pdf_sha256', sa.String(64), nullable=False),
        sa.UniqueConstraint('fiscal_year', 'serial', name=op.f('uq_notices_fiscal_year_serial')),
        sa.UniqueConstraint('proposal_id', 'version', name=op.f('uq_notices_proposal_version')),
    )


def downgrade() -> None:
    op.drop_table('notices')
    op.drop_table('notice_counters')
