"""`llmrec import`, `llmrec datasets`, `llmrec stats`, `llmrec demo`: getting data in and seeing what is there."""
from __future__ import annotations

import re
import sys
import time

from engine.cli.main import SEED, PendingFile, add_common, at_least, emit_json, name_text, number
from engine.cli.models import TextProgress
from engine.data.demo import DEMO_NAME, DEMO_SEED, create_demo_dataset
from engine.data.demo_stream import write_scaled_demo
from engine.data.stats import compute_stats, stats_record
from engine.errors import InputError, UsageError, shorten
from engine.ingest import Exclude, detect_format, import_files
from engine.ingest.append import append_files
from engine.ingest.formats import with_mapping
from engine.ingest.mapping_file import check_scale, load_mapping, mapping_json
from engine.store import repository as repo

EXCLUDE_HELP = ("skip rows matching a rule and count them: [REASON:]COLUMN^=PREFIX (starts with), "
                "COLUMN==VALUE, or COLUMN<NUMBER; e.g. 'cancellation:InvoiceNo^=C'")


def register(sub) -> None:
    p = sub.add_parser("import", help="import an interactions file (and optionally an item file) as a dataset",
                       description="Import interaction data. MovieLens (100K, 1M/10M, latest), MovieTweetings "
                                   "and CSV/TSV files with the usual column names need no options. A folder "
                                   "stands for the known files inside it. Generic files: interactions file "
                                   "first, then an optional item file. Columns are header names or 1-based "
                                   "numbers.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="the interactions file (or a folder or zip), then an "
                   "optional item file")
    p.add_argument("--name", type=name_text, help="dataset name (default: the folder or file name)")
    p.add_argument("--format", default="auto",
                   choices=["auto", "movielens-100k", "movielens", "movietweetings", "csv"],
                   help="the files' format (default auto: recognised from the files)")
    g = p.add_argument_group("reading (generic CSV/TSV; sniffed when not given)")
    g.add_argument("--delimiter", help="column separator: ',', 'tab', '|', '::', ';' or 'space' (runs of spaces)")
    g.add_argument("--header", dest="has_header", action="store_true", default=None, help="the first line names the columns")
    g.add_argument("--no-header", dest="has_header", action="store_false", help="the first line is data")
    g.add_argument("--encoding", help="text encoding, e.g. utf-8, latin-1")
    g = p.add_argument_group("column mapping (generic CSV/TSV)")
    for opt, what in (("user", "user id"), ("item", "item id"), ("rating", "rating (omit for implicit data)"),
                      ("timestamp", "timestamp (epoch seconds or ISO date)"),
                      ("item-id", "item id in the item file"), ("title", "item title"),
                      ("description", "item description")):
        g.add_argument(f"--{opt}", metavar="COLUMN", help=f"column of the {what}")
    g.add_argument("--genres", metavar="COLUMN", action="append",
                   help="column of the genres/categories; repeat to merge several (e.g. --genres Type "
                        "--genres Grapes); list cells ([...], '|' or ';' separated) are split")
    g.add_argument("--genres-label", metavar="NAME", type=name_text,
                   help="what the genres are called in the app (default: Genres, or Categories when taken "
                        "from columns not named genres)")
    g.add_argument("--text", metavar="COLUMN", action="append",
                   help="an item column to add to the item's text as 'column: value'; repeat for several "
                        "(replaces the detected ones)")
    g.add_argument("--no-text", action="store_true", help="no labelled text columns (only title, genres, description)")
    g.add_argument("--mapping", metavar="FILE",
                   help="reuse a saved mapping (JSON or TOML, e.g. from --save-mapping or the wizard); "
                        "options given here override it")
    g.add_argument("--save-mapping", metavar="FILE", help="write the mapping used to FILE (JSON) for next time")
    g.add_argument("--timestamp-format", choices=["auto", "epoch", "iso"], default=None,
                   help="how times are written: epoch seconds, ISO dates, or auto (sniffed)")
    g.add_argument("--genre-sep", default=None, type=name_text, help="separator between genres (default '|')")
    g.add_argument("--implicit", action="store_true", help="ignore any rating column: every interaction is positive")
    g.add_argument("--skip-missing-user", action="store_true",
                   help="skip (and count) rows with an empty user instead of failing")
    g.add_argument("--exclude", action="append", default=[], metavar="RULE", help=EXCLUDE_HELP)
    g.add_argument("--rating-min", type=number(), help="lowest rating of the scale (below --rating-max)")
    g.add_argument("--rating-max", type=number(), help="highest rating of the scale")
    g.add_argument("--threshold", type=number(), help="positive threshold (rating >= threshold is a positive)")
    p.add_argument("--on-unknown-item", choices=["error", "drop"], default="error",
                   help="interactions whose item is not in the item file: fail (default) or drop and count")
    p.add_argument("--append", metavar="DATASET", type=name_text,
                   help="add these files to an existing dataset: new users and items get new ids, existing ids "
                        "stay as they are (trained runs stay valid); a repeated (user, item) keeps the later event")
    p.add_argument("--dry-run", action="store_true", help="validate the whole input, write nothing")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_common(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("datasets", help="list the datasets with their counts")
    add_common(p)
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("stats", help="one dataset's figures: counts, rating histogram, long tails, top "
                                     "categories and the evaluation split (the app's Datasets view)")
    p.add_argument("--dataset", required=True, type=name_text, help="dataset name (or id)")
    add_common(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("demo", help="create the bundled demo dataset, or one of the demo's kind at any size",
                       description="Without options: the bundled demo (2,500 users, 3,000 items). With --users, "
                                   "--items or --interactions: a deterministic dataset of the demo's kind at that "
                                   "size, generated and written in blocks (bounded memory).")
    p.add_argument("--users", type=at_least(1), help="number of users (scaled demo; default 2500)")
    p.add_argument("--items", type=at_least(1), help="number of items (scaled demo; default 3000)")
    p.add_argument("--interactions", type=at_least(1),
                   help="number of interactions (scaled demo; default 37 per user)")
    p.add_argument("--name", type=name_text, help="dataset name (scaled demo; default from the sizes)")
    p.add_argument("--seed", type=SEED, help="random seed, 0 to 2**32-1 (scaled demo)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_common(p)
    p.set_defaults(func=cmd_demo)


def _col(value: str | None):
    if value is None:
        return None
    return int(value) - 1 if value.isdigit() and int(value) > 0 else value


def parse_exclude(rule: str):
    """'[REASON:]COLUMN^=PREFIX' | 'COLUMN==VALUE' | 'COLUMN<NUMBER' -> Exclude."""
    m = re.fullmatch(r"(?:([^:]+):)?(.+?)(\^=|==|<)(.*)", rule)
    if m is None or not m.group(2):
        raise InputError(f"cannot read the exclude rule {shorten(rule)}; {EXCLUDE_HELP}")
    reason, column, op, value = m.groups()
    op_name = {"^=": "prefix", "==": "eq", "<": "lt"}[op]
    if op_name == "lt":
        try:
            float(value)
        except ValueError:
            raise InputError(f"exclude rule {shorten(rule)}: expected a number after '<'") from None
    label = {"prefix": f"{column} starts with {value}", "eq": f"{column} is {value}",
             "lt": f"{column} below {value}"}[op_name]
    return Exclude(column=_col(column), op=op_name, value=value, reason=reason or label)


def mapping_overrides(args) -> dict:
    over: dict = {}
    if getattr(args, "mapping", None):
        over.update(load_mapping(args.mapping))
    for key in ("user", "item", "rating", "timestamp", "item_id", "title", "description"):
        v = _col(getattr(args, key))
        if v is not None:
            over[key] = v
    genres = [_col(c) for c in getattr(args, "genres", None) or []]
    if genres:
        over["genres"] = genres[0] if len(genres) == 1 else tuple(genres)
    if getattr(args, "genres_label", None):
        over["genres_label"] = args.genres_label
    if getattr(args, "text", None):
        over["text"] = tuple(_col(c) for c in args.text)
    if getattr(args, "no_text", False):
        over["text"] = ()
    if args.implicit:
        over["rating"] = None
    if args.timestamp_format:
        over["timestamp_format"] = args.timestamp_format
    if args.genre_sep is not None:
        over["genre_sep"] = args.genre_sep
    if args.skip_missing_user:
        over["skip_missing_user"] = True
    if args.exclude:
        over["exclude"] = tuple(parse_exclude(r) for r in args.exclude)
    given = [getattr(args, a) for a in ("rating_min", "rating_max", "threshold")]
    try:
        check_scale(*given, names=("--rating-min", "--rating-max", "--threshold"))
    except InputError as exc:       # options alone: an argparse-style usage error
        raise UsageError(str(exc)) from None
    for key, value in zip(("rating_min", "rating_max", "positive_threshold"), given):
        if value is not None:
            over[key] = value
    check_scale(over.get("rating_min"), over.get("rating_max"), over.get("positive_threshold"),
                where=getattr(args, "mapping", None))   # the mapping file and the options together
    return over


def _progress_printer(enabled: bool):
    state = {"last": -1}

    def show(u) -> None:
        if not enabled or u.stage != "interactions" or not u.bytes_total:
            return
        pct = int(100 * u.fraction)
        if pct // 5 != state["last"]:
            state["last"] = pct // 5
            print(f"\r  reading: {pct:3d}%  {u.rows:,} rows", end="", file=sys.stderr, flush=True)
    return show


DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "space": " ", "whitespace": " ", "comma": ",", "pipe": "|",
                   "semicolon": ";"}


def cmd_import(args, store) -> int:
    if args.append and (args.dry_run or args.name):
        raise UsageError("--append adds to an existing dataset: it takes neither --name nor --dry-run")
    show = _progress_printer(not args.quiet and not args.json and sys.stderr.isatty())
    detected = None
    if args.delimiter is not None or args.has_header is not None or args.encoding is not None:
        delim = DELIMITER_WORDS.get((args.delimiter or "").lower(), args.delimiter)
        detected = detect_format(args.paths, args.format, delimiter=delim, has_header=args.has_header,
                                 encoding=args.encoding)
    over = mapping_overrides(args)
    mapping_file = None
    if args.save_mapping:   # checked and written aside first; put in place only once the import succeeded
        mapping_file = PendingFile(args.save_mapping, "--save-mapping")
        detected = with_mapping(detected or detect_format(args.paths, args.format), over or None)
        over = {}
        mapping_file.write_text(mapping_json(detected.mapping))
    try:
        if args.append:
            appended = _append(args, store, detected, over, show)
        else:
            summary = import_files(store, args.paths, name=args.name, format=args.format, detected=detected,
                                   mapping=over or None, on_unknown_item=args.on_unknown_item,
                                   dry_run=args.dry_run, progress=show)
    except BaseException:
        if mapping_file is not None:
            mapping_file.discard()
        raise
    if mapping_file is not None:
        mapping_file.commit()
    if args.append:
        _report_append(args, appended)
        return 0
    if not args.quiet and not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        emit_json(summary.to_dict())
        return 0
    head = "Dry run, nothing written" if summary.dry_run else f"Imported dataset {summary.name!r} (id {summary.dataset_id})"
    print(f"{head}: format {summary.format}")
    print(f"  users {summary.n_users:,}  items {summary.n_items:,}  interactions {summary.n_interactions:,}")
    scale = ("implicit (every interaction is a positive)" if summary.rating_min is None else
             f"{summary.rating_min:g}-{summary.rating_max:g}, positive at >= {summary.positive_threshold:g}")
    print(f"  ratings: {scale}")
    print(f"  rows read {summary.rows_read:,}; repeated (user, item) rows collapsed to the latest: "
          f"{summary.duplicates:,}")
    if summary.skipped:
        print("  skipped: " + ", ".join(f"{k}: {v:,}" for k, v in summary.skipped.items()))
    else:
        print("  skipped: none")
    print(f"  {summary.seconds:.2f} s")
    return 0


def _append(args, store, detected, over, show):
    return append_files(store, args.paths, args.append, format=args.format, detected=detected, mapping=over or None,
                        on_unknown_item=args.on_unknown_item, progress=show)


def _report_append(args, a) -> None:
    if not args.quiet and not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        emit_json(a.to_dict())
        return
    print(f"Appended to dataset {a.name!r} (id {a.dataset_id}): +{a.new_users:,} users, +{a.new_items:,} items, "
          f"+{a.new_interactions:,} interactions, {a.updated_interactions:,} updated by a later event")
    print(f"  now users {a.n_users:,}  items {a.n_items:,}  interactions {a.n_interactions:,}  ({a.seconds:.2f} s)")


def cmd_datasets(args, store) -> int:
    with store.session() as s:
        infos = repo.list_datasets(s)
    if args.json:
        emit_json([{"id": d.id, "name": d.name, "n_users": d.n_users, "n_items": d.n_items,
                    "n_interactions": d.n_interactions, "rating_min": d.rating_min, "rating_max": d.rating_max,
                    "positive_threshold": d.positive_threshold, "format": d.source.get("format"),
                    "genres_label": d.genres_label,
                    "created_at": d.created_at} for d in infos])
        return 0
    if not infos:
        print("no datasets yet: try `llmrec demo` or `llmrec import PATH`")
        return 0
    print(f"{'id':>4}  {'name':<28} {'users':>9} {'items':>9} {'interactions':>13}  ratings")
    for d in infos:
        scale = "implicit" if d.rating_min is None else f"{d.rating_min:g}-{d.rating_max:g} (>= {d.positive_threshold:g})"
        print(f"{d.id:>4}  {d.name:<28} {d.n_users:>9,} {d.n_items:>9,} {d.n_interactions:>13,}  {scale}")
    return 0


def cmd_stats(args, store) -> int:
    with store.session() as s:
        ds_id = repo.get_dataset(s, args.dataset).id
    doc = stats_record(compute_stats(store, ds_id))
    if args.json:
        emit_json(doc)
        return 0
    print(f"{doc['name']} (id {doc['id']}): users {doc['n_users']:,}  items {doc['n_items']:,}  "
          f"interactions {doc['n_interactions']:,}  positives {doc['n_positives']:,}")
    hist = doc["rating_histogram"]
    print("ratings: " + ("implicit (no ratings)" if not hist else
                         "  ".join(f"{h['rating']:g}: {h['count']:,}" for h in hist)))
    for who in ("item", "user"):
        t = doc[f"per_{who}"]
        print(f"interactions per {who}: most {t['max']:,}, median {t['median']:g}, fewest {t['min']:,}; "
              f"the busiest 20% hold {t['top_20pct_share']:.0%}")
    cats = doc["top_categories"]
    print(f"{doc['genres_label']}: " + (", ".join(f"{c['name']} ({c['items']:,})" for c in cats) if cats else "none"))
    split = doc["split"]
    if split:
        print("evaluation split: " + ", ".join(f"{k} {v:,}" for k, v in split.items() if isinstance(v, int)))
        print(f"  ({split.get('rule', '')})")
    return 0


def cmd_demo(args, store) -> int:
    if any(getattr(args, k) is not None for k in ("users", "items", "interactions", "name", "seed")):
        return cmd_scaled_demo(args, store)
    with store.session() as s:
        existed = repo.dataset_exists(s, DEMO_NAME)
    ds_id = create_demo_dataset(store)
    with store.session() as s:
        d = repo.get_dataset(s, ds_id)
    if args.json:
        emit_json({"id": d.id, "name": d.name, "n_users": d.n_users, "n_items": d.n_items,
                   "n_interactions": d.n_interactions, "created": not existed})
        return 0
    verb = "already there" if existed else "created"
    print(f"Demo dataset {d.name!r} (id {d.id}) {verb}: users {d.n_users:,}  items {d.n_items:,}  "
          f"interactions {d.n_interactions:,}")
    return 0


def cmd_scaled_demo(args, store) -> int:

    n_users = args.users or 2500
    n_items = args.items or 3000
    n_inter = args.interactions or 37 * n_users
    show = not args.quiet and not args.json and sys.stderr.isatty()
    start = time.perf_counter()
    ds_id = write_scaled_demo(store, args.name, n_users=n_users, n_items=n_items, n_interactions=n_inter,
                              seed=DEMO_SEED if args.seed is None else args.seed,
                              progress=TextProgress() if show else None)
    seconds = time.perf_counter() - start
    with store.session() as s:
        d = repo.get_dataset(s, ds_id)
    if args.json:
        emit_json({"id": d.id, "name": d.name, "n_users": d.n_users, "n_items": d.n_items,
                   "n_interactions": d.n_interactions, "created": True, "seconds": round(seconds, 2)})
        return 0
    print(f"Demo dataset {d.name!r} (id {d.id}) created in {seconds:.1f} s: users {d.n_users:,}  "
          f"items {d.n_items:,}  interactions {d.n_interactions:,}")
    return 0
