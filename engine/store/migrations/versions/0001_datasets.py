"""Datasets, users, items with their text, interactions.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("rating_min", sa.Float),
        sa.Column("rating_max", sa.Float),
        sa.Column("positive_threshold", sa.Float),
        sa.Column("n_users", sa.Integer, nullable=False),
        sa.Column("n_items", sa.Integer, nullable=False),
        sa.Column("n_interactions", sa.Integer, nullable=False),
        sa.Column("import_report", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String, nullable=False),
        sa.UniqueConstraint("dataset_id", "external_id"),
    )
    op.create_table(
        "items",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("genres", sa.Text),
        sa.Column("description", sa.Text),
        sa.UniqueConstraint("dataset_id", "external_id"),
    )
    op.create_table(
        "interactions",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_idx", sa.Integer, primary_key=True),
        sa.Column("item_idx", sa.Integer, primary_key=True),
        sa.Column("rating", sa.Float),
        sa.Column("timestamp", sa.Integer),
    )


def downgrade() -> None:
    for name in ("interactions", "items", "users", "datasets"):
        op.drop_table(name)
