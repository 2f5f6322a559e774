"""`llmrec frontier`, `similar`, `feedback`, `explore`: diversity and similarity headless."""
from __future__ import annotations

import sys

from engine.cli.language import cmd_say
from engine.cli.main import FRACTION, PendingFile, add_common, at_least, emit_json, name_text, record_id
from engine.cli.models import TextProgress
from engine.data.dataset import index_of, load_dataset
from engine.errors import EngineError, NotFoundError, shorten
from engine.explore.feedback import group_sentences, list_feedback, record_feedback, undo_sentence
from engine.explore.frontier import USER_PARTS, frontier, to_csv, to_table
from engine.explore.live_list import UserRecommendations, list_record
from engine.explore.rerank import METHODS
from engine.explore.rerank_space import AUTO, RERANK_SPACES, heatmap_space
from engine.explore.similarity import attach_semantic, nearest_items
from engine.explore.space_choice import attach_encoded, choose_space, resolve_rerank_space
from engine.runs.loaded import load_run
from engine.runs.queries import resolve_run

MAX_POINTS = 101   # trade-off steps of 0.01: finer says nothing new, and each point costs a full pass


def register(sub) -> None:
    p = sub.add_parser("frontier", help="accuracy vs diversity as the re-ranking trade-off goes from 0 to 1")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    p.add_argument("--method", default="mmr", choices=METHODS, help="re-ranker: mmr (maximal marginal relevance; default), dpp (determinantal point process) or calibration (match the user's category mix)")
    p.add_argument("--points", type=at_least(2, MAX_POINTS), default=11,
                   help=f"trade-off values from 0 to 1, 2 to {MAX_POINTS} (default 11; each point re-ranks "
                        "every user's list once)")
    p.add_argument("--k", type=at_least(1), default=10, help="list length the metrics are measured at (default 10)")
    p.add_argument("--candidates", type=at_least(1), default=100, help="candidates per user re-ranked (default 100)")
    p.add_argument("--max-users", type=at_least(1), help="only the first N evaluated users (quick look)")
    p.add_argument("--space", default="model", choices=RERANK_SPACES + ("all",),
                   help="space the re-ranker measures diversity in: model (default), categories (genres or "
                        "attributes), semantic (the encoded catalogue), text (TF-IDF), or all: one sweep per "
                        "available space on the validation half of the users, with the space auto would choose")
    p.add_argument("--users", default="all", choices=USER_PARTS,
                   help="evaluated users measured: all (default), selection (the half the space is chosen on) "
                        "or report (the other half)")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    add_common(p)
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser("similar", help="items most like an item, in the model, text or genre space")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    p.add_argument("--item", required=True, help="external item id")
    p.add_argument("--space", default="model", choices=("model", "text", "genres", "semantic"),
                   help="model (the run's item vectors; default), text (TF-IDF), genres (categories) or semantic "
                        "(the language model, once the catalogue is encoded)")
    p.add_argument("--n", type=at_least(1), default=10, help="how many similar items (default 10)")
    add_common(p)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("explore", help="one user's re-ranked list with explanations and list metrics "
                                       "(the same list as the app's Explore view)")
    p.add_argument("--dataset", type=name_text, help="dataset name (default: the run's); with no --run, its latest run")
    p.add_argument("--run", type=record_id("run"), help="run id (default: the dataset's latest run)")
    p.add_argument("--user", help="external user id (default: the app's default user)")
    p.add_argument("--tradeoff", "--diversity", dest="diversity", type=FRACTION, default=0.0,
                   help="diversity trade-off 0-1 (default 0)")
    p.add_argument("--method", default="mmr", choices=METHODS, help="re-ranker: mmr (maximal marginal relevance; default), dpp (determinantal point process) or calibration (match the user's category mix)")
    p.add_argument("--space", default="auto", choices=(AUTO,) + RERANK_SPACES,
                   help="space the re-ranker measures diversity in: auto (default: the run's space chosen on its "
                        "validation users), model, categories (genres or attributes), semantic, text")
    p.add_argument("--heatmap-space", choices=("model", "text", "genres", "semantic"),
                   help="similarity space of the list's matrix (JSON 'similarity'); default: the re-ranking space")
    p.add_argument("--k", type=at_least(1), default=10, help="list length (default 10)")
    add_common(p)
    p.set_defaults(func=cmd_explore)

    p = sub.add_parser("feedback", help="like / dislike / not-interested an item for a user, list or undo; "
                                        "or say it in plain words (say \"I don't like Inception\")")
    p.add_argument("action", choices=("like", "dislike", "not_interested", "list", "undo", "say"),
                   help="record a like / dislike / not_interested of --item, list the user's feedback, undo it, "
                        "or say it in plain words")
    p.add_argument("text", nargs="?", help="with say: what you want, in plain words")
    p.add_argument("--run", type=record_id("run"), help="with say: the run whose list to change (default: the latest)")
    p.add_argument("--dry-run", action="store_true", help="with say: only show what was understood")
    p.add_argument("--dataset", required=True, type=name_text, help="dataset name (llmrec datasets lists them)")
    p.add_argument("--user", required=True, help="external user id")
    p.add_argument("--item", help="external item id (like, dislike, not_interested)")
    p.add_argument("--id", type=record_id("feedback"), nargs="+", help="feedback id(s) to undo (default: the latest); "
                   "an id of a plain-words sentence undoes the whole sentence")
    add_common(p)
    p.set_defaults(func=cmd_feedback)


