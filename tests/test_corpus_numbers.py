"""The numbers a whole index holds (search_app/core/corpus_numbers.py) and how the answerable decision
reads them."""

from __future__ import annotations

import pytest

from search_app.core import answerable
from search_app.core.corpus_numbers import CorpusNumbers, CorpusNumbersCache, numbers

TEXTS = ["Thực hiện Nghị quyết số 999-NQ/TEST ngày 01/01/2099 về vùng thử nghiệm.",
         "Văn bản thử nghiệm: đến năm 2098, khoản 2, tỷ lệ 1,5% và 07 đơn vị.",
         "Văn bản thử nghiệm không có con số nào."]


def test_numbers_are_runs_of_two_digits_or_more_without_leading_zeros():
    assert numbers("ngày 10/02/2022, khoản 2, tỷ lệ 1,5%") == ["10", "2022"]
    assert numbers("the 13th Congress by 2045") == ["13", "2045"]
    assert numbers("999-NQ/TEST; 007") == ["999"]
    assert numbers("không có số") == []


def test_the_share_of_the_query_numbers_the_corpus_never_holds():
    held = CorpusNumbers(TEXTS)
    assert "999" in held and "2099" in held and "2098" in held and "2097" not in held
    assert "7" not in held and len(held) == 3  # "01", "07", "2", "1,5" are too short to count
    assert held.unseen("mục tiêu đến năm 2098") == 0.0
    assert held.unseen("mục tiêu đến năm 2097") == 1.0
    assert held.unseen("từ năm 2097 đến năm 2099") == 0.5
    assert held.unseen("khoản 2 điều 5") == 0.0  # no number that proves anything: none unseen
    assert CorpusNumbers([]).unseen("năm 2098") == 1.0


def test_an_unseen_number_lowers_the_confidence():
    held = CorpusNumbers(TEXTS)
    ev = {"best": 0.85, "typical": 0.82, "margin": 0.05, "coverage": 1.0, "bigrams": 0.5}
    seen = answerable.confidence({**ev, "unseen_numbers": held.unseen("vùng thử nghiệm năm 2098")})
    unseen = answerable.confidence({**ev, "unseen_numbers": held.unseen("vùng thử nghiệm năm 2097")})
    assert unseen < seen
    assert answerable.confidence({**ev, "unseen_numbers": None}) == seen  # none looked for counts as none


def test_decide_reads_the_numbers_when_given_them():
    from test_answerable import _inputs

    text, query = TEXTS[1], "văn bản thử nghiệm năm 2097"
    # a similarity a little above the everyday texts': the confidence is not saturated either way
    sim = answerable.decide(_inputs(query, [text], [0.0])).everyday + 0.05
    without = answerable.decide(_inputs(query, [text], [sim]))
    assert without.unseen_numbers is None and without.answerable
    given = answerable.decide(_inputs(query, [text], [sim], numbers=CorpusNumbers(TEXTS)))
    assert given.unseen_numbers == 1.0 and given.confidence < without.confidence and not given.answerable
    seen = answerable.decide(_inputs("văn bản thử nghiệm năm 2098", [text], [sim], numbers=CorpusNumbers(TEXTS)))
    assert seen.unseen_numbers == 0.0 and seen.answerable


class _Backend:
    """A backend of two passages whose generation a test moves."""

    def __init__(self) -> None:
        self.manifest = {"generation": "g1"}
        self.reads = 0

    def documents(self):
        return [{"doc_id": "a"}]

    def doc_passages(self, doc_id):
        self.reads += 1
        return [{"text": TEXTS[0]}, {"text": TEXTS[1] if self.manifest["generation"] == "g1" else "năm 2097"}]


def test_the_numbers_are_read_once_per_generation():
    backend, cache = _Backend(), CorpusNumbersCache()
    assert cache.of(backend).unseen("năm 2097") == 1.0 and cache.of(backend).unseen("năm 2098") == 0.0
    assert backend.reads == 1
    backend.manifest["generation"] = "g2"
    cache.prepare(backend)  # a refresh reads the next generation's before it switches
    assert backend.reads == 2
    assert cache.of(backend).unseen("năm 2097") == 0.0 and backend.reads == 2


@pytest.mark.parametrize("method", ["hybrid", "keyword"])
def test_a_search_reports_the_unseen_numbers(hash_index, method):
    from search_app.core.searcher import Searcher

    searcher = Searcher(hash_index)
    assert searcher.search("vùng thử nghiệm năm 2097", 5, method=method).evidence["unseen_numbers"] == 1.0
    assert searcher.search("Văn bản thử nghiệm", 5, method=method).evidence["unseen_numbers"] == 0.0


def _row(i: int, answerable_: bool, unseen: float) -> dict:
    """A synthetic benchmark row: alike in every signal but the numbers."""
    return {"corpus": "thử nghiệm", "set": "thu-nghiem", "id": f"t{i}", "half": "tune", "in_corpus": answerable_,
            "number_known": False, "phrase": False, "best": 0.85, "typical": 0.82, "margin": 0.04,
            "coverage": 0.8, "bigrams": 0.5, "foreign": False, "sentence_pairs": 0.5, "unseen_numbers": unseen}


def test_cross_validation_sees_what_a_signal_adds():
    from benchmarks.answerable_corpora import cross_validate

    # out-of-corpus questions differ from answerable ones only by a number the corpus never holds
    rows = [_row(i, True, 0.0) for i in range(40)] + [_row(100 + i, False, 1.0) for i in range(40)]
    rows += [_row(200, False, 0.0)]
    cv = cross_validate(rows, 2)
    kept = cv["corpora"]["thử nghiệm"]
    assert kept["answerable"] == 40 and kept["out_of_corpus"] == 41  # every row, whatever its half
    assert kept["answerable_wrongly_flagged"] == 0 and kept["out_of_corpus_flagged"] == 40
    without = cross_validate(rows, 2, drop=(6,))  # without the numbers every row looks the same
    assert without["corpora"]["thử nghiệm"]["out_of_corpus_flagged"] < 40 and without["log_loss"] > cv["log_loss"]
