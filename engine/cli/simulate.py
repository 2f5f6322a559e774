"""`llmrec simulate`: the feedback-loop simulator (engine.simulation) from the command line, and the
listing / export of stored simulations."""
from __future__ import annotations

from engine.cli.main import SEED, PendingFile, add_common, at_least, emit_json, name_text, number, record_id
from engine.cli.models import TextProgress
from engine.errors import UsageError
from engine.simulation import export
from engine.simulation.loop import UPDATES, parse_policy
from engine.simulation.oracle import ChoiceModel
from engine.simulation.service import (
    DEFAULT_POLICIES,
    SimulationRequest,
    get_simulation,
    list_simulations,
    run_simulation,
)
from engine.simulation.space import SPACES
from engine.simulation.updates import WARM_EPOCHS, default_update

TABLE = ("cumulative_utility", "ndcg", "coverage", "gini_exposure", "pop_shown", "ild", "homogenisation",
         "homogenisation_vs_ideal")
SHORT = {"cumulative_utility": "cum_util", "gini_exposure": "gini", "pop_shown": "pop", "homogenisation": "homog",
         "homogenisation_vs_ideal": "homog-ideal", "homogenisation_ideal": "homog_of_ideal",
         "coverage": "cover", "choice_rate": "chose", "pop_consumed": "pop_cons"}


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate the feedback loop: rounds of recommending, choosing and "
                       "retraining, per re-ranking policy (or list / show stored simulations)")
    p.add_argument("--dataset", type=name_text, help="the dataset (its latest run unless --run)")
    p.add_argument("--run", type=record_id("run"), help="the run whose model is the system under test")
    p.add_argument("--policy", action="append", metavar="METHOD:T",
                   help=f"a re-ranking policy, mmr:T, ild:T (marginal ILD) or dpp:T with T in [0, 1]; repeat for several "
                        f"(default: {' '.join(DEFAULT_POLICIES)})")
    p.add_argument("--rounds", type=at_least(1, 1000), default=20, help="rounds of recommending and choosing (default 20)")
    p.add_argument("--users", type=at_least(1), default=2000, help="simulated users (a seeded sample)")
    p.add_argument("--k", type=at_least(1, 100), default=10, help="list length shown each round")
    p.add_argument("--candidates", type=at_least(1, 1000), default=100, help="the model's top-N each policy re-ranks")
    p.add_argument("--update-every", type=at_least(1), default=5, help="update the system every R rounds")
    p.add_argument("--update", choices=UPDATES,
                   help="how the system learns from what was consumed (TRAIN plus it): refit, a fresh fit (the "
                        "baselines); warm, the LSTM trained further from its weights; none, the model is kept "
                        "(for the LSTM: fold-in, its user tower reads the longer histories). Default: refit, "
                        "warm for an LSTM run")
    p.add_argument("--warm-epochs", type=at_least(1, 100), default=WARM_EPOCHS,
                   help=f"--update warm: epochs of training per update (default {WARM_EPOCHS})")
    p.add_argument("--oracle", default="ease", choices=("ease", "itemknn", "als", "popularity"),
                   help="the true-preference model, fitted on all interactions")
    p.add_argument("--space", choices=SPACES, default="model", help="the space policies diversify in and ILD uses")
    p.add_argument("--temperature", type=number(above=0), default=ChoiceModel.temperature,
                   help=f"choice noise: lower picks the best shown item more surely (default {ChoiceModel.temperature})")
    p.add_argument("--position-decay", type=number(0), default=ChoiceModel.position_decay,
                   help="position bias: slot r's appeal falls by this x log(1 + r) (default "
                        f"{ChoiceModel.position_decay}; 0: no bias)")
    p.add_argument("--no-choice", type=number(), default=ChoiceModel.no_choice,
                   help="utility of choosing nothing, on the oracle's 0-1 scale (1: the user's favourite item; "
                        f"default {ChoiceModel.no_choice})")
    p.add_argument("--seed", type=SEED, default=0, help="the random stream's seed: a seed repeats a run exactly")
    p.add_argument("--csv", metavar="FILE", help="also write the rounds as CSV (settings in its first lines)")
    p.add_argument("--list", action="store_true", help="list the stored simulations and stop")
    p.add_argument("--show", type=record_id("simulation"), metavar="ID", help="print a stored simulation")
    add_common(p)
    p.set_defaults(func=cmd_simulate)


