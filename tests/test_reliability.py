"""Faults: a killed indexer, searches during an update, random bytes fed to every loader."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import LAW_FIXTURE, ROOT, unpublished_write, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.load import LOADERS, LoadError, load_file
from indexer.pipeline.build import build
from indexer.store.embedded import current_generation
from search_app.core.searcher import Searcher


def _big_corpus(folder, n: int = 400):
    for i in range(n):
        body = LAW_FIXTURE.replace("999/2099/QH99", f"{i}/2099/QH99")
        body = body.replace("THỬ NGHIỆM TRA CỨU", f"THỬ NGHIỆM SỐ {i}")
        body += f"\nĐiều 9. Điều riêng {i}\nNội dung riêng của văn bản thử nghiệm {i}.\n"
        write(folder / f"luat-{i:04d}.txt", body)
    return folder


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_the_previous_index_usable(synthetic_corpus, hash_index, tmp_path):
    big = _big_corpus(tmp_path / "big")
    before = current_generation(hash_index)
    cmd = [sys.executable, "-m", "indexer", "build", str(big), "--index", str(hash_index), "--model", "hash",
           "--quiet"]
    start = time.perf_counter()
    full = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300, env={**os.environ, "NO_COLOR": "1"},
                          check=False)
    duration = time.perf_counter() - start
    assert full.returncode == 0
    # Put the small index back as "previous", then kill builds at spread-out moments.
    build([synthetic_corpus], hash_index, model="hash", progress=False)
    previous = current_generation(hash_index)
    assert previous != before
    mid_write = 0
    for fraction in (0.05, 0.2, 0.4, 0.6, 0.75, 0.85, 0.95):
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gen = current_generation(hash_index)
        mid_write += unpublished_write(hash_index) and gen == previous
        assert gen is not None, "the pointer must always name a complete generation"
        hits = Searcher(hash_index).search("kiểm thử tự động", top_k=1)
        assert hits, f"no answer after a kill at {fraction:.0%} of the build"
        if gen != previous:  # the kill came after the switch: the new index must be complete
            assert Searcher(hash_index).status()["documents"] == 400
            build([synthetic_corpus], hash_index, model="hash", progress=False)
            previous = current_generation(hash_index)
    # the kills must have hit the writer while it wrote, not only before it began or after it published
    assert mid_write >= 2, f"only {mid_write} of 7 kills landed mid-write"


@pytest.mark.slow
def test_searches_keep_answering_while_updates_swap_the_index(synthetic_corpus, hash_index):
    searcher = Searcher(hash_index)
    errors: list[BaseException] = []
    empties = []
    answered = [0]
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                searcher.refresh()
                hits = searcher.search("kiểm thử tự động", top_k=3)
                if not hits or "kiểm thử tự động" not in hits[0].text:
                    empties.append(hits)
                answered[0] += 1
            except BaseException as e:  # noqa: BLE001 - any error is a failure here
                errors.append(e)

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(8):
            write(synthetic_corpus / f"them-{i}.txt", f"Văn bản thử nghiệm bổ sung số {i} cho kiểm tra đồng thời.")
            build([synthetic_corpus], hash_index, model="hash", progress=False, incremental=True)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert not empties
    assert answered[0] > 20
    searcher.refresh()  # the loop may have stopped before it saw the last update
    assert searcher.status()["documents"] == 3 + 8


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=4096), ext=st.sampled_from(sorted(LOADERS)))
def test_random_bytes_never_crash_a_loader(tmp_path, data, ext):
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    try:
        docs = load_file(path)
    except LoadError:
        return
    for d in docs:
        assert isinstance(d.text, str) and d.text.strip()


@pytest.mark.parametrize("ext", sorted(LOADERS))
def test_random_files_never_crash_a_build(tmp_path, ext):
    import random

    rng = random.Random(ext)
    corpus = tmp_path / "c"
    write(corpus / "good.txt", "Văn bản thử nghiệm hợp lệ để chắc chắn có một tệp được lập chỉ mục.")
    for i in range(5):
        write(corpus / f"junk-{i}{ext}", rng.randbytes(rng.randint(0, 3000)))
    report = build([corpus], tmp_path / "ix", model="hash", progress=False)
    assert report.ok and "good.txt" in report.files_indexed
    assert len(report.files_indexed) + len(report.skipped) == 6
