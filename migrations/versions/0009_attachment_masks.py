"""attachments redacted in place: image pages, QR codes and masks

The pages of an attachment that carry images or QR codes (found at the
scan) and the official's decision on each (confirm, mask regions, exclude),
kept on review_attachments (issue 14).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 02:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_attachments') as batch_op:
        batch_op.add_column(sa.Column('visual_pages', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('page_decisions', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('review_attachments') as batch_op:
        batch_op.drop_column('page_decisions')
        batch_op.drop_column('visual_pages')
