"""Feedback-loop simulations (issue 23): one row per simulation with its settings, one row per policy
and round with that round's metrics and the tracked users' lists.

Revision ID: 0008_simulations
Revises: 0007_sentences
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_simulations"
down_revision = "0007_sentences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="SET NULL")),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("seconds", sa.Float),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "simulation_rounds",
        sa.Column("simulation_id", sa.Integer, sa.ForeignKey("simulations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("policy", sa.String, primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("lists", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("simulation_rounds")
    op.drop_table("simulations")
