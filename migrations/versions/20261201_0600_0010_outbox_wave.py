"""Each outbox row of an invitation carries its wave (outbox_message.wave_id), so the fieldwork figures count
a wave's mail in the outbox alone instead of joining every message to its invitation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wave_id', sa.Integer(), nullable=True))
    # Rows queued before this revision: their invitation's wave (notifications to users have none).
    op.execute(
        "UPDATE outbox_message SET wave_id = (SELECT invitation.wave_id FROM invitation"
        " WHERE invitation.id = outbox_message.invitation_id) WHERE invitation_id IS NOT NULL"
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_wave_id'), ['wave_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_message_wave_id_wave'), 'wave', ['wave_id'], ['id'], ondelete='CASCADE'
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_outbox_message_wave_with_invitation'), '(invitation_id IS NULL) = (wave_id IS NULL)'
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_message_wave_with_invitation'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_wave_id_wave'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_wave_id'))
        batch_op.drop_column('wave_id')
