"""The bundled demo dataset: a deterministic generator, no files and no download.

Generative model (documented so results on it can be interpreted):

1. Catalogue. 18 genres, each with its own vocabulary. An item has a primary genre and, with
   probability 0.6 / 0.25, one or two secondary genres. Its title is built from its primary
   genre's words (plus a year), its one-line description from all its genres' words, so the
   text carries the genre signal a text-aware model can read. Each item has a popularity
   weight drawn from a log-normal (sigma 1.1): a long tail.
2. Users. Each user likes 2-3 genres with Dirichlet(1.5) weights at the start and drifts
   toward a second mix (one of the liked genres plus one new genre) over their lifetime:
   the genre mix at relative time tau in [0, 1] is (1 - tau) * start + tau * end. Activity
   is log-normal (median about 25 interactions, at least 6, at most 300).
3. Events. At each step the user picks a genre from the current mix (92 %) or uniformly
   (8 %, exploration), then an unseen item of that genre with probability proportional to
   popularity ** 0.8. Timestamps: a start date uniform over two years, then exponential
   gaps (mean 2 days).
4. Ratings on 1-5: round(2.6 + 2.2 * fit + N(0, 0.7)), clipped, where fit is the weight
   the user's current mix gives the item's genres. Positives (>= 4) are thus mostly
   on-taste picks; off-taste exploration mostly yields low ratings.

A model that reads the recent history and the item text should clearly beat popularity,
and lists concentrated on a user's main genre leave room for diversity re-ranking.
"""
from __future__ import annotations

from bisect import bisect_right

import numpy as np

from engine.data.dataset import write_dataset
from engine.store import repository as repo

DEMO_NAME = "Demo movies"
DEMO_SEED = 20261129

GENRES: dict[str, list[str]] = {
    "Action": ["Fury", "Strike", "Bullet", "Chase", "Vengeance", "Steel", "Blast", "Siege", "Rogue", "Impact"],
    "Adventure": ["Quest", "Journey", "Treasure", "Expedition", "Island", "Voyage", "Map", "Lost City", "Jungle", "Compass"],
    "Animation": ["Bunny", "Dragonling", "Toy", "Cloud", "Puppy", "Bubble", "Balloon", "Teapot", "Pixel", "Kitten"],
    "Comedy": ["Wedding", "Roommates", "Hangover", "Road Trip", "Mix-up", "Blind Date", "Neighbours", "Prank", "Reunion", "Awkward"],
    "Crime": ["Heist", "Mob", "Detective", "Alibi", "Racket", "Witness", "Cartel", "Informant", "Stakeout", "Vault"],
    "Documentary": ["Truth", "Planet", "Archive", "Witnesses", "Frontline", "Nature", "Inside", "Voices", "Record", "Field Notes"],
    "Drama": ["Silence", "Letters", "Homecoming", "Winter", "Promise", "Inheritance", "Grief", "Harbor", "Tides", "Farewell"],
    "Family": ["Holiday", "Grandpa", "Summer Camp", "Little Ones", "Backyard", "Christmas", "Pony", "Sleepover", "Treehouse", "Picnic"],
    "Fantasy": ["Sorcerer", "Crown", "Elven", "Prophecy", "Dragon", "Enchanted", "Realm", "Rune", "Wizard", "Amulet"],
    "Horror": ["Haunting", "Cellar", "Possession", "Curse", "Nightmare", "Ritual", "Shadows", "Asylum", "Hollow", "Scream"],
    "Musical": ["Melody", "Broadway", "Rhythm", "Chorus", "Serenade", "Encore", "Tap Shoes", "Ballad", "Stage", "Harmony"],
    "Mystery": ["Riddle", "Clue", "Secret", "Vanishing", "Cipher", "Manor", "Locked Room", "Stranger", "Puzzle", "Whisper"],
    "Romance": ["Kiss", "Heartstrings", "Paris", "Sweetheart", "Love Letter", "Moonlight", "Courtship", "Valentine", "Crush", "Forever"],
    "Sci-Fi": ["Galaxy", "Android", "Orbit", "Quantum", "Starship", "Colony", "Signal", "Nebula", "Cyborg", "Warp"],
    "Sport": ["Champion", "Underdog", "Final Round", "Playoffs", "Coach", "Marathon", "Knockout", "Goal", "Rookie", "Comeback"],
    "Thriller": ["Conspiracy", "Hostage", "Deadline", "Pursuit", "Paranoia", "Trap", "Countdown", "Spy", "Cover-up", "Target"],
    "War": ["Trenches", "Battalion", "Frontier", "Armistice", "Platoon", "Resistance", "Beachhead", "Convoy", "Sniper", "Liberation"],
    "Western": ["Outlaw", "Saloon", "Frontier Town", "Sheriff", "Gunslinger", "Ranch", "Stagecoach", "Prairie", "Bounty", "Canyon"],
}

