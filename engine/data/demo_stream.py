"""The demo's kind of data at any size, streamed to the store in bounded memory.

`llmrec demo --users N --items M --interactions K` calls `write_scaled_demo`. It follows the
generative model documented in `engine.data.demo` (genre vocabularies, log-normal popularity,
2-3 liked genres drifting to a second mix, 92 % on-taste picks, ratings from taste fit), but
vectorised over blocks of users so 25 million interactions take minutes, not hours:

* the drifting mix (1 - tau) * start + tau * end is sampled as a mixture (start with probability
  1 - tau, else end), so no (events x genres) matrix is ever built;
* an item of a genre is drawn by inverse CDF over popularity ** 0.8 within the genre;
* a repeat of an item the user already has is redrawn (5 times in its genre, then 5 times in any
  genre) and otherwise dropped, so
  the dataset may hold slightly fewer than K interactions (the count is reported);
* titles are not forced unique (a million titles from 18 x 10 words would not be).

Memory is O(items + users + block), never O(interactions): each block of users is generated,
sorted in key order (user, item) and inserted, then dropped. Deterministic for given arguments
(every block has its own seed derived from `seed` and the block number).
"""
from __future__ import annotations

import numpy as np

from engine.data.demo import _DESC_SHAPES, _SETTINGS, _TITLE_SHAPES, DEMO_SEED, GENRES
from engine.errors import EngineError
from engine.jobs.cancel import check
from engine.store import repository as repo
from engine.store.bulk import bulk_writer
from engine.types import StepProgress

BLOCK_EVENTS = 400_000     # interactions generated and inserted per block
ITEM_BLOCK = 100_000
START_TIME = 1_640_995_200  # 2022-01-01


