"""the 審査会 and its papers: chair's notes, minutes (議事録), the 二次審査 running order

``chair_notes``: the chair's or secretariat's note per proposal for the
meeting (never public). ``meetings``: each meeting of a call with its
minutes, a public part and a closed part; once published, the public
part's PDF name and SHA-256 (also in the process log, ``minutes_published``).
``presentation_slots`` and ``presentation_schedules``: the 二次審査 time
slots by proposal and whether the running order is published.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 02:40:00
"""
from alembic import op
import sqlalchemy as sa

from portal.models.base import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _user_fk(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True)


def _call_fk() -> sa.Column:
    return sa.Column('call_id', sa.Integer(), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False,
                     index=True)


def upgrade() -> None:
    op.create_table(
        'chair_notes',
        sa.Column('id', sa.Integer(), primary_key=True),
        _call_fk(),
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.UniqueConstraint('proposal_id', name=op.f('uq_chair_notes_proposal_id')),
    )
    op.create_table(
        'meetings',
        sa.Column('id', sa.Integer(), primary_key=True),
        _call_fk(),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('held_at', UTCDateTime(), nullable=False),
        sa.Column('place', sa.String(200), nullable=False),
        sa.Column('attendee_ids', sa.JSON(), nullable=False),
        sa.Column('other_attendees', sa.Text(), nullable=False),
        sa.Column('agenda', sa.Text(), nullable=False),
        sa.Column('discussion', sa.Text(), nullable=False),
        sa.Column('decisions', sa.Text(), nullable=False),
        sa.Column('closed_notes', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.Column('published_at', UTCDateTime(), nullable=True),
        sa.Column('pdf_name', sa.String(64), nullable=True),
        sa.Column('pdf_sha256', sa.String(64), nullable=True),
        sa.UniqueConstraint('call_id', 'number', name='uq_meetings_call_number'),
        sa.CheckConstraint('number >= 1', name=op.f('ck_meetings_number_positive')),
        sa.CheckConstraint('published_at IS NULL OR pdf_sha256 IS NOT NULL',
                           name=op.f('ck_meetings_published_has_pdf')),
    )
    op.create_table(
        'presentation_slots',
        sa.Column('id', sa.Integer(), primary_key=True),
        _call_fk(),
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'), nullable=False),
        sa.Column('starts_at', UTCDateTime(), nullable=False),
        sa.Column('ends_at', UTCDateTime(), nullable=False),
        sa.Column('room', sa.String(100), nullable=False),
        sa.UniqueConstraint('proposal_id', name=op.f('uq_presentation_slots_proposal_id')),
        sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_presentation_slots_slot_order')),
    )
    op.create_table(
        'presentation_schedules',
        sa.Column('call_id', sa.Integer(), sa.ForeignKey('calls.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('published_at', UTCDateTime(), nullable=True),
        _user_fk('published_by_id'),
        sa.Column('note', sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ('presentation_schedules', 'presentation_slots', 'meetings', 'chair_notes'):
        op.drop_table(table)
