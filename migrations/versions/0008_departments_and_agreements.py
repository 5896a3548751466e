"""departments (担当課) and their accounts, agreements (協定書) and goals

City departments as organisations with their own accounts (Role.DEPARTMENT:
the users.role column is a plain string, so the new value needs no change
there), the department a proposal is assigned to, and the agreement of an
adopted proposal with both sides' confirmations, and the project's goals
(成果目標・活動指標) with their target values.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 23:20:00
"""
from alembic import op
import sqlalchemy as sa

from portal.models.base import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _user_fk(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True)


def upgrade() -> None:
    op.create_table(
        'departments',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        _user_fk('created_by_id'),
        sa.UniqueConstraint('name', name=op.f('uq_departments_name')),
    )
    op.create_table(
        'department_members',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('joined_at', UTCDateTime(), nullable=False),
    )
    op.create_table(
        'department_invitations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('email', sa.String(254), nullable=False),
        sa.Column('display_name', sa.String(100), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        _user_fk('invited_by_id'),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('accepted_at', UTCDateTime(), nullable=True),
        _user_fk('user_id'),
        sa.UniqueConstraint('token_hash', name=op.f('uq_department_invitations_token_hash')),
    )
    op.create_table(
        'proposal_departments',
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('assigned_at', UTCDateTime(), nullable=False),
        _user_fk('assigned_by_id'),
    )
    op.create_table(
        'agreements',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'), nullable=False),
        sa.Column('status', sa.Enum('DRAFT', 'CONCLUDED', name='agreementstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('purpose', sa.Text(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=True),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('city_roles', sa.Text(), nullable=False),
        sa.Column('group_roles', sa.Text(), nullable=False),
        sa.Column('city_amount', sa.Integer(), nullable=False),
        sa.Column('cost_sharing', sa.Text(), nullable=False),
        sa.Column('conditions', sa.Text(), nullable=False),
        sa.Column('information_sharing', sa.Text(), nullable=False),
        sa.Column('publicity', sa.Text(), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        _user_fk('created_by_id'),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.Column('concluded_at', UTCDateTime(), nullable=True),
        sa.Column('pdf_name', sa.String(64), nullable=True),
        sa.Column('pdf_sha256', sa.String(64), nullable=True),
        sa.UniqueConstraint('proposal_id', name=op.f('uq_agreements_proposal_id')),
        sa.CheckConstraint('city_amount >= 0', name=op.f('ck_agreements_city_amount_not_negative')),
        sa.CheckConstraint('revision >= 1', name=op.f('ck_agreements_revision_positive')),
        sa.CheckConstraint("status <> 'CONCLUDED' OR pdf_sha256 IS NOT NULL",
                           name=op.f('ck_agreements_concluded_has_pdf')),
    )
    op.create_table(
        'agreement_confirmations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('agreement_id', sa.Integer(), sa.ForeignKey('agreements.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('side', sa.Enum('CITY', 'GROUP', name='agreementside', native_enum=False, length=10),
                  nullable=False),
        _user_fk('user_id'),
        sa.Column('confirmed_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('agreement_id', 'revision', 'side', name='uq_agreement_confirmations_side'),
    )
    op.create_table(
        'project_goals',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('kind', sa.Enum('OUTCOME', 'ACTIVITY', name='goalkind', native_enum=False, length=10),
                  nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('target_number', sa.Numeric(14, 2), nullable=True),
        sa.Column('unit', sa.String(20), nullable=False),
        sa.Column('target_text', sa.String(200), nullable=False),
        sa.Column('proposed_at', UTCDateTime(), nullable=False),
        _user_fk('proposed_by_id'),
        sa.Column('confirmed_at', UTCDateTime(), nullable=True),
        _user_fk('confirmed_by_id'),
        sa.CheckConstraint('target_number IS NULL OR target_number >= 0',
                           name=op.f('ck_project_goals_target_not_negative')),
        sa.CheckConstraint('target_number IS NOT NULL OR length(target_text) > 0',
                           name=op.f('ck_project_goals_has_target')),
    )


def downgrade() -> None:
    for table in ('project_goals', 'agreement_confirmations', 'agreements', 'proposal_departments',
                  'department_invitations', 'department_members', 'departments'):
        op.drop_table(table)
