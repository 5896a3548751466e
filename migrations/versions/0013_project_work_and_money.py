"""project documents, changes, reports, funding and reminders

During the work and the money of an adopted project: the documents it
publishes (hash logged as project_document_published), 変更申請, 中間報告
and 実績報告 with progress per goal, 収支決算 rows and receipts, the
交付決定 and payment mode, and the reminders already sent.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:20:00
"""
from alembic import op
import sqlalchemy as sa

from portal.models.base import UTCDateTime


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _user_fk(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True)


def _proposal_fk(primary_key: bool = False) -> sa.Column:
    if primary_key:
        return sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                         primary_key=True)
    return sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                     nullable=False, index=True)


def _report_fk() -> sa.Column:
    return sa.Column('report_id', sa.Integer(), sa.ForeignKey('project_reports.id', ondelete='CASCADE'),
                     nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        'project_documents',
        sa.Column('id', sa.Integer(), primary_key=True),
        _proposal_fk(),
        sa.Column('kind', sa.String(30), nullable=False),
        sa.Column('label', sa.String(200), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('storage_name', sa.String(64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        _user_fk('created_by_id'),
        sa.UniqueConstraint('storage_name', name=op.f('uq_project_documents_storage_name')),
    )
    op.create_table(
        'project_fundings',
        _proposal_fk(primary_key=True),
        sa.Column('granted_amount', sa.Integer(), nullable=False),
        sa.Column('granted_on', sa.Date(), nullable=True),
        sa.Column('payment_mode', sa.String(20), nullable=False),
        sa.Column('advance_paid', sa.Integer(), nullable=False),
        sa.Column('interim_due', sa.Date(), nullable=True),
        sa.Column('final_due', sa.Date(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.CheckConstraint('granted_amount >= 0', name=op.f('ck_project_fundings_granted_not_negative')),
        sa.CheckConstraint('advance_paid >= 0', name=op.f('ck_project_fundings_advance_not_negative')),
    )
    op.create_table(
        'change_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        _proposal_fk(),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('budget_rows', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('department_comment', sa.Text(), nullable=False),
        sa.Column('decision_reason', sa.Text(), nullable=False),
        sa.Column('filed_at', UTCDateTime(), nullable=False),
        _user_fk('filed_by_id'),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        _user_fk('decided_by_id'),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('project_documents.id', ondelete='SET NULL'),
                  nullable=True),
    )
    op.create_table(
        'project_reports',
        sa.Column('id', sa.Integer(), primary_key=True),
        _proposal_fk(),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('activities', sa.Text(), nullable=False),
        sa.Column('return_reason', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.Column('submitted_at', UTCDateTime(), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        _user_fk('decided_by_id'),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('project_documents.id', ondelete='SET NULL'),
                  nullable=True),
        sa.UniqueConstraint('proposal_id', 'kind', name='uq_project_reports_kind'),
    )
    op.create_table(
        'report_progress',
        sa.Column('id', sa.Integer(), primary_key=True),
        _report_fk(),
        sa.Column('goal_id', sa.Integer(), sa.ForeignKey('project_goals.id', ondelete='CASCADE'), nullable=False),
        sa.Column('actual_text', sa.String(40), nullable=False),
        sa.Column('actual_number', sa.Numeric(14, 2), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.UniqueConstraint('report_id', 'goal_id', name='uq_report_progress_goal'),
    )
    op.create_table(
        'report_lines',
        sa.Column('id', sa.Integer(), primary_key=True),
        _report_fk(),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(10), nullable=False),
        sa.Column('category', sa.String(50), nullable=False),
        sa.Column('budget_amount', sa.Integer(), nullable=False),
        sa.Column('actual_text', sa.String(20), nullable=False),
        sa.Column('actual_amount', sa.Integer(), nullable=True),
        sa.CheckConstraint('budget_amount >= 0', name=op.f('ck_report_lines_budget_not_negative')),
    )
    op.create_table(
        'report_receipts',
        sa.Column('id', sa.Integer(), primary_key=True),
        _report_fk(),
        sa.Column('storage_name', sa.String(64), nullable=False),
        sa.Column('original_name', sa.String(255), nullable=False),
        sa.Column('content_type', sa.String(50), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(), nullable=False),
        _user_fk('uploaded_by_id'),
        sa.UniqueConstraint('storage_name', name=op.f('uq_report_receipts_storage_name')),
    )
    op.create_table(
        'project_reminders',
        sa.Column('id', sa.Integer(), primary_key=True),
        _proposal_fk(),
        sa.Column('key', sa.String(40), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('proposal_id', 'key', name='uq_project_reminders_key'),
    )


def downgrade() -> None:
    for table in ('project_reminders', 'report_receipts', 'report_lines', 'report_progress', 'project_reports',
                  'change_requests', 'project_fundings', 'project_documents'):
        op.drop_table(table)
