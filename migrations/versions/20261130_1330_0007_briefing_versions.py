"""Briefings as immutable versions (version, superseded_at, withdrawn_at), made by background jobs
(briefing_run); a contact's language for notices.

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


PENDING = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table('briefing_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('withdraw_earlier', sa.Boolean(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('made', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_briefing_run_status_known')),
    sa.CheckConstraint('made >= 0 AND total >= 0', name=op.f('ck_briefing_run_progress_not_negative')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_briefing_run_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_briefing_run_study_id_study'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_briefing_run_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_briefing_run'))
    )
    with op.batch_alter_table('briefing_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_briefing_run_study_id'), ['study_id'], unique=False)
        batch_op.create_index(
            'uq_briefing_run_pending_wave',
            ['wave_id'],
            unique=True,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
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
    with op.batch_alter_table('briefing_run', schema=None) as batch_op:
        batch_op.drop_index('uq_briefing_run_pending_wave')
        batch_op.drop_index(batch_op.f('ix_briefing_run_study_id'))
    op.drop_table('briefing_run')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_language_known'), type_='check')
        batch_op.drop_column('language')
    with op.batch_alter_table('briefing', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_briefing_version_positive'), type_='check')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('version')
