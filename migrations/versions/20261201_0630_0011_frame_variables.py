"""Representativeness: the enrolment-list columns a study keeps for everyone (study.frame_variables) and
each participant's values (participant.frame), the auxiliary variables of the R-indicators; and each wave's
figures per day as the scheduler computes them (representativeness_figures).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import studyapp.core.types

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing studies keep no frame variables; existing participants have no values (unknown). The server
    # defaults stay: dropping them would make SQLite copy the tables that others refer to.
    with op.batch_alter_table('study', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame_variables', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame', sa.JSON(), nullable=False, server_default='{}'))
    # Adaptive design: an extra reminder to the categories that lag behind, on a day, within a budget.
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('targeted_reminder_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('targeted_reminder_budget', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':  # SQLite cannot add a check without copying the table
        op.create_check_constraint(
            op.f('ck_wave_targeted_reminder_consistent'),
            'wave',
            '(targeted_reminder_day IS NULL) = (targeted_reminder_budget IS NULL)'
            ' AND (targeted_reminder_day IS NULL OR targeted_reminder_day >= 1)'
            ' AND (targeted_reminder_budget IS NULL OR targeted_reminder_budget >= 1)',
        )
    op.create_table(
        'representativeness_figures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('computed_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('invited', sa.Integer(), nullable=False),
        sa.Column('respondents', sa.Integer(), nullable=False),
        sa.Column('r_indicator', sa.Float(), nullable=False),
        sa.Column('r_lower', sa.Float(), nullable=False),
        sa.Column('r_upper', sa.Float(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ['wave_id'], ['wave.id'], name=op.f('fk_representativeness_figures_wave_id_wave'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_representativeness_figures')),
        sa.UniqueConstraint('wave_id', 'day', name=op.f('uq_representativeness_figures_wave_id_day')),
    )
    with op.batch_alter_table('representativeness_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_representativeness_figures_wave_id'), ['wave_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('representativeness_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_representativeness_figures_wave_id'))
    op.drop_table('representativeness_figures')
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite has it since 3.35): a batch operation would copy
    # the participant and study tables, which SQLite refuses while other tables' rows refer to them.
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_wave_targeted_reminder_consistent'), 'wave', type_='check')
    op.execute('ALTER TABLE wave DROP COLUMN targeted_reminder_budget')
    op.execute('ALTER TABLE wave DROP COLUMN targeted_reminder_day')
    op.execute('ALTER TABLE participant DROP COLUMN frame')
    op.execute('ALTER TABLE study DROP COLUMN frame_variables')
