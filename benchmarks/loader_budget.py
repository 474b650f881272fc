"""Cost per MB of loading and splitting each input kind, from 100 KB to 20 MB: flat when the loaders
and the splitter are linear (or n log n), growing with the size when something is quadratic.

    .venv/bin/python -m benchmarks.loader_budget            # every kind, 0.1 / 1 / 5 / 20 MB
    .venv/bin/python -m benchmarks.loader_budget --sizes 0.1 1 --kinds txt html

Inputs are generated, visibly synthetic ("Văn bản thử nghiệm", 999-NQ/TEST): real-looking documents
(headings, articles, numbered items, sentences of 10–30 words) in each format, and the hostile shapes
that were once super-linear (a paragraph with no sentence end, deeply nested HTML). Each cell is the
best of `--repeat` runs of load_file + split_document, in seconds per MB of the text read (UTF-8): a
DOCX is compressed, so its file is several times smaller than its text; the sizes asked for are sizes
of text.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from indexer.load import load_file
from indexer.split import split_document

MB = 1024 * 1024
WORDS = ["văn", "bản", "thử", "nghiệm", "kho", "dữ", "liệu", "giả", "định", "cơ", "quan", "kiểm", "tra",
         "triển", "khai", "thực", "hiện", "nhiệm", "vụ", "giải", "pháp", "đánh", "giá", "kết", "quả", "báo",
         "cáo", "định", "kỳ", "nâng", "cao", "chất", "lượng", "hiệu", "quả", "công", "tác"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 30))]
    return " ".join(words).capitalize() + "."


def _paragraphs(size: int, seed: int = 7) -> list[str]:
    """Lines of a synthetic resolution: articles, numbered items, paragraphs of 1–6 sentences."""
    rng = random.Random(seed)
    out: list[str] = ["VĂN BẢN THỬ NGHIỆM", "Số: 999-NQ/TEST"]
    total, article = 0, 0
    while total < size:
        if rng.random() < 0.08:
            article += 1
            line = f"Điều {article}. {_sentence(rng)[:-1]}"
        elif rng.random() < 0.2:
            line = f"{rng.randint(1, 9)}. {_sentence(rng)}"
        else:
            line = " ".join(_sentence(rng) for _ in range(rng.randint(1, 6)))
        out.append(line)
        total += len(line.encode()) + 1
    return out


def _txt(size: int) -> bytes:
    return "\n".join(_paragraphs(size)).encode()


def _md(size: int) -> bytes:
    return "\n\n".join(("## " + p) if p.startswith("Điều") else p for p in _paragraphs(size)).encode()


def _html(size: int) -> bytes:
    body = "".join(f"<h2>{p}</h2>" if p.startswith("Điều") else f"<p>{p}</p>" for p in _paragraphs(size))
    return f"<html><head><title>Văn bản thử nghiệm</title></head><body><article>{body}</article></body></html>".encode()


def _jsonl(size: int) -> bytes:
    lines, doc, total = [], [], 0
    for p in _paragraphs(size):
        doc.append(p)
        if len(doc) == 40:
            lines.append(json.dumps({"id": f"tn-{len(lines)}", "text": "\n".join(doc)}, ensure_ascii=False))
            total += len(lines[-1])
            doc = []
    if doc:
        lines.append(json.dumps({"id": f"tn-{len(lines)}", "text": "\n".join(doc)}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _docx(size: int) -> bytes:
    """A DOCX made by python-docx, its body written directly (python-docx adds 20 MB of paragraphs in
    minutes): headings in the Heading 2 style, the other lines as plain paragraphs."""
    import docx

    def para(text: str) -> str:
        style = '<w:pPr><w:pStyle w:val="Heading2"/></w:pPr>' if text.startswith("Điều") else ""
        return f'<w:p>{style}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    template = io.BytesIO()
    d = docx.Document()
    d.add_heading("Văn bản thử nghiệm", level=2)  # the Heading 2 style is then defined in styles.xml
    d.save(template)
    src = zipfile.ZipFile(io.BytesIO(template.getvalue()))
    xml = src.read("word/document.xml").decode()
    head, tail = xml[: xml.index("<w:body>") + len("<w:body>")], xml[xml.index("<w:sectPr"):]
    body = "".join(para(p) for p in _paragraphs(size))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, head + body + tail if info.filename == "word/document.xml"
                       else src.read(info.filename))
    return out.getvalue()


def _one_paragraph(size: int) -> bytes:
    return ("từ thử nghiệm " * (size // 18)).encode()  # no sentence end: cut at word boundaries


def _nested_html(size: int) -> bytes:
    n = size // 16
    return ("<html><body>" + "<div>chữ " * n + "cuối" + "</div>" * n + "</body></html>").encode()


KINDS: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "txt": (".txt", _txt), "md": (".md", _md), "html": (".html", _html), "jsonl": (".jsonl", _jsonl),
    "docx": (".docx", _docx), "one-paragraph txt": (".txt", _one_paragraph), "nested html": (".html", _nested_html),
}


def measure(kind: str, size: int, folder: Path, repeat: int) -> tuple[float, float, int]:
    """(seconds per MB of text, MB of file, passages) for one generated file."""
    ext, make = KINDS[kind]
    path = folder / f"bench{ext}"
    path.write_bytes(make(size))
    best, passages, text_mb = float("inf"), 0, 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        docs = load_file(path)
        passages = sum(len(split_document(d.doc_id or "d", d.text, d.headings, d.pages)) for d in docs)
        best = min(best, time.perf_counter() - t)
        text_mb = sum(len(d.text.encode()) for d in docs) / MB
    return best / text_mb, path.stat().st_size / MB, passages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1, 5, 20], help="file sizes in MB")
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print("| input | " + " | ".join(f"{s:g} MB" for s in args.sizes) + " | largest: file MB, passages |")
    print("|---|" + "---:|" * len(args.sizes) + "---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds:  # libraries imported and warmed before anything is timed
            measure(kind, 20_000, Path(tmp), 1)
        for kind in args.kinds:
            cells, file_mb, last = [], 0.0, 0
            for s in args.sizes:
                per_mb, file_mb, last = measure(kind, int(s * MB), Path(tmp), args.repeat)
                cells.append(f"{per_mb:.2f} s/MB")
            print(f"| {kind} | " + " | ".join(cells) + f" | {file_mb:.1f}, {last} |", flush=True)


if __name__ == "__main__":
    main()
