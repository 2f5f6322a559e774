"""User feedback on recommended items (like, dislike, not interested), undoable.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_idx", sa.Integer, nullable=False),
        sa.Column("item_idx", sa.Integer, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_feedback_user", "feedback", ["dataset_id", "user_idx"])


def downgrade() -> None:
    op.drop_index("ix_feedback_user", "feedback")
    op.drop_table("feedback")
