"""Typed ORM tables. The schema is created and changed only by the Alembic migrations in
`migrations/versions`; this module mirrors the latest revision for queries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class DatasetRow(Base):
    __tablename__ = "datasets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    source: Mapped[dict] = mapped_column(JSON, default=dict)  # files, format, mapping
    rating_min: Mapped[float | None] = mapped_column(Float)
    rating_max: Mapped[float | None] = mapped_column(Float)
    positive_threshold: Mapped[float | None] = mapped_column(Float)  # None: every interaction positive
    n_users: Mapped[int] = mapped_column(Integer, default=0)
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    n_interactions: Mapped[int] = mapped_column(Integer, default=0)
    import_report: Mapped[dict] = mapped_column(JSON, default=dict)  # skipped rows by reason, seconds
    created_at: Mapped[datetime] = mapped_column(DateTime)
    genres_label: Mapped[str | None] = mapped_column(String)   # "Categories" etc.; None: "Genres"


class UserRow(Base):
    __tablename__ = "users"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String)
    __table_args__ = (UniqueConstraint("dataset_id", "external_id"),)


class ItemRow(Base):
    __tablename__ = "items"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String)
    title: Mapped[str | None] = mapped_column(Text)
    genres: Mapped[str | None] = mapped_column(Text)  # '|' between genres/tags
    description: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("dataset_id", "external_id"),)


class InteractionRow(Base):
    __tablename__ = "interactions"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    user_idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[int | None] = mapped_column(BigInteger)  # 64-bit (migration 0005_issue13)


class RunRow(Base):
    """A trained model (or fitted baseline), registered only once its files are complete."""
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String)  # lstm | ease | itemknn | popularity
    objective: Mapped[str | None] = mapped_column(String)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    holdout: Mapped[bool] = mapped_column(Boolean, default=True)
    device: Mapped[str | None] = mapped_column(String)
    device_name: Mapped[str | None] = mapped_column(String)
    seconds: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    artifact_dir: Mapped[str | None] = mapped_column(Text)  # relative to the store's artifact root
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RunEpochRow(Base):
    __tablename__ = "run_epochs"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    loss: Mapped[float | None] = mapped_column(Float)
    val_recall10: Mapped[float | None] = mapped_column(Float)
    val_ndcg10: Mapped[float | None] = mapped_column(Float)
    examples_per_s: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)


class FeedbackRow(Base):
    """Like / dislike / not-interested on an item, or a hide / soft weight on a category, per user;
    `active` False once undone. Entries made by one plain-words sentence share `sentence_id` (the id of
    the sentence's first entry) and carry the sentence, so they are undone together (migration 0007)."""
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    user_idx: Mapped[int] = mapped_column(Integer)
    item_idx: Mapped[int] = mapped_column(Integer)   # -1 for a category entry
    kind: Mapped[str] = mapped_column(String)  # like | dislike | not_interested | avoid | weight
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    category: Mapped[str | None] = mapped_column(Text, nullable=True)     # "genre=Horror", "body=Full-bodied"
    weight: Mapped[float | None] = mapped_column(Float, nullable=True)    # soft weight: -1 less .. +1 more
    sentence_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sentence: Mapped[str | None] = mapped_column(Text, nullable=True)


class DatabaseIdentityRow(Base):
    """One row: the random id of this database (migration 0006), written once and never changed."""
    __tablename__ = "database_identity"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SimulationRow(Base):
    """A finished feedback-loop simulation (migration 0008): its settings (policies, rounds, oracle...)."""
    __tablename__ = "simulations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String)   # done (only finished simulations are written)
    seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SimulationRoundRow(Base):
    """One policy's metrics in one round, and the lists its tracked users were shown."""
    __tablename__ = "simulation_rounds"
    simulation_id: Mapped[int] = mapped_column(ForeignKey("simulations.id", ondelete="CASCADE"), primary_key=True)
    policy: Mapped[str] = mapped_column(String, primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    lists: Mapped[dict] = mapped_column(JSON, default=dict)   # {"shown": {user: [items]}, "chosen": {user: item}}
