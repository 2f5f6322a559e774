"""One catalogue cache for training, search, the semantic space and the explorer (issue 21): what a training
encoded, the explorer's share counts and search reuses without encoding again; the cache is rewritten by
time, not per chunk; the static encoder's per-text sums."""
from __future__ import annotations

import numpy as np
import pytest

from engine.encoder import catalogue


def _stored_tiny(store, n_items: int = 120):
    from engine.data.dataset import load_dataset, write_dataset
    from engine.data.demo import generate_demo
    write_dataset(store, "tiny", **generate_demo(n_items=n_items, n_users=80, seed=3))
    return load_dataset(store, "tiny", with_interactions=False)


class _Counting:
    """Wraps an encoder: records how many texts each encode call got."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def encode(self, texts, *args, **kwargs):
        self.calls.append(len(texts))
        return self.inner.encode(texts, *args, **kwargs)


@pytest.mark.slow   # TensorFlow training: the full tier only
def test_a_trainings_encoding_is_the_explorers_and_searchs(store, monkeypatch):
    from engine.explore.similarity import attach_semantic, semantic_encoder_name
    from engine.language.search import search_items
    from engine.runs.training import TrainConfig, run_training
    from tests.engine.test_training import TINY
    ds = _stored_tiny(store)
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", ds.n_items - 1)   # the static encoder: numpy, fast
    before = catalogue.catalogue_state(store, ds.info.id, ds.n_items)
    assert (before.encoded, before.fraction, before.encoder, before.vectors) == (0, 0.0, "minilm-static", None)
    counting = _Counting(catalogue.encoder_by_name("minilm-static"))
    monkeypatch.setattr(catalogue, "encoder_by_name", lambda name, backend="numpy": counting)
    run_training(TrainConfig(dataset="tiny", **{**TINY, "epochs": 1,
                                                "extra": {**TINY["extra"], "text_encoder": "minilm"}}), store)
    assert counting.calls and sum(counting.calls) == ds.n_items      # the training encoded the catalogue once
    # the explorer's store job (search_box.catalogue_vectors) sees all of it, with the vectors
    share = catalogue.catalogue_state(store, ds.info.id, ds.n_items)
    assert (share.encoder, share.encoded, share.fraction) == ("minilm-static", ds.n_items, 1.0)
    assert share.vectors.shape == (ds.n_items, 384)
    assert catalogue.encoded_fraction(store, ds) == 1.0
    # the app's Encode and `llmrec encode` find nothing to do
    counting.calls.clear()
    again = catalogue.encode_catalogue(store, ds)
    assert (again.encoded, again.reused, counting.calls) == (0, ds.n_items, [])
    # the semantic space and search read the same vectors; only the query is encoded
    vectors = attach_semantic(store, ds)
    np.testing.assert_array_equal(vectors, share.vectors)
    assert semantic_encoder_name(ds) == "minilm-static"
    # search imports encoder_by_name from the catalogue module when it runs: the patch above covers it
    hits = search_items(ds, ds.item_text(7), 3).hits
    assert hits[0].item == 7 and all(n == 1 for n in counting.calls)


def test_the_cache_is_rewritten_by_time_not_per_chunk(store, monkeypatch):
    ds = _stored_tiny(store, n_items=60)
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", 1)
    monkeypatch.setattr(catalogue, "CHECKPOINT_ITEMS", 8)          # 8 chunks
    writes = []
    real = catalogue._write_cache
    monkeypatch.setattr(catalogue, "_write_cache", lambda *a: (writes.append(a[0]), real(*a)))
    catalogue.encode_catalogue(store, ds)
    assert len(writes) == 1                                        # within 30 s: only the final write
    monkeypatch.setattr(catalogue, "CHECKPOINT_SECONDS", -1.0)
    writes.clear()
    changed = _with_titles(ds, {i: f"changed {i}" for i in range(40)})
    catalogue.encode_catalogue(store, changed)
    assert len(writes) == 5                                        # 40 new texts: 4 checkpoints + the final write


def test_a_checkpoint_counts_and_serves_only_finished_rows(store, monkeypatch):
    from engine.errors import CancelledError
    from engine.jobs.cancel import CancelToken
    ds = _stored_tiny(store, n_items=64)
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", 1)
    monkeypatch.setattr(catalogue, "CHECKPOINT_ITEMS", 8)
    token = CancelToken()

    def progress(u):
        if u.done >= 16:
            token.cancel()
    with pytest.raises(CancelledError):
        catalogue.encode_catalogue(store, ds, progress=progress, cancel=token)
    share = catalogue.catalogue_share(store, ds)
    assert share.encoded == 16 and share.vectors is None
    assert catalogue.cached_vectors(store, ds, range(16), "minilm-static") is not None
    assert catalogue.cached_vectors(store, ds, [16], "minilm-static") is None
    rest = catalogue.encode_catalogue(store, ds)
    assert (rest.encoded, rest.reused) == (48, 16)
    fresh = catalogue.encoder_by_name("minilm-static").encode([ds.item_text(i) for i in range(ds.n_items)])
    np.testing.assert_allclose(catalogue.load_catalogue_vectors(store, ds), fresh, atol=1e-6)


def test_encoded_vectors_lead_with_zero_rows_and_match_the_cache(store, monkeypatch):
    ds = _stored_tiny(store, n_items=60)
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", 1)
    for _ in range(2):                                  # encoding, then up to date (read from the cache)
        v = catalogue.encoded_vectors(store, ds, lead=1)
        assert v.shape == (61, 384) and not v[0].any()
        np.testing.assert_array_equal(v[1:], catalogue.load_catalogue_vectors(store, ds))
    streamed = np.zeros((60, 384), np.float32)          # the up-to-date path streams the file into its rows
    assert catalogue._read_vectors_into(catalogue.cache_path(store, ds.info.id, "minilm-static"), streamed)
    np.testing.assert_array_equal(streamed, v[1:])
    assert not catalogue._read_vectors_into(catalogue.cache_path(store, ds.info.id, "minilm-static"),
                                            np.zeros((59, 384), np.float32))



def test_half_precision_vectors_are_the_caches_cast_whether_encoded_now_or_read(store, monkeypatch):
    """The LSTM's float16 inputs at scale (issue 21: a float32 copy beside them peaked at 3.1 GiB at 1M items),
    both when the texts are encoded now and when the cache is up to date (read and cast block by block)."""
    ds = _stored_tiny(store, n_items=60)
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", 1)
    for _ in range(2):
        v = catalogue.encoded_vectors(store, ds, lead=1, dtype=np.float16)
        assert v.dtype == np.float16 and v.shape == (61, 384) and not v[0].any()
        np.testing.assert_array_equal(v[1:], catalogue.load_catalogue_vectors(store, ds).astype(np.float16))

def test_static_sums_per_text_with_empty_texts_in_the_batch():
    enc = catalogue.encoder_by_name("minilm-static")
    texts = ["", "Red wine from Brazil", "", "", "a", "Toy Story (1995) | Animation Children's"]
    together = enc.encode(texts)
    alone = np.vstack([enc.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    assert not together[0].any() and np.allclose(np.linalg.norm(together[[1, 4, 5]], axis=1), 1.0)


def _with_titles(ds, titles: dict):
    import dataclasses
    new = list(ds.titles)
    for i, t in titles.items():
        new[i] = t
    return dataclasses.replace(ds, titles=new)


def test_first_launch_says_when_it_created_the_demo(store):
    """The app encodes the demo's catalogue in the background only on the launch that created it."""
    from engine.runs.first_launch import DemoCreated, prepare
    said: list = []
    prepare(store, progress=said.append)
    created = [s for s in said if isinstance(s, DemoCreated)]
    with store.session() as s:
        from engine.store import repository as repo
        demo = next(d for d in repo.list_datasets(s) if d.name == "Demo movies")
    assert created == [DemoCreated(demo.id)]
    said.clear()
    prepare(store, progress=said.append)                 # a later launch: the demo is there already
    assert not any(isinstance(s, DemoCreated) for s in said)
