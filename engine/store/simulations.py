"""Repository functions of the stored simulations (tables of migration 0008): take a Session, return dicts."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from engine.store.repository import utcnow
from engine.store.schema import DatasetRow, SimulationRoundRow, SimulationRow


def save_simulation(session: Session, *, dataset_id: int, run_id: int | None, settings: dict, seconds: float,
                    rounds: list[dict]) -> int:
    """Write a finished simulation and its rounds ({policy, round, metrics, lists}) in the caller's
    transaction; returns its id."""
    row = SimulationRow(dataset_id=dataset_id, run_id=run_id, settings=settings, status="done",
                        seconds=float(seconds), created_at=utcnow())
    session.add(row)
    session.flush()
    session.add_all(SimulationRoundRow(simulation_id=row.id, policy=r["policy"], round=int(r["round"]),
                                       metrics=r["metrics"], lists=r.get("lists", {})) for r in rounds)
    session.flush()
    return row.id


def _summary(row: SimulationRow, dataset_name: str) -> dict:
    return dict(id=row.id, dataset_id=row.dataset_id, dataset=dataset_name, run_id=row.run_id,
                settings=dict(row.settings or {}), status=row.status, seconds=row.seconds,
                created_at=row.created_at)


def list_simulations(session: Session, dataset_id: int | None = None) -> list[dict]:
    q = (select(SimulationRow, DatasetRow.name).join(DatasetRow, DatasetRow.id == SimulationRow.dataset_id)
         .order_by(SimulationRow.id))
    if dataset_id is not None:
        q = q.where(SimulationRow.dataset_id == dataset_id)
    return [_summary(r, n) for r, n in session.execute(q)]


def get_simulation(session: Session, simulation_id: int) -> dict:
    """The simulation's summary plus `rounds`: [{policy, round, metrics, lists}] by policy order, then round."""
    got = None
    if 0 <= int(simulation_id) <= 2**63 - 1:
        got = session.execute(select(SimulationRow, DatasetRow.name)
                              .join(DatasetRow, DatasetRow.id == SimulationRow.dataset_id)
                              .where(SimulationRow.id == int(simulation_id))).first()
    if got is None:
        raise NotFoundError(f"no simulation {simulation_id} in this database")
    out = _summary(*got)
    order = {p: j for j, p in enumerate(out["settings"].get("policies", []))}
    rows = session.scalars(select(SimulationRoundRow).where(SimulationRoundRow.simulation_id == out["id"]))
    out["rounds"] = sorted((dict(policy=r.policy, round=r.round, metrics=dict(r.metrics or {}),
                                 lists=dict(r.lists or {})) for r in rows),
                           key=lambda r: (order.get(r["policy"], len(order)), r["policy"], r["round"]))
    return out


def count_simulations(session: Session) -> int:
    return len(session.scalars(select(SimulationRow.id)).all())


def delete_simulation(session: Session, simulation_id: int) -> None:
    session.execute(delete(SimulationRoundRow).where(SimulationRoundRow.simulation_id == simulation_id))
    session.execute(delete(SimulationRow).where(SimulationRow.id == simulation_id))
