"""The passages' syllables the embedded index stores at build time (indexer/text/words.py): the same
words a search would split the text into, used instead of splitting it, and never a different result."""

from dataclasses import asdict

from helpers import write

from indexer.pipeline.build import build
from indexer.store.embedded import EmbeddedBackend, current_generation
from indexer.store.embedded.generation import WORDS
from indexer.text import words
from indexer.text.normalise import syllables
from search_app.core import answerable, stages
from search_app.core.searcher import Searcher

QUERIES = ["văn bản thử nghiệm", "kiem tra cap nhat", "Điều 4", "phỏng vấn nhân vật giả định", "What is tested?"]


def _lines_match_rows(index) -> int:
    """Every segment's stored line is its row's passage syllables; the rows checked."""
    backend = EmbeddedBackend.open(index)
    checked = 0
    try:
        for seg in backend._live.segments:
            rows = list(range(len(seg.row_pid)))
            lines = seg.word_lines(rows)
            assert lines is not None, f"{seg.path.name} stores no words"
            texts = {r["pid"]: r["text"] for r in backend.passages([int(p) for p in seg.row_pid])}
            for pid, stored in zip(seg.row_pid.tolist(), lines, strict=True):
                if pid in texts:  # a row of a document a later delta hides has no passage to show
                    assert stored.split() == syllables(texts[pid]) and stored == words.line(texts[pid])
                    checked += 1
    finally:
        backend.close()
    return checked


def _forget_words() -> None:
    """The process's caches of passage words emptied: the next search reads or splits them anew."""
    for cached in (words.passage_words, answerable._passage, stages.folded_words):
        cached.cache_clear()


def _results(index) -> list:
    _forget_words()
    s = Searcher(index)
    try:
        return [[asdict(h) for h in s.search(q, top_k=10)] + [s.search(q).answerable] for q in QUERIES]
    finally:
        s.close()


def test_the_stored_words_are_the_passages_syllables_and_change_no_result(hash_index):
    assert _lines_match_rows(hash_index) >= 5
    with_words = _results(hash_index)
    assert any(r[:-1] for r in with_words)
    (current_generation(hash_index) / WORDS).rename(current_generation(hash_index) / "words.old")
    assert _results(hash_index) == with_words  # split at search time instead: the same hits


def test_a_search_takes_the_stored_words_instead_of_splitting_passages(hash_index, monkeypatch):
    _forget_words()
    split: list[str] = []
    real = words.syllables
    monkeypatch.setattr(words, "syllables", lambda t: split.append(t) or real(t))
    s = Searcher(hash_index)
    try:
        hits = s.search("văn bản thử nghiệm", top_k=5)
    finally:
        s.close()
    assert hits and not {h.text for h in hits} & set(split)


def test_an_update_stores_the_words_of_its_delta_rows(synthetic_corpus, hash_index):
    law = synthetic_corpus / "luat-thu-nghiem.txt"
    write(law, law.read_text(encoding="utf-8") + "\nĐiều 4. Điều khoản mới thêm\nVăn bản thử nghiệm điều mới.\n")
    (synthetic_corpus / "xss.html").unlink()
    assert build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True).ok
    backend = EmbeddedBackend.open(hash_index)
    try:
        assert len(backend._live.segments) == 2  # a base and the delta written on it
    finally:
        backend.close()
    assert _lines_match_rows(hash_index) >= 5


def test_a_words_file_of_another_row_count_is_not_used(hash_index):
    gen = current_generation(hash_index)
    (gen / WORDS).write_text("một dòng", encoding="utf-8")
    backend = EmbeddedBackend.open(hash_index)
    try:
        assert backend._live.segments[-1].word_lines([0]) is None
    finally:
        backend.close()
