"""MovieLens (100K, 1M/10M) and MovieTweetings: their fixed layouts, scales and genre lists, for files
already recognised by name or content (engine.ingest.formats decides which)."""
from __future__ import annotations

from pathlib import Path

from engine.ingest.detected import DetectedFormat, FileSniff
from engine.ingest.known_files import sibling
from engine.ingest.mapping import Mapping
from engine.ingest.sniff import is_number, sniff_file

ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
                 "War", "Western")


def _ml100k_genres(items_path: Path) -> tuple[str, ...]:
    g = sibling(items_path, "u.genre")
    if g is not None:
        try:
            names = [line.split("|")[0] for line in g.read_text(encoding="latin-1").splitlines() if "|" in line]
            if len(names) == 19:
                return tuple(names)
        except OSError:
            pass
    return ML100K_GENRES


def movielens_100k(ratings: Path, items: Path | None) -> DetectedFormat:
    inter = sniff_file(ratings, delimiter="\t", has_header=False)
    item_sniff = sniff_file(items, delimiter="|", has_header=False, encoding="latin-1") if items else None
    flags: tuple[tuple[int, str], ...] = ()
    if item_sniff is not None:
        names = _ml100k_genres(Path(items))
        flags = tuple((5 + k, g) for k, g in enumerate(names) if 5 + k < item_sniff.n_columns)
    mapping = Mapping(user=0, item=1, rating=2, timestamp=3, timestamp_format="epoch",
                      item_id=0 if items else None, title=1 if items else None, genre_flags=flags)
    return DetectedFormat("movielens-100k", inter, item_sniff, None, mapping, 1.0, 5.0, 4.0)


def _tweetings_like(inter: FileSniff) -> bool:
    for row in inter.sample:
        if len(row) >= 3:
            item, rating = row[1], row[2]
            if (len(item) > 1 and item.startswith("0")) or (is_number(rating) and float(rating) > 5):
                return True
    return False


def dat_format(ratings: Path, items: Path | None, force: str | None) -> DetectedFormat:
    inter = sniff_file(ratings, delimiter="::", has_header=False)
    item_sniff = sniff_file(items, delimiter="::", has_header=False) if items else None
    name = force or ("movietweetings" if _tweetings_like(inter) else "movielens")
    mapping = Mapping(user=0, item=1, rating=2, timestamp=3, timestamp_format="epoch",
                      item_id=0 if items else None, title=1 if items else None,
                      genres=2 if item_sniff is not None and item_sniff.n_columns >= 3 else None)
    if name == "movietweetings":
        return DetectedFormat(name, inter, item_sniff, None, mapping, 0.0, 10.0, 8.0)
    return DetectedFormat(name, inter, item_sniff, None, mapping, None, 5.0, 4.0,
                          notes=("rating_min is 0.5 when half stars occur, else 1",))

