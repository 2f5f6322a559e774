"""64-bit interaction timestamps on PostgreSQL (SQLite's INTEGER is 64-bit already): epoch
milliseconds and dates far from 1970 fit, as the importer accepts them.

Revision ID: 0005_issue13
Revises: 0004_issue14
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_issue13"
down_revision = "0004_issue14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":   # nothing to change on SQLite: no table rebuild
        op.alter_column("interactions", "timestamp", type_=sa.BigInteger, existing_type=sa.Integer)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("interactions", "timestamp", type_=sa.Integer, existing_type=sa.BigInteger)
