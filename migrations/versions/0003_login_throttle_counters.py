"""login throttle: counters reserved before each check

The throttle counted rows of failures, checked the password (argon2, over a
second), then recorded the failure, so a burst of concurrent guesses all
passed the count. It now keeps one counter per (account, address) and one
per address, reserved by a conditional UPDATE before the check
(portal/auth/throttle.py). The failure rows it replaces only ever throttled
for 15 minutes and are not carried over.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:12:41.508113
"""
from alembic import op
import sqlalchemy as sa
import portal.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('account_key', sa.String(length=254), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_started_at', portal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_login_throttles_attempts_not_negative')),
    sa.PrimaryKeyConstraint('account_key', 'ip_address', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_ip_at')
        batch_op.drop_index('ix_login_failures_email_ip_at')

    op.drop_table('login_failures')


def downgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_email_ip_at', ['email', 'ip_address', 'created_at'], unique=False)
        batch_op.create_index('ix_login_failures_ip_at', ['ip_address', 'created_at'], unique=False)

    op.drop_table('login_throttles')