def cmd_frontier(args, store) -> int:
    out = PendingFile(args.csv, "--csv") if args.csv is not None else None    # checked before the work
    run = load_run(store, args.run)
    if args.space == "all":
        return _frontier_all(args, store, run, out)
    space = resolve_rerank_space(store, run, args.space, args.method)
    rows = frontier(run, args.method, args.points, progress=None if args.json else TextProgress(),
                    k=args.k, n_candidates=args.candidates, max_users=args.max_users, space=space, users=args.users)
    if out is not None:
        with out:
            out.write_text(to_csv(rows))
    if args.json:
        emit_json({"run": args.run, "model": run.info.model, "method": args.method, "rows": rows})
    else:
        print(f"run {args.run} ({run.info.model}) on {run.info.dataset_name}, {args.method} in the {space} space, "
              f"{rows[0]['n_users'] if rows else 0} users, top-{args.candidates} candidates re-ranked to {args.k}")
        print(to_table(rows))
    return 0


def _frontier_all(args, store, run, out) -> int:
    """One sweep per available space on the selection users, their attainable areas and the choice."""
    attach_encoded(store, run.dataset)
    choice = choose_space(run, args.method, points=args.points, k=args.k, n_candidates=args.candidates,
                          max_users=args.max_users, progress=None if args.json else TextProgress())
    rows = [r for s in choice.curves for r in choice.curves[s]]
    if out is not None:
        with out:
            out.write_text(to_csv(rows))
    if args.json:
        emit_json({"run": args.run, "model": run.info.model, "method": args.method, "users": "selection",
                   "chosen": choice.space, "areas": choice.areas, "rows": rows})
        return 0
    print(f"run {args.run} ({run.info.model}) on {run.info.dataset_name}, {args.method}, {choice.n_users} "
          f"selection users (half of the evaluated users), top-{args.candidates} re-ranked to {args.k}")
    for space, curve in choice.curves.items():
        print(f"\n{space} space: attainable area {choice.areas[space]:.4f}")
        print(to_table(curve))
    print(f"\nchosen (auto): {choice.space}")
    return 0


def cmd_similar(args, store) -> int:
    run = load_run(store, args.run)
    ds = run.dataset
    if args.space == "semantic":
        attach_semantic(store, ds)
    item = index_of(ds.item_ids, args.item, "item", ds.info.name)
    idx, sims = nearest_items([item], args.space, dataset=ds, model=run.model, n=args.n)
    rows = [{"item": str(ds.item_ids[i]), "title": ds.titles[i], "genres": list(ds.genres[i]),
             "similarity": round(float(s), 4)} for i, s in zip(idx[0], sims[0])]
    if args.json:
        emit_json({"item": args.item, "title": ds.titles[item], "space": args.space, "similar": rows})
    else:
        print(f"items most like {ds.titles[item]} ({args.space} space):")
        for r in rows:
            print(f"  {r['similarity']:.3f}  {r['item']}  {r['title']}  [{', '.join(r['genres'])}]")
    return 0


