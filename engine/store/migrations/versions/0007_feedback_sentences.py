"""Plain-words sentences as one undoable action, and feedback on categories (issue 21): nullable
`category` and `weight` (a hide or a soft weight on "genre=Horror" / "type=White" instead of an item),
`sentence_id` (the id of the sentence's first entry, shared by all its entries) and `sentence` (its text).

Revision ID: 0007_sentences
Revises: 0006_identity
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_sentences"
down_revision = "0006_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feedback", sa.Column("category", sa.Text, nullable=True))
    op.add_column("feedback", sa.Column("weight", sa.Float, nullable=True))
    op.add_column("feedback", sa.Column("sentence_id", sa.Integer, nullable=True))
    op.add_column("feedback", sa.Column("sentence", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:     # SQLite drops columns through a table copy
        for name in ("sentence", "sentence_id", "weight", "category"):
            batch.drop_column(name)
