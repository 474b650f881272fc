"""Fuzzing the loaders (issue 19) with synthetic, real-looking files and byte-level mutations of them.

Every file goes to one worker process that runs under RLIMIT_AS (bounded memory) and SIGALRM
(bounded time per file); any outcome other than documents or LoadError is a failure. OCR is
switched off in the worker (a missing Tesseract), so a PDF that lost its text layer is refused
quickly instead of spending the budget on recognition.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest
from helpers import LAW_FIXTURE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

MEMORY_LIMIT = 2 * 1024**3  # address space of the worker, libraries included
SECONDS_PER_FILE = 10
WORKER = f"""
import json, resource, signal, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
from indexer.load import LoadError, load_file
from indexer.split import split_document
def alarm(*_): raise TimeoutError
signal.signal(signal.SIGALRM, alarm)
print("ready", flush=True)
for line in sys.stdin:
    t = time.perf_counter()
    signal.alarm({SECONDS_PER_FILE})
    try:
        docs = load_file(Path(line.strip()))
        for d in docs:  # the splitter runs under the same budget: a file is loaded and cut in time
            split_document("d", d.text, d.headings, d.pages)
        r = {{"docs": len(docs), "text": all(isinstance(d.text, str) and d.text.strip() for d in docs)}}
    except LoadError as e:
        r = {{"load_error": str(e)[:200]}}
    except TimeoutError:
        r = {{"timeout": True}}
    except MemoryError:
        r = {{"memory": True}}
    except BaseException as e:
        r = {{"crash": (type(e).__name__ + ": " + str(e))[:300]}}
    finally:
        signal.alarm(0)
    r["seconds"] = round(time.perf_counter() - t, 3)
    print(json.dumps(r), flush=True)
"""


def _seeds(font: str) -> dict[str, bytes]:
    """One visibly synthetic document per format."""
    import docx
    from fpdf import FPDF

    d = docx.Document()
    d.add_heading("Văn bản thử nghiệm", level=1)
    for line in LAW_FIXTURE.splitlines()[:12]:
        d.add_paragraph(line)
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Ô thử nghiệm", "Giá trị giả định"
    buf = io.BytesIO()
    d.save(buf)
    pdf = FPDF()
    pdf.add_font("DejaVu", "", font)
    pdf.set_font("DejaVu", size=12)
    for chunk in (LAW_FIXTURE[:600], LAW_FIXTURE[600:]):
        pdf.add_page()
        pdf.multi_cell(0, 8, chunk)
    html = ("<html><head><title>Văn bản thử nghiệm</title></head><body><nav>Menu</nav><article><h1>Tiêu đề thử "
            "nghiệm</h1>" + "".join(f"<p>{ln}</p>" for ln in LAW_FIXTURE.splitlines()) + "</article></body></html>")
    jsonl = "".join(json.dumps({"id": f"j{i}", "text": ln, "doc_type": "Báo cáo"}, ensure_ascii=False) + "\n"
                    for i, ln in enumerate(LAW_FIXTURE.splitlines()[:8]))
    return {".docx": buf.getvalue(), ".pdf": bytes(pdf.output()), ".html": html.encode(),
            ".jsonl": jsonl.encode(), ".txt": LAW_FIXTURE.encode(), ".md": ("# " + LAW_FIXTURE).encode()}


@pytest.fixture(scope="module")
def worker():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VNSEARCH_TESSERACT": "/nonexistent/tesseract"}
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"

    def load(path) -> dict:
        proc.stdin.write(f"{path}\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, f"the worker died on {path} (rc {proc.poll()}): a crash outside Python or over RLIMIT_AS"
        return json.loads(line)

    yield load
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    from helpers import FONT_CANDIDATES

    font = next((p for p in FONT_CANDIDATES if p.exists()), None)
    if font is None:
        pytest.skip("no DejaVuSans.ttf for the PDF seed")
    return _seeds(str(font))


def _mutate(data: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, pos, length, blob in ops:
        if not out:
            out = bytearray(blob)
            continue
        pos %= len(out)
        if kind == 0:  # flip bytes
            for i in range(pos, min(len(out), pos + length)):
                out[i] ^= blob[i % len(blob)] if blob else 0xFF
        elif kind == 1:  # truncate
            del out[pos:]
        elif kind == 2:  # insert
            out[pos:pos] = blob
        else:  # repeat a chunk (the shape of a decompression or recursion bomb)
            out[pos:pos] = bytes(out[pos:pos + length]) * 8
    return bytes(out)


def _mutate_zip_member(data: bytes, blob: bytes) -> bytes:
    """A DOCX whose document.xml is replaced by damaged XML, the archive itself intact."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "word/document.xml":
                body = body[: len(body) // 2] + blob
            z.writestr(info.filename, body)
    return buf.getvalue()


OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(1, 512),
                         st.binary(min_size=1, max_size=64)), min_size=1, max_size=4)