def cmd_explore(args, store) -> int:
    run = load_run(store, resolve_run(store, args.dataset, args.run).id)
    ds = run.dataset
    space = resolve_rerank_space(store, run, args.space, args.method)
    heat = args.heatmap_space or heatmap_space(space)
    if heat == "semantic":
        attach_semantic(store, ds)
    user = run.default_user() if args.user is None else index_of(ds.user_ids, args.user, "user", ds.info.name)
    view = UserRecommendations(run, user, store, space="semantic" if space == "semantic" else None, rerank_space=space)
    lst = view.rerank(args.diversity, args.method, args.k)
    m = lst.metrics
    if args.json:
        doc = list_record(lst, dataset=ds.info.name, run=run.info.id, user=str(ds.user_ids[user]), k=args.k,
                          space=heat, similarity=view.similarity([r.item for r in lst.rows], heat))
        doc["rows"] = [dict(r.__dict__, because=[c.__dict__ for c in r.because]) for r in lst.rows]
        emit_json(doc)
        return 0
    for r in lst.rows:
        flag = " (promoted)" if r.promoted else ""
        print(f"{r.rank:3d}. {r.title} [{', '.join(r.genres)}] score {r.score:.4f}{flag}")
        print(f"     {r.explanation}")
    print(f"ILD {m.space} {m.ild_model:.3f}, ILD genres {m.ild_genre:.3f}, mean pairwise cosine "
          f"{m.mean_cosine:.3f}, novelty {m.novelty:.2f} bits")
    return 0


def cmd_feedback(args, store) -> int:
    if args.action == "say":
        return cmd_say(args, store)
    if args.text:
        raise EngineError(f"feedback {args.action} takes no words ({shorten(args.text)}); did you mean `feedback say`?")
    ds = load_dataset(store, args.dataset)
    user = index_of(ds.user_ids, args.user, "user", ds.info.name)
    if args.action in ("like", "dislike", "not_interested"):
        if not args.item:
            raise EngineError(f"{args.action} needs --item")
        item = index_of(ds.item_ids, args.item, "item", ds.info.name)
        fid = record_feedback(store, ds.info.id, user, item, args.action)
        if args.json:
            emit_json({"id": fid, "kind": args.action, "item": args.item})
        else:
            print(f"recorded {args.action} on {ds.titles[item]} (feedback {fid})")
        return 0
    entries = list_feedback(store, ds.info.id, user)
    if args.action == "undo":
        if not entries:
            raise NotFoundError(f"user {args.user} has no feedback to undo")
        fids = args.id if args.id is not None else [entries[-1].id]
        for fid in fids:
            if not any(e.id == fid for e in entries):
                raise NotFoundError(f"no active feedback {fid} for user {args.user}")
        undone: list[int] = []
        for fid in fids:            # an id of a sentence undoes the whole sentence
            if fid not in undone:
                undone += undo_sentence(store, fid)
        if args.json:
            emit_json({"undone": undone[0] if len(undone) == 1 else undone})
        else:
            said = {e.sentence for e in entries if e.id in undone and e.sentence}
            what = f" (the whole sentence {', '.join(f'“{t}”' for t in sorted(said))})" if said else ""
            print(f"undid feedback {', '.join(map(str, undone))}{what}")
        return 0
    rows = [_entry_row(ds, e) for e in entries]
    if args.json:
        emit_json(rows)
        return 0
    for group in group_sentences(entries):
        first = group[0]
        if first.sentence_id is None:
            r = _entry_row(ds, first)
            print(f"{r['id']:6d}  {r['when']}  {r['kind']:<15} {r['item']}  {r['title']}")
            continue
        print(f"{first.id:6d}  {first.created_at}  {'sentence':<15} “{first.sentence}” "
              f"({len(group)} {'entry' if len(group) == 1 else 'entries'}; undo --id {first.id} takes it all back)")
        for e in group:
            r = _entry_row(ds, e)
            print(f"        {r['id']:6d}  {r['kind']:<15} {r['item'] + '  ' if r['item'] else ''}{r['title']}")
    if not rows:
        print("no feedback", file=sys.stderr)
    return 0


def _entry_row(ds, e) -> dict:
    on_item = e.item >= 0
    weight = f" {e.weight:+g}" if e.kind == "weight" else ""
    return {"id": e.id, "kind": e.kind, "item": str(ds.item_ids[e.item]) if on_item else "",
            "title": ds.titles[e.item] if on_item else f"{e.category}{weight}", "when": e.created_at,
            "category": e.category, "weight": e.weight, "sentence_id": e.sentence_id, "sentence": e.sentence}
