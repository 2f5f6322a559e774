"""The file names of the datasets llmrec recognises (MovieLens, MovieTweetings) and the order a folder
or a .zip of them is read in. Kept apart so that both format detection (engine.ingest.formats) and
archive unpacking (engine.ingest.archive) use one list without importing each other."""
from __future__ import annotations

from pathlib import Path

from engine.errors import InputError

KNOWN_NAMES = {"u.data", "u.item", "u.genre", "ratings.dat", "movies.dat", "ratings.csv", "movies.csv", "tags.csv"}


KNOWN_INTERACTIONS = ("u.data", "ratings.dat", "ratings.csv")
# the known files a folder (or a recognised archive) stands for, in the order they are given
FOLDER_ORDER = ("u.data", "ratings.dat", "ratings.csv", "u.item", "movies.dat", "movies.csv", "tags.csv")


def base_name(p: Path) -> str:
    """The file's name in lower case without a '.gz' suffix: what the known names are compared with."""
    name = p.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def sibling(p: Path, name: str) -> Path | None:
    """The file `name` (or `name`.gz) next to `p`, if there is one."""
    for cand in (p.with_name(name), p.with_name(name + ".gz")):
        if cand.is_file():
            return cand
    return None


# Files of known datasets that hold no interactions: refused as the interactions file, with what to give instead.
SIDE_FILES = {
    "u.genre": "the MovieLens 100K genre list", "u.user": "the MovieLens 100K user table (age, gender, job)",
    "u.occupation": "the MovieLens 100K occupation list", "u.info": "the MovieLens 100K counts",
    "u.item": "the MovieLens 100K item table", "users.dat": "the MovieLens 1M user table",
    "movies.dat": "an item table (movies)", "movies.csv": "an item table (movies)",
    "tags.csv": "MovieLens tags (give them after ratings.csv)", "links.csv": "MovieLens links to IMDb/TMDb",
    "genome-tags.csv": "the MovieLens tag genome", "genome-scores.csv": "the MovieLens tag genome",
}
INTERACTIONS_FOR = {"u.": "u.data", "users.dat": "ratings.dat", "movies.dat": "ratings.dat"}


def refuse_side_file(path: Path) -> None:
    """A clear error when the interactions file is a known side file (u.genre, u.user, movies.csv...)."""
    base = base_name(path)
    what = SIDE_FILES.get(base)
    if what is None:
        return
    want = INTERACTIONS_FOR.get(base) or ("u.data" if base.startswith("u.") else "ratings.csv")
    raise InputError(f"{path.name} is {what}, not interactions; give the ratings file first "
                     f"(e.g. {want}, or the dataset's folder)", path=str(path))