_SETTINGS = {
    "Action": "a city on the brink", "Adventure": "uncharted lands", "Animation": "a colourful toy world",
    "Comedy": "a chaotic weekend", "Crime": "the criminal underworld", "Documentary": "the real world",
    "Drama": "a small coastal town", "Family": "a cozy neighbourhood", "Fantasy": "an enchanted kingdom",
    "Horror": "a haunted house", "Musical": "the bright lights of the stage", "Mystery": "an old manor",
    "Romance": "a summer in Paris", "Sci-Fi": "a distant space colony", "Sport": "the championship season",
    "Thriller": "a race against the clock", "War": "the front lines", "Western": "the wild frontier",
}
_TITLE_SHAPES = ["The {a}", "{a} {b}", "The {a} of {b}", "{a} Rising", "Return of the {a}", "{a} and {b}",
                 "Last {a}", "Beyond the {a}", "{a} Protocol", "Night of the {a}", "{a}"]
_DESC_SHAPES = ["A {w1} story of {w2} and {w3}, set in {s}.",
                "When {w1} meets {w2}, everything changes in {s}.",
                "{W1}, {w2} and a little {w3} in {s}.",
                "An unforgettable tale of {w1} and {w2} in {s}."]


def _cdf(p: np.ndarray) -> list[float]:
    """The cumulative distribution rng.choice(len(p), p=p) searches (normalised by its last value)."""
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf.tolist()


