"""Runs (trained models and fitted baselines) and their per-epoch metrics.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.String, nullable=False),
        sa.Column("objective", sa.String),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("holdout", sa.Boolean, nullable=False),
        sa.Column("device", sa.String),
        sa.Column("device_name", sa.String),
        sa.Column("seconds", sa.Float),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("artifact_dir", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "run_epochs",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("loss", sa.Float),
        sa.Column("val_recall10", sa.Float),
        sa.Column("val_ndcg10", sa.Float),
        sa.Column("examples_per_s", sa.Float),
        sa.Column("seconds", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("run_epochs")
    op.drop_table("runs")
