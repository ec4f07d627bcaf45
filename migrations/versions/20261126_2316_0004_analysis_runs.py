"""Analysis runs: queued, run by the scheduler, results stored as JSON.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:16:35.349560
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import studyapp.core.types

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analysis_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_analysis_run_status_known')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_analysis_run_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_analysis_run_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_run'))
    )
    with op.batch_alter_table('analysis_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_run_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_run_study_id'), ['study_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('analysis_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_run_study_id'))
        batch_op.drop_index(batch_op.f('ix_analysis_run_cohort_id'))

    op.drop_table('analysis_run')
