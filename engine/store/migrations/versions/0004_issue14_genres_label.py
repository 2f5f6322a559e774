"""What a dataset's genres are called in the app: "Genres" for films, "Categories" when they come from
other columns (a wine's type and grapes). NULL reads as "Genres".

Revision ID: 0004_issue14
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_issue14"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("genres_label", sa.String, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("genres_label")
