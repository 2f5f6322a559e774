"""A tiny real-looking film catalogue for the encoder, search and plain-words tests."""
from __future__ import annotations

import numpy as np

FILMS = [
    ("Inception (2010)", "Action|Sci-Fi|Thriller", "A thief enters people's dreams to plant an idea."),
    ("Interstellar (2014)", "Adventure|Drama|Sci-Fi", "Astronauts travel through a wormhole to save humanity."),
    ("The Matrix (1999)", "Action|Sci-Fi", "A hacker learns that reality is a computer simulation."),
    ("Amélie (2001)", "Comedy|Romance", "A shy waitress in Paris secretly helps the people around her."),
    ("Toy Story (1995)", "Animation|Comedy|Family", "Toys come to life when their owner is away."),
    ("Finding Nemo (2003)", "Animation|Family", "A clownfish searches the ocean for his lost son."),
    ("The Conjuring (2013)", "Horror", "Paranormal investigators help a family terrorised by a dark presence."),
    ("Hereditary (2018)", "Horror|Drama", "A grieving family is haunted by a sinister secret."),
    ("Titanic (1997)", "Drama|Romance", "A love story aboard the doomed ocean liner."),
    ("WALL·E (2008)", "Animation|Family|Sci-Fi", "A small robot cleaning up Earth falls in love and travels to space."),
    ("Star Wars (1977)", "Action|Adventure|Sci-Fi", "Rebels fight an evil galactic empire with the help of droids."),
    ("The Notebook (2004)", "Drama|Romance", "A poor young man falls in love with a rich young woman."),
    ("Paddington (2014)", "Comedy|Family", "A polite bear from Peru finds a home in London."),
    ("Se7en (1995)", "Crime|Thriller", "Two detectives hunt a serial killer who uses the seven deadly sins."),
    ("The Grand Budapest Hotel (2014)", "Comedy|Adventure", "A hotel concierge and his lobby boy become friends."),
    ("Alien (1979)", "Horror|Sci-Fi", "The crew of a spaceship is hunted by a deadly creature."),
]


def write_films(store, name: str = "films", n_users: int = 30, seed: int = 0) -> int:
    """The catalogue above with random users (each rates 6 films 1-5); returns the dataset id."""
    from engine.data.dataset import write_dataset
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        picks = rng.choice(len(FILMS), size=6, replace=False)
        users += [u] * len(picks)
        items += picks.tolist()
    n = len(users)
    return write_dataset(
        store, name, user_ids=[f"u{u}" for u in range(n_users)], item_ids=[f"m{i}" for i in range(len(FILMS))],
        titles=[f[0] for f in FILMS], genres=[f[1].split("|") for f in FILMS], descriptions=[f[2] for f in FILMS],
        user_idx=np.array(users, np.int32), item_idx=np.array(items, np.int32),
        rating=rng.integers(1, 6, n).astype(np.float32), timestamp=np.arange(n, dtype=np.int64),
        rating_min=1.0, rating_max=5.0, positive_threshold=4.0, source={"kind": "test"})
