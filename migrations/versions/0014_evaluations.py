"""evaluations of adopted projects and 継続

The call's evaluation settings (items, scale with a descriptor per level,
weights of the group's, the department's and the committee's evaluations,
grade bands), each side's evaluation of a project, the 相互評価 record,
the published evaluation (its PDF is a project document) and which
proposals continue an earlier project.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:45:00
"""
from alembic import op
import sqlalchemy as sa

from portal.models.base import UTCDateTime


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _user_fk(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True)


def _proposal_pk() -> sa.Column:
    return sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                     primary_key=True)


def upgrade() -> None:
    op.create_table(
        'evaluation_settings',
        sa.Column('call_id', sa.Integer(), sa.ForeignKey('calls.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('scale_max', sa.Integer(), nullable=False),
        sa.Column('level_descriptors', sa.JSON(), nullable=False),
        sa.Column('weight_group', sa.Integer(), nullable=False),
        sa.Column('weight_department', sa.Integer(), nullable=False),
        sa.Column('weight_committee', sa.Integer(), nullable=False),
        sa.Column('bands', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.CheckConstraint('weight_group + weight_department + weight_committee = 100',
                           name=op.f('ck_evaluation_settings_weights_total_100')),
        sa.CheckConstraint('scale_max >= 2 AND scale_max <= 10', name=op.f('ck_evaluation_settings_scale_range')),
    )
    op.create_table(
        'project_evaluations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('side', sa.String(20), nullable=False),
        sa.Column('scores', sa.JSON(), nullable=False),
        sa.Column('comments', sa.JSON(), nullable=False),
        sa.Column('overall_comment', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        _user_fk('updated_by_id'),
        sa.Column('submitted_at', UTCDateTime(), nullable=True),
        _user_fk('submitted_by_id'),
        sa.UniqueConstraint('proposal_id', 'side', name='uq_project_evaluations_side'),
    )
    op.create_table(
        'mutual_evaluations',
        _proposal_pk(),
        sa.Column('discussion', sa.Text(), nullable=False),
        sa.Column('agreed_notes', sa.Text(), nullable=False),
        sa.Column('written_at', UTCDateTime(), nullable=False),
        _user_fk('written_by_id'),
        sa.Column('group_confirmed_at', UTCDateTime(), nullable=True),
        sa.Column('city_confirmed_at', UTCDateTime(), nullable=True),
    )
    op.create_table(
        'evaluation_publications',
        _proposal_pk(),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('project_documents.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('combined_score', sa.String(20), nullable=False),
        sa.Column('grade', sa.String(20), nullable=False),
        sa.Column('published_at', UTCDateTime(), nullable=False),
        _user_fk('published_by_id'),
    )
    op.create_table(
        'proposal_continuations',
        _proposal_pk(),
        sa.Column('earlier_proposal_id', sa.Integer(), sa.ForeignKey('proposals.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('marked_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ('proposal_continuations', 'evaluation_publications', 'mutual_evaluations',
                  'project_evaluations', 'evaluation_settings'):
        op.drop_table(table)
