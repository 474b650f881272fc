from search_app.core.fusion import top, weighted


def test_weighted_fusion_normalises_each_list():
    fused = weighted({1: 0.88, 2: 0.80}, {2: 30.0, 3: 10.0}, dense_weight=0.4)
    # 2 is second on dense but first on keyword; 1 only on dense; 3 only on keyword, lowest there
    assert top(fused, 3) == [2, 1, 3]


def test_a_candidate_missing_from_a_list_gets_that_lists_minimum_on_both_sides():
    # keyword scores 30 and 20: normalised over their own range (1.0 and 0.0), not scaled by the
    # maximum alone (1.0 and 0.67) as a raw 0 for the dense-only candidate 9 would make them
    fused = weighted({1: 0.9, 2: 0.9, 9: 0.9}, {1: 30.0, 2: 20.0}, dense_weight=0.5)
    assert fused[1] == 1.0 and fused[2] == fused[9] == 0.5
    # and the same on the dense side: a keyword-only candidate takes the dense minimum
    fused = weighted({1: 0.9, 2: 0.7}, {1: 5.0, 2: 5.0, 9: 5.0}, dense_weight=0.5)
    assert fused[1] == 1.0 and fused[2] == fused[9] == 0.5
