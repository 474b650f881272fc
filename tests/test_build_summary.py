"""The build summary counts what the build did: files read (added, changed), unchanged, removed."""

from __future__ import annotations

from helpers import write

from indexer.pipeline.build import build


def test_the_summary_counts_changed_unchanged_and_removed_files_exactly(tmp_path):
    corpus = tmp_path / "c"
    for i in range(4):
        write(corpus / f"van-ban-{i}.txt", f"Văn bản thử nghiệm số {i}.\n\nĐoạn thử nghiệm {i} về kho giả định.")
    first = build([corpus], tmp_path / "ix", model="hash", progress=False)
    assert first.summary().splitlines()[0].startswith(
        "Files indexed: 4 (added 4, changed 0)   unchanged: 0   removed: 0   in the index: 4")
    write(corpus / "van-ban-0.txt", "Văn bản thử nghiệm số 0, sửa đổi.\n\nĐoạn thử nghiệm mới về kho giả định.")
    (corpus / "van-ban-3.txt").unlink()
    write(corpus / "van-ban-4.txt", "Văn bản thử nghiệm số 4.\n\nĐoạn thử nghiệm bổ sung về kho giả định.")
    update = build([corpus], tmp_path / "ix", model="hash", progress=False, incremental=True)
    line = update.summary().splitlines()[0]
    assert line.startswith("Files indexed: 2 (added 1, changed 1)   unchanged: 2   removed: 1   in the index: 4"), line
    d = update.to_dict()
    assert (d["added"], d["changed"], d["removed"]) == (["van-ban-4.txt"], ["van-ban-0.txt"], ["van-ban-3.txt"])
