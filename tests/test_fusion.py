from search_app.fusion import rrf, top, weighted


def test_rrf_on_a_fixed_ranking():
    fused = rrf([[1, 2, 3], [3, 1, 4]], k=60)
    assert top(fused, 4) == [1, 3, 2, 4]
    assert abs(fused[1] - (1 / 61 + 1 / 62)) < 1e-12
    assert abs(fused[4] - 1 / 63) < 1e-12


def test_rrf_weights_shift_the_order():
    assert top(rrf([[1, 2], [2, 1]], weights=[2.0, 1.0]), 2) == [1, 2]
    assert top(rrf([[1, 2], [2, 1]], weights=[1.0, 2.0]), 2) == [2, 1]


def test_weighted_fusion_normalises_each_list():
    fused = weighted({1: 0.88, 2: 0.80}, {2: 30.0, 3: 10.0}, dense_weight=0.4)
    # 2 is second on dense but first on keyword; 1 only on dense; 3 only on keyword, lowest there
    assert top(fused, 3) == [2, 1, 3]
