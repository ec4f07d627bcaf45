"""fieldwork: tokens, outbox claims, templates, mailbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 20:33:55.679142
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import studyapp.core.types

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mailbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('raw', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_message'))
    )
    with op.batch_alter_table('mailbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailbox_message_message_id'), ['message_id'], unique=False)

    op.create_table('message_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('invitation', 'reminder')", name=op.f('ck_message_template_kind_known')),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_message_template_language_known')),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_message_template_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_template')),
    sa.UniqueConstraint('study_id', 'kind', 'language', name=op.f('uq_message_template_study_id_kind_language'))
    )
    with op.batch_alter_table('message_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_template_study_id'), ['study_id'], unique=False)

    op.create_table('invitation_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_invitation_token_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_token_hash'))
    )
    with op.batch_alter_table('invitation_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_token_invitation_id'), ['invitation_id'], unique=False)

    # Links already sent keep working: their hashes move to the new table.
    op.execute(
        "INSERT INTO invitation_token (invitation_id, token_hash, created_at) "
        "SELECT id, token_hash, created_at FROM invitation WHERE token_hash IS NOT NULL"
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invitation_token_hash'), type_='unique')
        batch_op.drop_column('token_hash')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('claimed_at', studyapp.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_outbox_message_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_message_status_known'),
                                         "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('claimed_by', server_default=None)


def downgrade() -> None:
    op.execute("UPDATE outbox_message SET status = 'pending' WHERE status = 'sending'")
    op.execute("UPDATE outbox_message SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_message_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_message_status_known'),
                                         "status IN ('pending', 'sent', 'failed')")
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.VARCHAR(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invitation_token_hash'), ['token_hash'])
    # Only one link per invitation fits the old column: the first one sent.
    op.execute(
        "UPDATE invitation SET token_hash = (SELECT t.token_hash FROM invitation_token t "
        "WHERE t.invitation_id = invitation.id ORDER BY t.id LIMIT 1)"
    )

    with op.batch_alter_table('invitation_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_token_invitation_id'))

    op.drop_table('invitation_token')
    with op.batch_alter_table('message_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_template_study_id'))

    op.drop_table('message_template')
    with op.batch_alter_table('mailbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_message_message_id'))

    op.drop_table('mailbox_message')