def generate_demo(n_items: int = 3000, n_users: int = 2500, seed: int = DEMO_SEED) -> dict:
    """Build the demo dataset in memory; returns the keyword arguments of `write_dataset`."""
    rng = np.random.default_rng(seed)
    names = list(GENRES)
    g = len(names)

    # --- catalogue
    primary = rng.integers(0, g, n_items)
    item_genres: list[list[int]] = []
    for i in range(n_items):
        gs = [int(primary[i])]
        n_extra = rng.choice([0, 1, 2], p=[0.4, 0.35, 0.25])
        for e in rng.permutation(g)[: n_extra + 1]:
            if len(gs) < 1 + n_extra and e != gs[0]:
                gs.append(int(e))
        item_genres.append(gs)
    popularity = rng.lognormal(0.0, 1.1, n_items)
    titles, descriptions, seen_titles = [], [], set()
    for i in range(n_items):
        words = GENRES[names[primary[i]]]
        other = GENRES[names[item_genres[i][-1]]]
        while True:
            shape = _TITLE_SHAPES[rng.integers(len(_TITLE_SHAPES))]
            title = shape.format(a=words[rng.integers(len(words))], b=other[rng.integers(len(other))])
            title = f"{title} ({int(rng.integers(1950, 2026))})"
            if title not in seen_titles:
                seen_titles.add(title)
                break
        pool = [w.lower() for gi in item_genres[i] for w in GENRES[names[gi]]]
        w = [pool[k] for k in rng.integers(0, len(pool), 3)]
        desc = _DESC_SHAPES[rng.integers(len(_DESC_SHAPES))].format(
            w1=w[0], w2=w[1], w3=w[2], W1=w[0].capitalize(), s=_SETTINGS[names[item_genres[i][0]]])
        titles.append(title)
        descriptions.append(desc)
    membership = np.zeros((n_items, g))
    for i, gs in enumerate(item_genres):
        membership[i, gs] = 1.0 / len(gs)
    by_genre = [np.flatnonzero(membership[:, k] > 0) for k in range(g)]
    genre_p = [popularity[idx] ** 0.8 / (popularity[idx] ** 0.8).sum() for idx in by_genre]

    # --- users and events
    # rng.choice(n, p=p) is cdf = p.cumsum(); cdf /= cdf[-1]; cdf.searchsorted(rng.random(), "right"):
    # drawn that way here with the cdfs computed once, the stream and the dataset are the same as
    # through rng.choice, about 5x faster (the demo is made on a user's first launch).
    genre_cdf = [_cdf(p) for p in genre_p]
    by_genre_list = [idx.tolist() for idx in by_genre]
    start_time = 1_640_995_200  # 2022-01-01
    users, items, ratings, stamps = [], [], [], []
    for u in range(n_users):
        k = int(rng.integers(2, 4))
        liked = rng.choice(g, k, replace=False)
        start = np.zeros(g)
        start[liked] = rng.dirichlet(np.full(k, 1.5))
        end = np.zeros(g)
        new_genre = int(rng.choice(np.setdiff1d(np.arange(g), liked)))
        end[[liked[0], new_genre]] = rng.dirichlet([1.5, 1.5])
        n = int(np.clip(rng.lognormal(np.log(25), 0.9), 6, 300))
        t = start_time + int(rng.integers(0, 2 * 365 * 86400))
        seen: set[int] = set()
        for step in range(n):
            tau = step / max(1, n - 1)
            mix = (1 - tau) * start + tau * end
            genre = bisect_right(_cdf(mix), rng.random()) if rng.random() < 0.92 else int(rng.integers(g))
            cand, cdf = by_genre_list[genre], genre_cdf[genre]
            for _ in range(10):
                item = cand[bisect_right(cdf, rng.random())]
                if item not in seen:
                    break
            else:
                continue
            seen.add(item)
            fit = float(membership[item] @ mix) / max(float(mix.max()), 1e-9)
            rating = min(5, max(1, round(2.6 + 2.2 * fit + rng.normal(0, 0.7))))   # round: half to even, as np.rint
            t += int(rng.exponential(2 * 86400)) + 60
            users.append(u)
            items.append(item)
            ratings.append(rating)
            stamps.append(t)
    used = np.zeros(n_users, dtype=bool)
    used[users] = True
    return dict(
        user_ids=[f"u{u:05d}" for u in range(n_users)],
        item_ids=[f"m{i:05d}" for i in range(n_items)],
        titles=titles,
        genres=[tuple(names[k] for k in gs) for gs in item_genres],
        descriptions=descriptions,
        user_idx=np.asarray(users, dtype=np.int32),
        item_idx=np.asarray(items, dtype=np.int32),
        rating=np.asarray(ratings, dtype=np.float32),
        timestamp=np.asarray(stamps, dtype=np.int64),
        rating_min=1.0, rating_max=5.0, positive_threshold=4.0,
        source={"format": "demo", "seed": seed, "generator": "engine.data.demo"},
    )


def create_demo_dataset(store, name: str = DEMO_NAME, **kwargs) -> int:
    """Generate the demo dataset and write it to `store` (one transaction). Returns its id;
    when a dataset of that name exists already, returns the existing id."""
    with store.session() as s:
        if repo.dataset_exists(s, name):
            return repo.get_dataset(s, name).id
    return write_dataset(store, name, **generate_demo(**kwargs))
