"""Writes utterances.json: the plain-words fixture (issue 21). Run once, before the parser is measured on it:

    python tests/data/plain_words/make_utterances.py --db sqlite:////path/bench.db

(a database with "Demo movies", "xwines" and "tweetings" imported and an itemknn run each: see
benchmarks/plain_words.py --build). For each form a template says the sentence AND its expected intent and
list effect; only the titles, categories and users are picked from the data (a user whose top 10 holds the
items, titles of the kind the form is about), so the expectations never come from the parser. Every third
utterance is held out (not tuned on)."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
CN = {"Horror": "恐怖", "Comedy": "喜剧", "Animation": "动画", "Romance": "爱情", "Action": "动作", "Sci-Fi": "科幻",
      "War": "战争", "Thriller": "惊悚", "Drama": "剧情", "Documentary": "纪录", "Crime": "犯罪", "Mystery": "悬疑",
      "Fantasy": "奇幻", "Adventure": "冒险", "Family": "家庭", "Western": "西部", "Red": "红葡萄酒",
      "White": "白葡萄酒", "Sparkling": "起泡酒"}
GENRE_WORDS = {"war", "wars", "horror", "comedy", "drama", "action", "crime", "mystery", "romance", "family",
               "western", "music", "sport", "thriller", "fantasy", "adventure", "red", "white", "rose", "dessert",
               "sparkling", "animation", "history", "documentary", "musical"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--artifacts")
    ap.add_argument("--users", type=int, default=400)
    ap.add_argument("--probe", action="store_true",
                    help="write probe.json instead: other phrasings of the same forms (a second held-out set)")
    args = ap.parse_args()
    from engine.store import open_store
    store = open_store(args.db, artifacts=args.artifacts)
    out: list[dict] = []
    for name, short in (("Demo movies", "demo"), ("xwines", "xwines"), ("tweetings", "tweetings")):
        out += utterances_for(store, name, short, args.users, args.probe)
    for k, o in enumerate(out):
        o["id"] = k + 1
        o["held_out"] = k % 3 == 2 or args.probe
    (HERE / ("probe.json" if args.probe else "utterances.json")).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    forms = sorted({o["form"] for o in out})
    print(f"{len(out)} utterances, {len(forms)} forms: {', '.join(forms)}", file=sys.stderr)
    return 0


PROBE = {   # other phrasings of each form (probe.json), used only to measure, never to tune
    "dislike": ["Honestly {T} was terrible", "{T}? Not for me.", "I really disliked {T}", "not into {T}",
                "{T} was so dull", "I couldn't stand {T}"],
    "like": ["Loved {T}!", "{T} was fantastic", "I adore {T}", "{T} is a masterpiece"],
    "more_like": ["anything similar to {T}?", "I'd like more things like {T}", "give me more like {T}",
                  "more along the lines of {T}"],
    "not_interested": ["please stop suggesting {T}", "I've watched {T} already", "I'm not interested in {T}"],
    "negation": ["I wouldn't say I dislike {T}", "I do not hate {T}"],
    "double_negation": ["I can't say I didn't enjoy {T}", "it's not like I don't like {T}"],
    "punctuated": ["Honestly, {T} was awful", "{T} was boring", "please stop suggesting {T}"],
    "category_word": ["I hated {T}", "{T}? Not for me."],
    "misspelled": ["I hated {T}", "please stop showing {T}"],
    "two": [("{A} and {B} were both boring", "dislike"), ("I really liked {A} and also {B}", "like"),
            ("I've seen {A} and {B}", "not_interested")],
    "contrast": ["{A} was fantastic, but {B} was dull", "I loved {A}, hated {B}", "{A}: great. {B}: boring."],
    "ambiguous": ["I hated {T}", "{T} was fantastic", "please stop suggesting {T}"],
    "avoid_wine": ["I'd rather avoid {g} wines", "please, nothing {g}", "no {g} for me"],
    "avoid_film": ["I'd rather avoid {g}", "please, nothing {g}", "no {g} for me", "skip the {g} movies"],
    "soft": ["could I get less {a} and a bit more {b}?", "more {b} and less {a} please", "less {a}; more {b}"],
    "cn_dislike": "我真的不喜欢{T}", "cn_seen": "别再推荐{T}了", "cn_neutral": "我并不讨厌{T}",
    "cn_avoid_film": ["我不想看{g}片", "不要再推荐{g}片了"], "cn_avoid_wine": ["我不想喝{g}", "别推荐{g}了"],
    "less_popular": ["show me some hidden gems", "something less mainstream", "来点小众的"],
}


def utterances_for(store, name: str, short: str, n_users: int, probe: bool = False) -> list[dict]:
    """One dataset's utterances (see the module's docstring)."""
    from engine.data.dataset import load_dataset
    from engine.explore.live_list import UserRecommendations
    from engine.language.titles import normalise
    from engine.runs.loaded import load_run
    from engine.store import repository as repo
    out: list[dict] = []
    ds = load_dataset(store, name)
    with store.session() as s:
        run = load_run(store, repo.list_runs(s, ds.info.id)[-1].id)
    rng = np.random.default_rng(22 if probe else 21)
    lists = {}
    for u in range(min(n_users, ds.n_users)):
        rows = UserRecommendations(run, u).rerank(0.0, "mmr", 10).rows
        if len(rows) == 10:
            lists[u] = [r.item for r in rows]
    norm = [normalise(t) for t in ds.titles]
    counts: dict[str, int] = {}
    for t in norm:
        counts[t] = counts.get(t, 0) + 1
    bare = [re.sub(r"\s*\(\d{4}\)$", "", t) for t in ds.titles]

    catnames = {normalise(g) for gs in ds.genres for g in gs}

    def unique(i):
        return counts[norm[i]] == 1 and len(norm[i]) >= 4 and norm[i] not in catnames

    def plain(i):
        return unique(i) and not set(norm[i].split()) & GENRE_WORDS and re.fullmatch(r"[\w' ]+", bare[i])

    users = list(lists)
    rng.shuffle(users)

    used: set[int] = set()

    def pick(pred, n=1):
        """A user and n items of their top 10 satisfying pred, items not used yet preferred."""
        for fresh in (True, False):
            for u in users:
                its = [i for i in lists[u] if pred(i) and not (fresh and i in used)]
                if len(its) >= n:
                    users.remove(u)
                    users.append(u)         # rotate so users vary
                    used.update(its[:n])
                    return u, its[:n]
        return None, []

    def uid(u):
        return str(ds.user_ids[u])

    def ext(items):
        return [str(ds.item_ids[i]) for i in items]

    def add(form, text, u, actions, effect, questions=()):
        out.append({"form": form, "dataset": short, "user": uid(u), "text": text,
                    "expect": {"actions": actions, "questions": list(questions)}, "effect": effect})

    def item_forms(form, templates, kind, effect_kind, pred=plain, title=lambda i: bare[i]):
        for t in templates:
            u, its = pick(pred)
            if u is None:
                continue
            add(form, t.format(T=title(its[0])), u, [{"kind": kind, "items": ext(its)}],
                {"kind": effect_kind, "items": ext(its)})

    def tpl(key, main):
        return PROBE[key] if probe else main

    item_forms("dislike_title", tpl("dislike", ["I don't like {T}", "{T} was boring", "I hated {T}", "Not a fan of {T}",
                                                "I didn't enjoy {T} at all", "I can't stand {T}"]), "dislike", "leaves")
    item_forms("like_title", tpl("like", ["I loved {T}", "{T} was great", "I really enjoyed {T}",
                                          "{T} is one of my favourites"]), "like", "joins_history")
    item_forms("more_like", tpl("more_like", ["more like {T}", "something similar to {T}",
                                              "can you recommend something like {T}?", "more stuff like {T} please"]),
               "more_like", "leans")
    item_forms("not_interested", tpl("not_interested", ["stop recommending {T}", "I've already seen {T}",
                                                        "don't show me {T} again"]), "not_interested", "leaves_only")
    item_forms("negation", tpl("negation", ["I don't dislike {T}", "I don't hate {T}"]), "neutral", "unchanged")
    item_forms("double_negation", tpl("double_negation", ["It's not that I don't like {T}", "I don't not like {T}"]),
               "like", "joins_history")
    item_forms("punctuated_title", tpl("punctuated", ["I don't like {T}", "no more {T}", "stop recommending {T}"]),
               None, None, pred=lambda i: unique(i) and re.search(r"[:,()\-'&.!?]", bare[i]) is not None)
    item_forms("title_with_category_word", tpl("category_word", ["I don't like {T}", "{T} was boring"]), "dislike",
               "leaves", pred=lambda i: unique(i) and bool(set(norm[i].split()) & GENRE_WORDS)
               and norm[i] not in GENRE_WORDS)
    item_forms("misspelled_title", tpl("misspelled", ["I don't like {T}", "stop recommending {T}"]), None, None,
               pred=lambda i: plain(i) and max(map(len, bare[i].split())) >= 6, title=lambda i: typo(bare[i]))
    # the templates above with "None" kinds: "stop …" is not interested, the others dislikes
    for o in out:
        if o["expect"]["actions"] and o["expect"]["actions"][0]["kind"] is None:
            kind = "not_interested" if "stop" in o["text"].lower() else "dislike"
            o["expect"]["actions"][0]["kind"] = kind
            o["effect"]["kind"] = "leaves_only" if kind == "not_interested" else "leaves"
    for t, kind in tpl("two", [("I loved {A} and {B}", "like"), ("I don't like {A} or {B}", "dislike"),
                               ("stop recommending {A} and {B}", "not_interested")]):
        u, its = pick(plain, 2)
        if u is None:
            continue
        add("two_titles", t.format(A=bare[its[0]], B=bare[its[1]]), u,
            [{"kind": kind, "items": ext([i])} for i in its],
            {"kind": "joins_history" if kind == "like" else "leaves", "items": ext(its)})
    for t in tpl("contrast", ["{A} was great but {B} was boring", "I liked {A} but not {B}",
                              "{A} was amazing; {B} was awful"]):
        u, its = pick(plain, 2)
        if u is None:
            continue
        add("contrast", t.format(A=bare[its[0]], B=bare[its[1]]), u,
            [{"kind": "like", "items": ext(its[:1])}, {"kind": "dislike", "items": ext(its[1:])}],
            {"kind": "leaves", "items": ext(its)})
    # ambiguous: a title several items share (no year or winery said)
    amb = sorted(t for t, c in counts.items() if c >= 2 and len(t) >= 4 and t not in catnames)
    rng.shuffle(amb)
    for t, tmpl in zip(amb, tpl("ambiguous", ["I don't like {T}", "{T} was great", "stop recommending {T}"])):
        items = [i for i in range(ds.n_items) if norm[i] == t]
        u = users[0]
        add("ambiguous_title", tmpl.format(T=bare[items[0]]), u, [],
            {"kind": "unchanged"}, questions=[{"items": ext(items)}])
    # categories in the users' lists
    genres_in = lambda u: sorted({g for i in lists[u] for g in ds.genres[i]})   # noqa: E731
    wine = short == "xwines"
    for tmpl in (tpl("avoid_wine", ["no more {g} wines", "nothing {g} please", "I don't want any {g} wines"]) if wine
                 else tpl("avoid_film", ["nothing with {g}", "no {g} please", "no more {g} films",
                                         "I don't want any {g} movies"])):
        g = _category(rng, users, lists, ds, wine)
        if g is None:
            continue
        u, genre = g
        add("avoid_category", tmpl.format(g=genre.lower()), u, [{"kind": "avoid", "categories": [f"genre={genre}"]}],
            {"kind": "hidden", "categories": [f"genre={genre}"]})
    for tmpl in tpl("soft", ["less {a}, more {b}", "a bit less {a} and more {b}", "fewer {a}, more {b}"]):
        for u in users:
            gs = genres_in(u)
            counts_g = {g: sum(g in ds.genres[i] for i in lists[u]) for g in gs}
            down = [g for g in gs if 1 <= counts_g[g] <= 9 and _ok_genre(g, wine)]
            up = [g for g in ({x for xs in ds.genres for x in xs} - set(gs)) if _ok_genre(g, wine)]
            if down and up:
                a, b = down[0], sorted(up)[int(rng.integers(len(up)))]
                add("soft_weights", tmpl.format(a=a.lower(), b=b.lower()), u,
                    [{"kind": "weight", "categories": [f"genre={a}"], "weight": -1},
                     {"kind": "weight", "categories": [f"genre={b}"], "weight": 1}],
                    {"kind": "soft", "down": [f"genre={a}"], "up": [f"genre={b}"]})
                users.remove(u)
                users.append(u)
                break
    # Chinese
    u, its = pick(plain)
    if u is not None:
        add("chinese", tpl("cn_dislike", "我不喜欢{T}").format(T=bare[its[0]]), u, [{"kind": "dislike", "items": ext(its)}],
            {"kind": "leaves", "items": ext(its)})
    u, its = pick(plain)
    if u is not None:
        add("chinese", tpl("cn_seen", "我看过{T}").format(T=bare[its[0]]), u, [{"kind": "not_interested", "items": ext(its)}],
            {"kind": "leaves_only", "items": ext(its)})
    u, its = pick(plain)
    if u is not None:
        add("chinese", tpl("cn_neutral", "我不讨厌{T}").format(T=bare[its[0]]), u, [{"kind": "neutral", "items": ext(its)}],
            {"kind": "unchanged"})
    for tmpl in (tpl("cn_avoid_wine", ["不要{g}", "我不喜欢{g}"]) if wine else
                 tpl("cn_avoid_film", ["不要{g}片", "别推荐{g}了"])):
        g = _category(rng, users, lists, ds, wine, cn=True)
        if g:
            u, genre = g
            add("chinese", tmpl.format(g=CN[genre]), u, [{"kind": "avoid", "categories": [f"genre={genre}"]}],
                {"kind": "hidden", "categories": [f"genre={genre}"]})
    # less popular
    for tmpl in tpl("less_popular", ["less popular please", "something more obscure", "冷门一点"]):
        u = users[0]
        users.append(users.pop(0))
        add("less_popular", tmpl, u, [{"kind": "less_popular"}], {"kind": "less_popular"})
    return out


def _ok_genre(g: str, wine: bool) -> bool:
    return g in ("Red", "White", "Sparkling", "Rosé", "Dessert") if wine else g not in ("Short", "Adult", "News")


def _category(rng, users, lists, ds, wine, cn=False):
    for u in users:
        gs = [g for g in sorted({g for i in lists[u] for g in ds.genres[i]}) if _ok_genre(g, wine) and (not cn or g in CN)]
        if gs:
            users.remove(u)
            users.append(u)
            return u, gs[int(rng.integers(len(gs)))]
    return None


def typo(title: str) -> str:
    """Swap two inner letters of the title's longest word: 'Interstellar' -> 'Intesrtellar'."""
    words = title.split()
    k = max(range(len(words)), key=lambda j: len(words[j]))
    w = words[k]
    m = next((j for j in range(len(w) // 2, len(w) - 1) if w[j] != w[j - 1]), len(w) // 2)
    words[k] = w[:m - 1] + w[m] + w[m - 1] + w[m + 1:]
    return " ".join(words)


if __name__ == "__main__":
    sys.exit(main())
