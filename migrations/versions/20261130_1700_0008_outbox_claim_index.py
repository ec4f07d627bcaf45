"""The outbox at scale: claims read a partial index of the claimable rows in claim order; a paused wave's
pending rows are set aside (held_for_wave_id) so that they leave that index until the wave resumes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE = "status = 'pending' AND held_for_wave_id IS NULL"
CLAIMED = "status = 'sending'"
HELD = "held_for_wave_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_for_wave_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            'ix_outbox_message_claim',
            ['status', 'not_before', 'id'],
            unique=False,
            sqlite_where=sa.text(CLAIMABLE),
            postgresql_where=sa.text(CLAIMABLE),
        )
        batch_op.create_index(
            'ix_outbox_message_claimed_by',
            ['status', 'claimed_by'],
            unique=False,
            sqlite_where=sa.text(CLAIMED),
            postgresql_where=sa.text(CLAIMED),
        )
        batch_op.create_index(
            'ix_outbox_message_held_for_wave_id',
            ['held_for_wave_id'],
            unique=False,
            sqlite_where=sa.text(HELD),
            postgresql_where=sa.text(HELD),
        )
    # Rows planned before this revision: no wave is held yet; the dispatcher sets paused waves' rows aside
    # at its first claim that meets them.


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_held_for_wave_id')
        batch_op.drop_index('ix_outbox_message_claimed_by')
        batch_op.drop_index('ix_outbox_message_claim')
        batch_op.drop_column('held_for_wave_id')