EXTS = st.sampled_from([".docx", ".pdf", ".html", ".jsonl", ".txt", ".md"])


def _check(result: dict, what: str) -> None:
    assert "crash" not in result, f"{what}: {result['crash']}"
    assert "timeout" not in result, f"{what}: over {SECONDS_PER_FILE} s"
    assert "memory" not in result, f"{what}: over {MEMORY_LIMIT >> 20} MiB"
    assert result.get("load_error") or result.get("text"), f"{what}: {result}"


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ext=EXTS, ops=OPS, inner=st.booleans(), blob=st.binary(min_size=0, max_size=256))
def test_mutated_real_looking_files_load_or_fail_with_load_error(worker, seeds, tmp_path_factory, ext, ops, inner,
                                                                  blob):
    data = _mutate_zip_member(seeds[ext], blob) if ext == ".docx" and inner else _mutate(seeds[ext], ops)
    path = tmp_path_factory.mktemp("fuzz") / f"mutated{ext}"
    path.write_bytes(data)
    _check(worker(path), f"{ext} mutated by {ops if not inner else 'an inner XML cut'}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ext=EXTS, data=st.binary(min_size=0, max_size=8192))
def test_random_bytes_load_or_fail_with_load_error_within_bounds(worker, tmp_path_factory, ext, data):
    path = tmp_path_factory.mktemp("random") / f"random{ext}"
    path.write_bytes(data)
    _check(worker(path), f"{len(data)} random bytes as {ext}")


# Shapes that cost time rather than crash: nesting, a paragraph with no sentence end, a word with no
# space, lines without words. Each is generated at up to ~2 MB and must load and split in the budget.
SHAPES = st.sampled_from(["nested_html", "nested_md", "one_paragraph", "one_token", "no_words", "long_list"])


def _shape(kind: str, n: int) -> tuple[str, bytes]:
    if kind == "nested_html":
        return ".html", ("<div>chữ " * n + "cuối" + "</div>" * n).encode()
    if kind == "nested_md":
        return ".md", "".join("> " * min(i, 2000) + "- mục thử nghiệm\n" for i in range(n // 10)).encode()
    if kind == "one_paragraph":
        return ".txt", ("từ thử nghiệm " * (n * 8)).encode()
    if kind == "one_token":
        return ".txt", ("a" * (n * 100)).encode()
    if kind == "no_words":
        return ".txt", ("-\n" * (n * 10)).encode()
    return ".html", ("<ol>" + "<li>mục</li>" * (n * 2) + "</ol>").encode()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=SHAPES, n=st.integers(1, 20_000))
def test_hostile_shapes_load_and_split_within_the_budget(worker, tmp_path_factory, kind, n):
    ext, data = _shape(kind, n)
    path = tmp_path_factory.mktemp("shape") / f"{kind}{ext}"
    path.write_bytes(data)
    _check(worker(path), f"{kind} n={n} ({len(data)} bytes)")


def test_the_seeds_themselves_load(worker, seeds, tmp_path):
    for ext, data in seeds.items():
        path = tmp_path / f"seed{ext}"
        path.write_bytes(data)
        result = worker(path)
        assert result.get("docs"), (ext, result)
