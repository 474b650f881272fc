import numpy as np
import pytest

from indexer.store import vectors as vi


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    x = centres[rng.integers(0, 50, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_choice_by_size_and_override():
    assert vi.choose(1_000) == "flat"
    assert vi.choose(vi.FLAT_MAX) == "flat"
    assert vi.choose(vi.FLAT_MAX + 1) == "ivf"
    assert vi.choose(10, "hnsw") == "hnsw"
    with pytest.raises(ValueError):
        vi.choose(10, "annoy")


@pytest.mark.parametrize("kind", ["ivf", pytest.param("hnsw", marks=pytest.mark.slow)])
def test_approximate_indexes_agree_with_exact_search(kind):
    x = _clustered(8000)
    q = _clustered(50, seed=1)
    flat, fp = vi.build(x, "flat")
    index, params = vi.build(x, kind)
    assert params["type"] == kind
    recall = []
    for v in q:
        exact = set(vi.search(flat, fp, v, 10)[1][0].tolist())
        got = set(vi.search(index, params, v, 10)[1][0].tolist())
        recall.append(len(exact & got) / 10)
    assert np.mean(recall) >= 0.9


@pytest.mark.parametrize("kind", ["flat", "ivf", pytest.param("hnsw", marks=pytest.mark.slow)])
def test_filtered_search_only_returns_allowed_ids_and_is_exact_for_small_sets(kind):
    x = _clustered(3000)
    index, params = vi.build(x, kind)
    allowed = np.arange(0, 3000, 7)
    q = x[14]
    scores, ids = vi.search(index, params, q, 5, allowed)
    assert set(ids[0].tolist()) <= set(allowed.tolist())
    assert ids[0][0] == 14  # the query vector itself is allowed and the best match
    exact = allowed[np.argsort(-(x[allowed] @ q))[:5]]
    assert ids[0].tolist() == exact.tolist()


@pytest.mark.parametrize("kind", ["flat", "ivf", pytest.param("hnsw", marks=pytest.mark.slow)])
def test_a_batch_gives_each_query_what_it_gets_searched_alone(kind):
    """One call for many queries (a batch's dense rankings) returns, row by row, exactly the scores and
    ids of each query searched alone: unfiltered, filtered through the index, and filtered exactly."""
    x = _clustered(3000)
    index, params = vi.build(x, kind)
    q = _clustered(9, seed=2)
    for allowed in (None, np.arange(0, 3000, 3), np.arange(0, 3000, 97)):
        scores, ids = vi.search(index, params, q, 20, allowed)
        assert scores.shape == ids.shape == (9, 20 if allowed is None else min(20, allowed.size))
        for i, v in enumerate(q):
            alone_scores, alone_ids = vi.search(index, params, v, 20, allowed)
            assert np.array_equal(alone_scores[0], scores[i]) and np.array_equal(alone_ids[0], ids[i])


def test_index_type_is_recorded_and_used_by_the_searcher(synthetic_corpus, tmp_path):
    from indexer.pipeline.build import build
    from indexer.store.embedded import EmbeddedBackend
    from search_app.core.searcher import Searcher

    build([synthetic_corpus], tmp_path / "ix", model="hash", progress=False, index_type="hnsw")
    assert EmbeddedBackend.open(tmp_path / "ix").manifest["vector_index"]["type"] == "hnsw"
    assert Searcher(tmp_path / "ix").search("kiểm thử tự động", top_k=1, method="dense")
