"""Hostile and careless files (issue 19): each fixture is generated here, at test time.

Nothing outside the indexed folders is read, a bad file (or line, or field) is reported and skipped
alone, memory stays bounded whatever a file claims, and the messages say the truth.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from helpers import LAW_FIXTURE, write

from indexer.load import LoadError, load_file
from indexer.pipeline.build import build
from indexer.store import open_backend

SECRET = "root:x:0:0 bí mật thử nghiệm ngoài kho"
GOOD = "Văn bản thử nghiệm số một: nội dung giả định phục vụ kiểm thử phần mềm."


def _docs(index: Path) -> dict[str, dict]:
    backend = open_backend(index)
    try:
        return {d["doc_id"]: {**d, "text": (backend.document(d["doc_id"], with_text=True) or {}).get("text", "")}
                for d in backend.documents()}
    finally:
        backend.close()


def _all_text(index: Path) -> str:
    return "\n".join(d["text"] for d in _docs(index).values())


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    return write(tmp_path / "ngoai-kho" / "secret.txt", SECRET + "\n")


def test_symlinks_are_not_followed_out_of_the_folder(tmp_path, outside):
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    (corpus / "leak.md").symlink_to(outside)
    (corpus / "leak.pdf").symlink_to(outside)
    (corpus / "thu-muc-ngoai").symlink_to(outside.parent, target_is_directory=True)
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    assert report.ok
    assert "bí mật" not in _all_text(tmp_path / "index")
    skipped = dict(report.skipped)
    assert set(_docs(tmp_path / "index")) == {"good.txt"}
    for name in ("leak.md", "leak.pdf", "thu-muc-ngoai"):
        assert "symbolic link" in skipped.get(name, ""), (name, report.skipped)


def test_a_file_swapped_for_a_symlink_after_collecting_is_not_read(tmp_path, outside):
    from indexer.load.base import read_bytes

    path = write(tmp_path / "corpus" / "a.txt", GOOD)
    path.unlink()
    path.symlink_to(outside)  # the swap happens between planning and loading
    with pytest.raises(LoadError, match="symbolic link"):
        read_bytes(path)


def test_special_files_are_refused_without_blocking(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    os.mkfifo(corpus / "fifo.txt")  # a reader that opened it blocking would hang the build
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    assert report.ok and "not a regular file" in dict(report.skipped).get("fifo.txt", ""), report.skipped
    from indexer.load.base import read_bytes

    with pytest.raises(LoadError, match="not a regular file"):
        read_bytes(corpus / "fifo.txt")


def test_dotdot_in_a_jsonl_source_or_path_reads_nothing(tmp_path, outside):
    corpus = tmp_path / "corpus"
    rel = os.path.relpath(outside, corpus)
    write(corpus / "a.jsonl", json.dumps({"id": "j1", "text": GOOD, "source": rel, "path": rel}) + "\n")
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    assert report.ok
    assert "bí mật" not in _all_text(tmp_path / "index")
    from search_app.page.originals import original_file

    doc = _docs(tmp_path / "index")["j1"]
    assert doc["path"] == "a.jsonl"  # the file the line came from, never a path the line names
    assert original_file([corpus], {**doc, "path": rel}) is None


def test_a_sparse_2gb_text_file_is_skipped_without_being_read(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    with open(corpus / "sparse.txt", "wb") as f:
        f.truncate(2 * 1024**3)  # 2 GiB of holes: no disk used
    tracemalloc.start()
    try:
        report = build([corpus], tmp_path / "index", model="hash", progress=False)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB: the sparse file was read"
    reason = dict(report.skipped)["sparse.txt"]
    assert "2048 MiB" in reason and "50 MiB limit" in reason


def test_file_hash_streams(tmp_path):
    from indexer.pipeline.stages import file_hash

    path = tmp_path / "x.txt"
    with open(path, "wb") as f:
        f.write(b"A" * (40 * 2**20))
    tracemalloc.start()
    try:
        file_hash(path)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"hashing a 40 MiB file took {peak / 2**20:.0f} MiB"


def _lying_docx(path: Path, payload_mib: int = 120) -> Path:
    """A DOCX whose document.xml inflates to `payload_mib` MiB while its central directory says 1,000 bytes."""
    import docx

    d = docx.Document()
    d.add_paragraph("Văn bản thử nghiệm")
    d.save(path.with_suffix(".seed.docx"))
    with zipfile.ZipFile(path.with_suffix(".seed.docx")) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "word/document.xml":
                z.writestr(info.filename, data)
                continue
            head, tail = data.decode().split("</w:body>")
            with z.open("word/document.xml", "w", force_zip64=False) as f:  # streamed: no big string here
                f.write((head + "<w:p><w:r><w:t>").encode())
                for _ in range(payload_mib):
                    f.write(b"A" * 2**20)
                f.write(("</w:t></w:r></w:p></w:body>" + tail).encode())
    raw = bytearray(path.read_bytes())
    pos = raw.find(b"PK\x01\x02")
    while pos >= 0:  # the lie: every central-directory entry for document.xml claims 1,000 bytes
        n = int.from_bytes(raw[pos + 28:pos + 30], "little")
        if raw[pos + 46:pos + 46 + n] == b"word/document.xml":
            raw[pos + 24:pos + 28] = (1000).to_bytes(4, "little")
        pos = raw.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(raw))
    return path


def test_a_docx_lying_about_its_sizes_is_bounded_by_what_is_decompressed(tmp_path):
    bomb = _lying_docx(tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(LoadError) as err:
            load_file(bomb)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a {bomb.stat().st_size} byte file"
    assert "DOCX" in str(err.value)


def test_an_honest_docx_still_loads(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Văn bản thử nghiệm", level=1)
    d.add_paragraph(GOOD)
    d.save(tmp_path / "ok.docx")
    assert GOOD in load_file(tmp_path / "ok.docx")[0].text


def test_bad_metadata_values_are_reported_per_file_and_line_and_the_rest_is_indexed(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    write(corpus / "a.txt", LAW_FIXTURE)
    write(corpus / "a.txt.meta.json", json.dumps({"date": 2024, "title": "Văn bản thử nghiệm A"}))
    write(corpus / "b.jsonl", json.dumps({"id": "j1", "text": GOOD + " một", "doc_type": {"x": 1}}) + "\n"
          + json.dumps({"id": "j2", "text": GOOD + " hai", "issuer": ["Ban thử nghiệm"]}) + "\n"
          + json.dumps({"id": "j3", "text": GOOD + " ba", "doc_type": "Báo cáo"}) + "\n")
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    docs = _docs(tmp_path / "index")
    assert {"good.txt", "a.txt", "j1", "j2", "j3"} <= set(docs), report.summary()
    assert docs["a.txt"]["title"] == "Văn bản thử nghiệm A" and docs["a.txt"]["date"] == "2099-06-05"
    assert docs["j1"]["doc_type"] is None and docs["j3"]["doc_type"] == "Báo cáo"
    notes = "\n".join(report.notes)
    assert re.search(r"a\.txt: .*\"date\"", notes), notes
    assert re.search(r"b\.jsonl: line 1: .*\"doc_type\"", notes), notes
    assert re.search(r"b\.jsonl: line 2: .*\"issuer\"", notes), notes


def test_one_nul_line_in_jsonl_skips_that_line_only(tmp_path):
    path = write(tmp_path / "a.jsonl", (json.dumps({"id": "j1", "text": GOOD}) + "\n").encode()
                 + b'{"id": "j2", "text": "nh\x00ng"}\n'
                 + (json.dumps({"id": "j3", "text": GOOD + " ba"}, ensure_ascii=False) + "\n").encode())
    docs = load_file(path)
    assert [d.doc_id for d in docs] == ["j1", "j3"]
    assert any("line 2" in n and "NUL" in n for n in docs[0].notes), docs[0].notes


def test_a_jsonl_id_never_takes_another_files_document_id(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "good1.txt", GOOD)
    # sorted before good1.txt, so it is read first
    write(corpus / "a.jsonl", json.dumps({"id": "good1.txt", "text": "Văn bản giả mạo thử nghiệm."}) + "\n")
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    docs = _docs(tmp_path / "index")
    assert GOOD in docs["good1.txt"]["text"] and docs["good1.txt"]["path"] == "good1.txt"
    forged = [d for d in docs.values() if d["path"] == "a.jsonl"]
    assert len(forged) == 1 and forged[0]["doc_id"] != "good1.txt"
    assert any("good1.txt" in n and "a.jsonl" in n for n in report.notes), report.notes


def test_an_update_never_moves_an_existing_document_id(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "good1.txt", GOOD)
    build([corpus], tmp_path / "index", model="hash", progress=False)
    write(corpus / "a.jsonl", json.dumps({"id": "good1.txt", "text": "Văn bản giả mạo thử nghiệm."}) + "\n")
    build([corpus], tmp_path / "index", model="hash", progress=False, incremental=True)
    docs = _docs(tmp_path / "index")
    assert GOOD in docs["good1.txt"]["text"]
    assert "good1.txt#good1.txt" not in docs


def test_hidden_files_and_readmes_are_noted_not_silently_dropped(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    write(corpus / ".an.txt", GOOD + " ẩn")
    write(corpus / ".thu-muc-an" / "b.txt", GOOD + " ẩn hai")
    write(corpus / "README.md", "# Mô tả kho thử nghiệm")
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    skipped = dict(report.skipped)
    assert "name starts with a dot" in skipped.get(".an.txt", ""), report.skipped
    assert "name starts with a dot" in skipped.get(".thu-muc-an", ""), report.skipped
    assert "README" in skipped.get("README.md", ""), report.skipped


def test_size_limits_are_said_in_mib(tmp_path):
    from indexer.load import base

    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        f.truncate(base.MAX_FILE_BYTES + 1)
    with pytest.raises(LoadError) as err:
        load_file(path)
    assert "over the 50 MiB limit" in str(err.value), err.value


def test_a_failed_encoding_guess_never_shows_a_negative_share(tmp_path):
    # high bytes (not UTF-8) among control characters: more noise than words
    data = (b"\x01\x02\x03\x04\x05\x06\x07\x08" * 20 + b" \xe0\xe1 \xe2\xe3 ") * 30
    with pytest.raises(LoadError) as err:
        load_file(write(tmp_path / "noise.txt", data))
    assert not re.search(r"-\d+%", str(err.value)), err.value


def test_pypdf_warnings_go_to_the_report_not_stderr(tmp_path, font_path, capfd):
    from test_loaders import _pdf

    corpus = tmp_path / "corpus"
    pdf = _pdf(corpus / "cut.pdf", font_path, ["Văn bản thử nghiệm có trang bị cắt cụt ở cuối tệp."])
    data = pdf.read_bytes()
    end = data.rindex(b"%%EOF")
    pdf.write_bytes(data[: end + 4])  # "%%EO": pypdf warns that the marker seems truncated, and reads on
    write(corpus / "gone.pdf", data[:end])  # no marker at all: pypdf warns "EOF marker not found", then fails
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    err = capfd.readouterr().err
    assert report.ok
    assert "EOF marker" not in err, err
    assert any("cut.pdf" in n and "EOF marker seems truncated" in n for n in report.notes), report.notes
    assert "EOF marker not found" in dict(report.skipped)["gone.pdf"], report.skipped


def test_the_cli_never_prints_raw_control_characters_from_file_names(tmp_path, capsys):
    from indexer.cli import main

    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    write(corpus / "x\x1b[31mđỏ\nGIẢ.xyz", "a")  # unsupported: its name is printed in the summary
    rc = main(["build", str(corpus), "--index", str(tmp_path / "index"), "--model", "hash", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "\x1b" not in out and "\nGIẢ" not in out, out
    assert "\\x1b[31mđỏ\\nGIẢ.xyz" in out


def test_a_full_disk_stops_with_a_clear_message_before_anything_is_half_written(tmp_path, monkeypatch, capsys):
    from indexer.cli import main
    from indexer.store.embedded import current_generation

    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", GOOD)
    index = tmp_path / "index"
    build([corpus], index, model="hash", progress=False)
    before = current_generation(index)
    write(corpus / "new.txt", GOOD + " mới")
    real = shutil.disk_usage

    def nearly_full(path):
        usage = real(path)
        return type(usage)(usage.total, usage.total - 2**20, 2**20)  # 1 MiB free

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    rc = main(["update", str(corpus), "--index", str(index), "--model", "hash", "--quiet"])
    err = capsys.readouterr().err
    assert rc != 0
    assert "free" in err and "disk" in err and "Traceback" not in err, err
    assert current_generation(index) == before
    assert not list(index.glob(".tmp-*")), list(index.glob(".tmp-*"))
