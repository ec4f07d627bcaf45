"""Invitation states: 'expired' was declared but never set; the lifecycle (studyapp.core.lifecycle) has none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "state IN ('planned', 'sent', 'opened', 'started', 'completed', 'failed', 'expired')"
NEW = "state IN ('planned', 'sent', 'opened', 'started', 'completed', 'failed')"


def _replace(condition: str) -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_invitation_state_known'), type_='check')
        batch_op.create_check_constraint('state_known', condition)


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    _replace(OLD)
