"""enrolment uploads, sign-up links, linkage codes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:16:48.928103
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import studyapp.core.types

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('payload_encrypted', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('enrolment', 'responses')", name=op.f('ck_pending_upload_kind_known')),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_pending_upload_study_id_study'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_pending_upload_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_upload')),
    sa.UniqueConstraint('token', name=op.f('uq_pending_upload_token'))
    )
    with op.batch_alter_table('pending_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_upload_study_id'), ['study_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_upload_user_id'), ['user_id'], unique=False)

    op.create_table('linkage_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('elements', sa.JSON(), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_linkage_code_response_id_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_linkage_code')),
    sa.UniqueConstraint('response_id', name=op.f('uq_linkage_code_response_id'))
    )
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linkage', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default='contact'))
        batch_op.add_column(sa.Column('signup_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('signup_open', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint(batch_op.f('uq_cohort_signup_code'), ['signup_code'])
        batch_op.create_check_constraint(op.f('ck_cohort_linkage_known'), "linkage IN ('contact', 'code')")
    # The defaults only filled existing rows; the application always sets these columns.
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.alter_column('linkage', server_default=None)
        batch_op.alter_column('signup_open', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cohort_linkage_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_cohort_signup_code'), type_='unique')
        batch_op.drop_column('signup_open')
        batch_op.drop_column('signup_code')
        batch_op.drop_column('linkage')

    op.drop_table('linkage_code')
    with op.batch_alter_table('pending_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_upload_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_upload_study_id'))

    op.drop_table('pending_upload')
