"""The static fallback encoder (averaged MiniLM token embeddings): real weights, a few sentences."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def static():
    from engine.encoder.static import load_static_encoder
    return load_static_encoder()


def test_static_vectors_are_unit_length_and_deterministic(static):
    texts = ["a funny animated film for children", "red wine from Bordeaux", ""]
    v = static.encode(texts)
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:2], axis=1), 1.0, atol=1e-5)
    assert not v[2].any()                          # no tokens: a zero row, not NaN
    np.testing.assert_array_equal(v, static.encode(texts, batch_size=1))


def test_static_paraphrases_score_above_unrelated_texts(static):
    kids, cartoon, wine, claret, space, androids = static.encode([
        "a funny animated film for children", "a cartoon comedy for kids", "red wine from Bordeaux",
        "a French claret", "space adventure with robots", "science fiction about androids in orbit"])
    assert kids @ cartoon > kids @ wine
    assert wine @ claret > wine @ space
    assert space @ androids > space @ wine


def test_auto_picks_the_static_encoder_above_the_threshold_and_search_uses_it(store, monkeypatch):
    from engine.data.dataset import load_dataset
    from engine.encoder import catalogue
    from engine.explore.similarity import semantic_encoder_name
    from engine.language.search import search_items
    from tests.engine.movies import write_films
    write_films(store)
    ds = load_dataset(store, "films")
    assert catalogue.choose_encoder(ds.n_items) == "all-MiniLM-L6-v2"
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", ds.n_items - 1)
    assert catalogue.choose_encoder(ds.n_items) == "minilm-static"
    assert catalogue.choose_encoder(ds.n_items, "minilm") == "all-MiniLM-L6-v2"
    stages = []
    s = catalogue.encode_catalogue(store, ds, progress=lambda u: stages.append(u.stage))
    assert s.encoder == "minilm-static" and s.encoded == ds.n_items and s.path.endswith("minilm-static.npz")
    assert any("minilm-static" in st for st in stages)
    assert not catalogue.cache_path(store, ds.info.id, "all-MiniLM-L6-v2").exists()
    assert catalogue.encoded_fraction(store, ds) == 1.0
    from engine.explore.similarity import attach_semantic
    vectors = attach_semantic(store, ds)
    assert semantic_encoder_name(ds) == "minilm-static"
    np.testing.assert_allclose(vectors[3], catalogue.encoder_by_name("minilm-static").encode([ds.item_text(3)])[0],
                               atol=1e-6)
    hits = search_items(ds, ds.item_text(5), 3).hits       # queries go through the same static encoder:
    assert hits[0].item == 5 and hits[0].meaning > 0.999    # an item's own text finds it at cosine 1