def default_name(n_users: int, n_items: int, n_interactions: int) -> str:
    def short(n: int) -> str:
        for unit, div in (("M", 1_000_000), ("k", 1_000)):
            if n >= div and n % (div // 10) == 0:
                return f"{n / div:g}{unit}"
        return str(n)
    return f"Demo {short(n_users)} users {short(n_items)} items {short(n_interactions)}"


class Catalogue:
    """Item genres and popularity: all the generator keeps per item (O(items) memory)."""

    def __init__(self, n_items: int, seed: int):
        rng = np.random.default_rng([seed, 1])
        g = len(GENRES)
        self.n_items = n_items
        self.primary = rng.integers(0, g, n_items).astype(np.int16)
        n_extra = rng.choice([0, 1, 2], size=n_items, p=[0.4, 0.35, 0.25])
        # secondary genres: primary + a random non-zero offset (distinct from the primary)
        off1 = rng.integers(1, g, n_items)
        off2 = rng.integers(1, g - 1, n_items)
        s1 = (self.primary + off1) % g
        s2 = (self.primary + off2 + (off2 >= off1)) % g
        self.slots = np.full((n_items, 3), -1, np.int16)   # genre indices, -1 = empty slot
        self.slots[:, 0] = self.primary
        self.slots[:, 1] = np.where(n_extra >= 1, s1, -1)
        self.slots[:, 2] = np.where(n_extra >= 2, s2, -1)
        self.n_genres_of = (self.slots >= 0).sum(axis=1).astype(np.float32)
        popularity = rng.lognormal(0.0, 1.1, n_items)
        # per genre: members and the within-genre CDF of popularity ** 0.8, laid out as g + cdf in [g, g+1)
        member_item = np.concatenate([np.flatnonzero((self.slots == k).any(axis=1)) for k in range(g)])
        member_genre = np.concatenate([np.full(int((self.slots == k).any(axis=1).sum()), k) for k in range(g)])
        w = popularity[member_item] ** 0.8
        cdf = np.zeros(len(w))
        for k in range(g):
            sel = member_genre == k
            if sel.any():
                c = np.cumsum(w[sel])
                cdf[sel] = c / c[-1]
        self.member_item = member_item.astype(np.int32)
        self.key = member_genre + cdf - 1e-12            # sorted: genre blocks, increasing cdf
        self.genre_start = np.searchsorted(member_genre, np.arange(g + 1))
        self.text_seed = seed

    def draw(self, genre: np.ndarray, rng) -> np.ndarray:
        """One item per event of the given genre, proportional to popularity ** 0.8."""
        pos = np.searchsorted(self.key, genre + rng.random(len(genre)))
        pos = np.clip(pos, self.genre_start[genre], self.genre_start[genre + 1] - 1)
        return self.member_item[pos]

    def text_rows(self, a: int, b: int):
        """(title, genres, description) of items a..b-1, from their own seed (deterministic)."""
        rng = np.random.default_rng([self.text_seed, 3, a])
        names = list(GENRES)
        n = b - a
        shape = rng.integers(len(_TITLE_SHAPES), size=n)
        wa, wb, year = rng.integers(10, size=n), rng.integers(10, size=n), rng.integers(1950, 2026, size=n)
        dshape, dw = rng.integers(len(_DESC_SHAPES), size=n), rng.random((n, 3))
        out = []
        for j in range(n):
            slots = [int(s) for s in self.slots[a + j] if s >= 0]
            words, other = GENRES[names[slots[0]]], GENRES[names[slots[-1]]]
            title = _TITLE_SHAPES[shape[j]].format(a=words[wa[j]], b=other[wb[j]]) + f" ({year[j]})"
            pool = [w.lower() for s in slots for w in GENRES[names[s]]]
            w = [pool[int(x * len(pool))] for x in dw[j]]
            desc = _DESC_SHAPES[dshape[j]].format(w1=w[0], w2=w[1], w3=w[2], W1=w[0].capitalize(),
                                                  s=_SETTINGS[names[slots[0]]])
            out.append((title, "|".join(names[s] for s in slots), desc))
        return out


def user_lengths(n_users: int, n_items: int, n_interactions: int, seed: int) -> np.ndarray:
    """Interactions per user: log-normal activity scaled so the lengths sum to exactly K (each at
    least 1 and at most half the catalogue)."""
    rng = np.random.default_rng([seed, 2])
    raw = rng.lognormal(0.0, 0.9, n_users)
    cap = max(1, n_items // 2)
    share = raw / raw.sum() * n_interactions
    n = np.clip(np.floor(share), 1, cap).astype(np.int64)
    while int(n.sum()) > n_interactions:              # the floor of 1 overshot: trim the largest
        idx = np.argsort(-n, kind="stable")[: int(n.sum()) - n_interactions]
        n[idx[n[idx] > 1]] -= 1
    missing = n_interactions - int(n.sum())
    frac = share - np.floor(share)
    while missing > 0:                                # hand out the remainder by largest fraction
        room = np.flatnonzero(n < cap)
        if not len(room):
            break
        pick = room[np.argsort(-frac[room], kind="stable")][:missing]
        n[pick] += 1
        missing -= len(pick)
    return n


def _user_block(cat: Catalogue, lengths: np.ndarray, u0: int, rng):
    """Interactions of users u0..u0+len(lengths)-1: (user, item, rating, timestamp), key-sorted."""
    g = len(GENRES)
    nu = len(lengths)
    k = rng.integers(2, 4, nu)
    perm = np.argsort(rng.random((nu, g)), axis=1)[:, :4]         # 3 liked candidates + the new genre
    liked = perm[:, :3]
    new_genre = np.where(k == 2, perm[:, 2], perm[:, 3])
    gam = rng.gamma(1.5, size=(nu, 3))
    gam[k == 2, 2] = 0.0
    start_w = gam / gam.sum(axis=1, keepdims=True)
    e = rng.gamma(1.5, size=(nu, 2))
    end_w = e / e.sum(axis=1, keepdims=True)
    end_g = np.stack([liked[:, 0], new_genre], axis=1)

    user = np.repeat(np.arange(nu), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    step = np.arange(len(user)) - first[user]
    tau = (step / np.maximum(1, lengths[user] - 1)).astype(np.float32)
    use_end = rng.random(len(user)) < tau
    r = rng.random(len(user))
    cs = np.cumsum(start_w, axis=1)[user]
    ce = np.cumsum(end_w, axis=1)[user]
    s_slot = np.minimum((r[:, None] > cs).sum(axis=1), 2)
    e_slot = np.minimum((r[:, None] > ce).sum(axis=1), 1)
    genre = np.where(use_end, end_g[user, e_slot], liked[user, s_slot])
    explore = rng.random(len(user)) >= 0.92
    genre[explore] = rng.integers(0, g, int(explore.sum()))
    item = cat.draw(genre, rng)
    for attempt in range(10):                                     # redraw repeats of a user's item
        key = user.astype(np.int64) * cat.n_items + item
        _, first_seen = np.unique(key, return_index=True)
        dup = np.ones(len(key), bool)
        dup[first_seen] = False
        if not dup.any():
            break
        if attempt >= 5:                                          # a crowded genre: explore instead
            genre[dup] = rng.integers(0, g, int(dup.sum()))
        item[dup] = cat.draw(genre[dup], rng)
    key = user.astype(np.int64) * cat.n_items + item
    _, keep = np.unique(key, return_index=True)                   # drop what is still repeated
    keep_mask = np.zeros(len(key), bool)
    keep_mask[keep] = True

    # taste fit of the item's genres under the mix at tau, relative to the mix's largest weight
    def mix_at(gen):
        w = np.zeros(len(user), np.float32)
        for j in range(3):
            w += np.where(liked[user, j] == gen, start_w[user, j], 0.0) * (1 - tau)
        for j in range(2):
            w += np.where(end_g[user, j] == gen, end_w[user, j], 0.0) * tau
        return w
    fit = np.zeros(len(user), np.float32)
    for j in range(3):
        sl = cat.slots[item, j].astype(np.int64)
        fit += np.where(sl >= 0, mix_at(sl), 0.0)
    fit /= cat.n_genres_of[item]
    peak = np.max(np.stack([mix_at(liked[user, j]) for j in range(3)] + [mix_at(new_genre[user])]), axis=0)
    fit /= np.maximum(peak, 1e-9)
    rating = np.clip(np.rint(2.6 + 2.2 * fit + rng.normal(0, 0.7, len(user))), 1, 5).astype(np.float32)
    t0 = START_TIME + rng.integers(0, 2 * 365 * 86400, nu)
    gaps = (rng.exponential(2 * 86400, len(user)) + 60).astype(np.int64)
    csum = np.cumsum(gaps)
    stamp = t0[user] + csum - (csum[first] - gaps[first])[user]

    sel = np.flatnonzero(keep_mask)
    order = sel[np.lexsort((item[sel], user[sel]))]
    return (user[order] + u0).astype(np.int64), item[order].astype(np.int64), rating[order], stamp[order]


def write_scaled_demo(store, name: str | None = None, *, n_users: int, n_items: int, n_interactions: int,
                      seed: int = DEMO_SEED, progress=None, cancel=None, block_events: int = BLOCK_EVENTS) -> int:
    """Generate and write a demo dataset of the given size in one transaction, block by block in key
    order (bounded memory). Returns the dataset id; nothing is left behind on error or cancel."""
    if min(n_users, n_items) < 1 or n_interactions < n_users:
        raise EngineError("the demo needs at least one user and one item, and at least one interaction per user")
    if n_interactions > n_users * max(1, n_items // 2):
        raise EngineError(f"{n_interactions:,} interactions do not fit {n_users:,} users who each meet at most "
                          f"half of {n_items:,} items; add users or items")
    name = name or default_name(n_users, n_items, n_interactions)
    report = progress or (lambda _u: None)
    cat = Catalogue(n_items, seed)
    lengths = user_lengths(n_users, n_items, n_interactions, seed)
    width = max(5, len(str(max(n_users, n_items) - 1)))
    written = 0
    with store.write_session(cancel=cancel) as s:   # waits while another program writes
        if repo.dataset_exists(s, name):
            raise EngineError(f"a dataset named {name!r} already exists")
        ds_id = repo.create_dataset(s, name, rating_min=1.0, rating_max=5.0, positive_threshold=4.0,
                                    source={"format": "demo", "seed": seed, "generator": "engine.data.demo_stream",
                                            "users": n_users, "items": n_items, "interactions": n_interactions})
        bulk = bulk_writer(s)   # executemany on SQLite, COPY on PostgreSQL
        bulk.insert("users", ("dataset_id", "idx", "external_id"),
                    ((ds_id, u, f"u{u:0{width}d}") for u in range(n_users)))
        for a in range(0, n_items, ITEM_BLOCK):
            check(cancel)
            b = min(n_items, a + ITEM_BLOCK)
            bulk.insert("items", ("dataset_id", "idx", "external_id", "title", "genres", "description"),
                        ((ds_id, a + j, f"m{a + j:0{width}d}", t, gs, d)
                         for j, (t, gs, d) in enumerate(cat.text_rows(a, b))))
            report(StepProgress("items", b, n_items))
        bounds = np.searchsorted(np.cumsum(lengths), np.arange(block_events, int(lengths.sum()), block_events))
        starts = np.unique(np.concatenate([[0], bounds + 1]))
        starts = starts[starts < n_users]
        for bno, u0 in enumerate(starts):
            check(cancel)
            u1 = int(starts[bno + 1]) if bno + 1 < len(starts) else n_users
            rng = np.random.default_rng([seed, 4, bno])
            u, i, r, t = _user_block(cat, lengths[u0:u1], int(u0), rng)
            bulk.insert("interactions", ("dataset_id", "user_idx", "item_idx", "rating", "timestamp"),
                        zip([ds_id] * len(u), u.tolist(), i.tolist(), r.tolist(), t.tolist()))
            written += len(u)
            report(StepProgress("interactions", int(lengths[:u1].sum()), int(lengths.sum())))
        bulk.close()
        repo.update_dataset_counts(s, ds_id, n_users=n_users, n_items=n_items, n_interactions=written,
                                   import_report={"generated": n_interactions, "repeats_dropped":
                                                  n_interactions - written})
    return ds_id
