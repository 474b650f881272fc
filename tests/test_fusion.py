from search_app.core.fusion import top, weighted


def test_weighted_fusion_normalises_each_list():
    fused = weighted({1: 0.88, 2: 0.80}, {2: 30.0, 3: 10.0}, dense_weight=0.4)
    # 2 is second on dense but first on keyword; 1 only on dense; 3 only on keyword, lowest there
    assert top(fused, 3) == [2, 1, 3]
