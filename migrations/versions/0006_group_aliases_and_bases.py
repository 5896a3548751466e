"""a group's 通称・略称 and 活動拠点, why the scan flagged a finding, and
staff's check of reviewer comments

The anonymisation scan looks for a group's declared short names and the
facilities it works from (reviewers never see these fields), and shows
staff the reason for each finding it offers for judgement. A reviewer's
comment naming people or organisations reaches the group only once staff
confirmed or edited it (comment_checks).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 23:00:00
"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('activity_bases', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('redaction_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=False, server_default=''))
    op.create_table('comment_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('edited_text', sa.Text(), nullable=False),
    sa.Column('decided_at', portal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_comment_checks_decided_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_comment_checks_proposal_id_proposals'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_checks')),
    sa.UniqueConstraint('proposal_id', 'source', name='uq_comment_checks_source')
    )
    with op.batch_alter_table('comment_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_checks_proposal_id'), ['proposal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('comment_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_checks_proposal_id'))
    op.drop_table('comment_checks')
    with op.batch_alter_table('redaction_findings', schema=None) as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('activity_bases')
        batch_op.drop_column('aliases')
