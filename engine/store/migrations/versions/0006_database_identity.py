"""Each database gets an identity (a random id written once): model folders in an artifacts folder
that several databases share record the id of the database that wrote them, so a tidy-up removes only
its own leftovers (issue 19).

Revision ID: 0006_identity
Revises: 0005_issue13
"""
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0006_identity"
down_revision = "0005_issue13"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "database_identity",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.bulk_insert(table, [{"id": uuid.uuid4().hex,
                            "created_at": datetime.now(timezone.utc).replace(tzinfo=None)}])


def downgrade() -> None:
    op.drop_table("database_identity")
