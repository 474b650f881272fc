"""Indexing progress: a total and the time left; one line per file with --verbose."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT, write


def _build(corpus, index, *flags):
    return subprocess.run([sys.executable, "-m", "indexer", "build", str(corpus), "--index", str(index),
                           "--model", "hash", *flags], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=120)


@pytest.mark.slow
def test_progress_has_a_total_and_verbose_lists_each_file(synthetic_corpus, tmp_path):
    write(synthetic_corpus / "tap-hop.md", "# Nghị quyết số 999-NQ/TEST\n\nVăn bản thử nghiệm. " + "Câu giả định. " * 30
          + "\n\n# Kết luận số 998-KL/TEST\n\nKết luận số 998-KL/TEST ngày 03/04/2098 về văn bản thử nghiệm.\n")
    err = _build(synthetic_corpus, tmp_path / "ix", "--verbose").stderr
    assert "luat-thu-nghiem.txt: 1 document(s) (999/2099/QH99)" in err
    assert "tap-hop.md: 2 document(s) (999-NQ/TEST, 998-KL/TEST)" in err
    # tqdm with a total: "n/total" and a time left ("<mm:ss") instead of "845text [02:54, …]"
    bar = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith("Embedding")][-1]
    done, total = bar.split("|")[-1].split()[0].split("/")
    assert done == total and int(total) > 0 and "<" in bar


@pytest.mark.slow
def test_quiet_prints_no_bar(synthetic_corpus, tmp_path):
    assert "Embedding" not in _build(synthetic_corpus, tmp_path / "ix", "--quiet").stderr


REPEATED = "Văn bản thử nghiệm lặp lại.\n\n" + "Đoạn thử nghiệm giống hệt nhau.\n\n" * 6


def _totals(err: str) -> list[tuple[int, int]]:
    bars = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith("Embedding") and "/" in ln]
    pairs = [ln.split("|")[-1].split()[0].split("/") for ln in bars]
    return [(int(a), int(b)) for a, b in pairs]


@pytest.mark.slow
def test_the_bar_total_is_known_before_it_starts(synthetic_corpus, tmp_path):
    # repeated boilerplate and, on the update, vectors the index already holds: none is counted
    write(synthetic_corpus / "lap-lai.txt", REPEATED)
    first = _totals(_build(synthetic_corpus, tmp_path / "ix").stderr)
    assert first[0][0] == 0 and len({t for _, t in first}) == 1 and first[-1][0] == first[-1][1]
    write(synthetic_corpus / "lap-lai.txt", REPEATED + "Một đoạn thử nghiệm mới.")
    update = subprocess.run([sys.executable, "-m", "indexer", "update", str(synthetic_corpus), "--index",
                             str(tmp_path / "ix"), "--model", "hash"], cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=120).stderr
    again = _totals(update)
    assert len({t for _, t in again}) == 1 and again[-1][0] == again[-1][1] and again[-1][1] < first[-1][1]
