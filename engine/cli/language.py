"""`llmrec encode`, `llmrec search` and `llmrec feedback say`: the pretrained language encoder."""
from __future__ import annotations

from engine.cli.main import add_common, at_least, emit_json, name_text
from engine.cli.models import TextProgress
from engine.data.dataset import index_of, load_dataset
from engine.encoder.catalogue import encode_catalogue, encoder_by_name
from engine.errors import EngineError, NotFoundError
from engine.explore.feedback import list_feedback
from engine.explore.live_list import UserRecommendations
from engine.explore.similarity import attach_semantic, semantic_encoder_name
from engine.language.plain_words import apply, understand
from engine.language.search import MODES, search_items
from engine.runs.loaded import load_run
from engine.store import repository as repo


def register(sub) -> None:
    p = sub.add_parser("encode", help="embed a dataset's item texts with the pretrained encoder (cached, incremental)")
    p.add_argument("--dataset", required=True, type=name_text, help="dataset name (llmrec datasets lists them)")
    p.add_argument("--backend", default="keras", choices=("keras", "numpy"),
                   help="keras (TensorFlow, CPU or GPU; default) or numpy")
    p.add_argument("--batch-size", type=at_least(1), default=64, help="texts per encoder batch (default 64)")
    p.add_argument("--encoder", default="auto", choices=("auto", "minilm", "static"),
                   help="auto (default): the full MiniLM up to 100,000 items, above that the static "
                        "minilm-static (averaged token embeddings, far faster)")
    add_common(p)
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("search", help="find items by words, meaning, attributes and title (hybrid)")
    p.add_argument("query", help="what to look for: a title, words, attributes (\"full-bodied Portuguese red\") "
                                 "or a description (\"animated film for kids\")")
    p.add_argument("--dataset", required=True, type=name_text, help="dataset name (llmrec datasets lists them)")
    p.add_argument("--k", type=at_least(1), default=20, help="how many results (default 20)")
    p.add_argument("--mode", default="hybrid", choices=MODES,
                   help="hybrid (default): BM25 words + encoder meaning + the attributes the query names + "
                        "titles; lexical: BM25 only; dense: the encoder only (needs `llmrec encode`)")
    add_common(p)
    p.set_defaults(func=cmd_search)


def cmd_encode(args, store) -> int:
    ds = load_dataset(store, args.dataset)
    s = encode_catalogue(store, ds, backend=args.backend, batch_size=args.batch_size, encoder=args.encoder,
                         progress=None if args.json else TextProgress())
    if args.json:
        emit_json(s.__dict__)
    else:
        rate = f", {s.encoded / s.seconds:.0f} items/s" if s.encoded and s.seconds else ""
        print(f"{s.dataset}: {s.n_items} items, {s.encoded} encoded, {s.reused} reused from the cache "
              f"in {s.seconds:.1f} s{rate} ({s.encoder}, {s.path})")
    return 0


def cmd_search(args, store) -> int:
    ds = load_dataset(store, args.dataset)
    try:
        attach_semantic(store, ds)
    except EngineError:
        if args.mode == "dense":
            raise
    res = search_items(ds, args.query, args.k, mode=args.mode)
    encoder = semantic_encoder_name(ds) if res.dense else None
    if args.json:
        emit_json({"query": res.query, "mode": res.mode, "seconds": res.seconds, "encoder": encoder,
                   "understood": [c.__dict__ for c in res.constraints], "understood_text": res.describe(),
                   "hits": [h.__dict__ for h in res.hits]})
        return 0
    arms = {"hybrid": "words + meaning + attributes + titles" if res.dense else
            "words + attributes + titles; the catalogue is not encoded, so no meaning "
            f"(llmrec encode --dataset {ds.info.name})", "lexical": "words (BM25)", "dense": "meaning"}[res.mode]
    print(f"({res.mode}: {arms}{f'; vectors: {encoder}' if encoder else ''})")
    if res.constraints:
        print(f"Understood: {res.describe()}")
    for r, h in enumerate(res.hits, 1):
        label = f" — {h.label}" if h.label else ""
        parts = [f"meaning {h.meaning:.2f}" if res.dense else "", f"words {h.lexical:.1f}" if h.lexical else "",
                 f"title {h.title_match:.1f}" if h.title_match else "",
                 f"attributes {h.constraints_met:.0%}" if res.constraints else ""]
        print(f"{r:3d}. {h.title}{label} [{', '.join(h.genres)}]  {'  '.join(p for p in parts if p)}  "
              f"({h.external_id})")
    return 0


def latest_run(store, dataset_id: int) -> int | None:
    with store.session() as s:
        runs = repo.list_runs(s, dataset_id)
    return runs[-1].id if runs else None


def cmd_say(args, store) -> int:
    """`llmrec feedback say --dataset D --user U "..."`: show what was understood, then apply it
    through the feedback engine (unless --dry-run) and show the re-ranked list."""
    if not args.text:
        raise EngineError('feedback say needs the words, e.g. llmrec feedback say --dataset D --user U "no horror"')
    run_id = args.run if args.run is not None else latest_run(store, load_dataset(store, args.dataset).info.id)
    if run_id is None:
        raise NotFoundError(f"dataset {args.dataset!r} has no trained run yet; train one first (llmrec train)")
    run = load_run(store, run_id)
    ds = run.dataset
    try:
        attach_semantic(store, ds)               # items by meaning need the encoded catalogue; titles and genres do not
    except EngineError:
        pass
    user = index_of(ds.user_ids, args.user, "user", ds.info.name)
    u = understand(args.text, ds, encoder=encoder_by_name(semantic_encoder_name(ds)))
    lines = u.describe(ds)
    recs = UserRecommendations(run, user, store)
    ids, rows = _apply_all_or_nothing(store, ds.info.id, user, lambda: [] if args.dry_run or not u.actions
                                      else apply(u, recs), recs)
    if args.json:
        emit_json({"understood": lines, "feedback_ids": ids, "applied": bool(ids),
                   "questions": [{"phrase": q.phrase, "column": q.column, "choices": list(q.choices),
                                  "items": [str(ds.item_ids[i]) for i in q.items]} for q in u.questions],
                   "list": [{"item": r.external_id, "title": r.title} for r in rows]})
        return 0
    print("Understood:" if u.actions else ("Not applied yet:" if u.questions else "Nothing understood."))
    for line in lines:
        print(f"  {line}")
    if u.actions and not ids and not args.dry_run:
        print("Nothing in your list matched, so nothing changed.")
    if ids:
        print(f"Applied as one action: feedback {', '.join(map(str, ids))} (undo the whole sentence: llmrec "
              f"feedback undo --dataset {ds.info.name} --user {args.user} --id {ids[0]})")
        print("Your list now:")
        for r in rows:
            print(f"  {r.rank:2d}. {r.title} [{', '.join(r.genres)}]")
    return 0


def _apply_all_or_nothing(store, dataset_id: int, user: int, do_apply, recs):
    """(feedback ids, re-ranked rows): a sentence records several likes one by one, so when a later
    one (or the re-ranking after them) fails, the ones already recorded are removed again: a failed
    command leaves the user's feedback as it was."""
    before = {e.id for e in list_feedback(store, dataset_id, user)}
    try:
        ids = do_apply()
        rows = recs.rerank(0.0, "mmr", 10).rows if ids else ()
    except BaseException:
        try:
            added = [e.id for e in list_feedback(store, dataset_id, user) if e.id not in before]
            if added:
                with store.write_session() as s:
                    repo.delete_feedback(s, added)
        except Exception:   # noqa: BLE001 - the first failure is the one to report
            pass
        raise
    return ids, rows
