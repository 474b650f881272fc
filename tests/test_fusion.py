from search_app.core.fusion import top, weighted


def test_weighted_fusion_normalises_each_list():
    fused = weighted({1: 0.88, 2: 0.80}, {2: 30.0, 3: 10.0}, dense_weight=0.4)
    # 2 is second on dense but first on keyword; 1 only on dense; 3 only on keyword, lowest there
    assert top(fused, 3) == [2, 1, 3]


def test_a_missing_candidate_takes_the_dense_minimum_and_the_bm25_zero():
    # keyword scores 30 and 20 with a dense-only candidate 9: normalised over [0, 30] (BM25's own zero),
    # so 20 keeps two thirds of the best hit's weight
    fused = weighted({1: 0.9, 2: 0.9, 9: 0.9}, {1: 30.0, 2: 20.0}, dense_weight=0.5)
    assert fused[1] == 1.0 and abs(fused[2] - (0.5 + 0.5 * 20 / 30)) < 1e-12 and fused[9] == 0.5
    # the dense side has no natural zero: a keyword-only candidate takes the dense minimum
    fused = weighted({1: 0.9, 2: 0.7}, {1: 5.0, 2: 5.0, 9: 5.0}, dense_weight=0.5)
    assert fused[1] == 1.0 and fused[2] == fused[9] == 0.5


def test_the_fused_ranking_is_the_ranking_of_the_fused_scores():
    from search_app.core import fusion

    dense = {5: 0.81, 2: 0.80, 9: 0.79, 4: 0.80}
    keyword = {2: 7.5, 7: 3.0, 4: 3.0, 11: 0.5}
    for w in (0.0, 0.3, 0.5, 1.0):
        assert fusion.weighted_ranking(dense, keyword, w) == fusion.ranking(fusion.weighted(dense, keyword, w))
    assert fusion.weighted_ranking({}, {}) == []