def cmd_simulate(args, store) -> int:
    if args.list:
        return _list(args, store)
    if args.show is not None:
        sim = get_simulation(store, args.show)
        return _output(args, sim)
    if args.run is None and args.dataset is None:
        raise UsageError("give --run or --dataset (or --list)")
    from engine.runs.queries import resolve_run
    info = resolve_run(store, args.dataset, args.run)
    policies = tuple(args.policy or DEFAULT_POLICIES)
    for text in policies:
        parse_policy(text)                   # a bad policy is an error before any work
    pending = PendingFile(args.csv, "--csv") if args.csv else None
    update = args.update or default_update(info.model)
    request = SimulationRequest(run_id=info.id, policies=policies, users=args.users, rounds=args.rounds, k=args.k,
                                candidates=args.candidates, update_every=args.update_every, update=update,
                                warm_epochs=args.warm_epochs,
                                seed=args.seed, oracle=args.oracle, space=args.space,
                                choice=ChoiceModel(args.temperature, args.position_decay, args.no_choice))
    sim_id = run_simulation(store, request, progress=None if args.json else TextProgress())
    sim = get_simulation(store, sim_id)
    return _output(args, sim, pending)


def _output(args, sim: dict, pending: PendingFile | None = None) -> int:
    if pending is None and getattr(args, "csv", None):
        pending = PendingFile(args.csv, "--csv")
    if pending is not None:
        pending.write_text(export.to_csv(sim))
        pending.commit()
    if args.json:
        emit_json(dict(id=sim["id"], dataset=sim["dataset"], run_id=sim["run_id"], settings=sim["settings"],
                       rounds=[dict(policy=r["policy"], round=r["round"], **r["metrics"]) for r in sim["rounds"]]))
        return 0
    print(format_table(sim))
    return 0


def _cell(v) -> str:
    return "-" if v is None else f"{v:.4f}" if abs(v) < 100 else f"{v:.1f}"


def format_table(sim: dict, keys=TABLE) -> str:
    """One block per round: a row per policy, a column per key metric."""
    st = sim["settings"]
    lines = [f"simulation {sim['id']}: dataset {sim['dataset']}, run {sim['run_id']} ({st.get('model', '?')}), "
             f"{st.get('users')} users, {st.get('rounds')} rounds, k {st.get('k')}, update {st.get('update')}"
             f"{' (' + str(st['warm_epochs']) + ' epoch)' if st.get('warm_epochs') else ''} every "
             f"{st.get('update_every')}, oracle {st.get('oracle')}, space {st.get('space')}, seed {st.get('seed')}, "
             f"{sim['seconds']:.1f} s"]
    width = max([len(p) for p in st.get("policies", [])] + [6]) + 2
    head = f"{'round':>5}  {'policy':<{width}}" + "".join(f"{SHORT.get(k, k):>12}" for k in keys)
    lines.append(head)
    by_round: dict[int, list[dict]] = {}
    for r in sim["rounds"]:
        by_round.setdefault(r["round"], []).append(r)
    for rnd in sorted(by_round):
        for r in by_round[rnd]:
            lines.append(f"{rnd:>5}  {r['policy']:<{width}}" + "".join(f"{_cell(r['metrics'].get(k)):>12}" for k in keys))
    return "\n".join(lines)


def _list(args, store) -> int:
    dataset_id = None
    if args.dataset is not None:
        from engine.runs.queries import list_datasets
        match = [d for d in list_datasets(store) if d.name == args.dataset or str(d.id) == args.dataset]
        if not match:
            raise UsageError(f"no dataset {args.dataset!r}")
        dataset_id = match[0].id
    rows = list_simulations(store, dataset_id)
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no simulations yet: `llmrec simulate --dataset D`")
        return 0
    for r in rows:
        st = r["settings"]
        print(f"{r['id']:>4}  {r['dataset']}  run {r['run_id']}  {st.get('users')} users x {st.get('rounds')} rounds  "
              f"{' '.join(st.get('policies', []))}  {r['created_at']:%Y-%m-%d %H:%M}")
    return 0

