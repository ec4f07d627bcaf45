"""Briefings as immutable versions (version, superseded_at, withdrawn_at); a contact's language for notices.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import studyapp.core.types

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('briefing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('superseded_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('version_positive', 'version >= 1')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), server_default='nl', nullable=False)
        )
        batch_op.create_check_constraint('language_known', "language IN ('nl', 'en')")


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_language_known'), type_='check')
        batch_op.drop_column('language')
    with op.batch_alter_table('briefing', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_briefing_version_positive'), type_='check')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('version')
