"""Accepting a document from the browser: checks first, then save into the corpus and index it.

Nothing the client sends is trusted: the name is reduced to a safe base name inside the corpus
upload folder, the type is checked by content as well as by extension, and the size is capped.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

from indexer.loaders import LoadError, decode_text
from indexer.pipeline import BuildReport, build

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ALLOWED = (".pdf", ".docx", ".txt", ".md", ".html", ".htm")
UPLOAD_SUBDIR = "uploads"


class UploadError(ValueError):
    pass


def safe_name(client_name: str) -> str:
    """A file name that cannot leave the upload folder, whatever the client sent."""
    name = unicodedata.normalize("NFC", client_name or "")
    name = re.split(r"[\\/]", name)[-1]  # no directories, Windows or POSIX
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    name = re.sub(r"[^\w.\- ]+", "-", name, flags=re.UNICODE).strip(" .-")
    name = re.sub(r"\s+", "-", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:100].strip(".-") or "tai-lieu"
    return f"{stem}.{ext.lower()}" if ext else stem


def check_content(name: str, data: bytes) -> None:
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED:
        raise UploadError(f"Loại tệp {ext or '(không có đuôi)'} không được hỗ trợ; chỉ nhận {', '.join(ALLOWED)}.")
    if len(data) == 0:
        raise UploadError("Tệp rỗng.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"Tệp lớn hơn giới hạn {MAX_UPLOAD_BYTES // 2**20} MB.")
    if ext == ".pdf":
        if not data.lstrip()[:5] == b"%PDF-":
            raise UploadError("Nội dung không phải PDF (thiếu chữ ký %PDF-).")
    elif ext == ".docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" not in zf.namelist():
                    raise UploadError("Nội dung không phải DOCX (không có word/document.xml).")
        except zipfile.BadZipFile as e:
            raise UploadError("Nội dung không phải DOCX (không phải tệp zip).") from e
    else:
        try:
            text = decode_text(data)
        except LoadError as e:
            raise UploadError(f"Nội dung không phải văn bản: {e}.") from e
        if ext in (".html", ".htm") and "<" not in text:
            raise UploadError("Nội dung không phải HTML.")
        if data[:5] == b"%PDF-" or data[:4] == b"PK\x03\x04":
            raise UploadError("Đuôi tệp không khớp với nội dung.")


def save_upload(client_name: str, data: bytes, corpus_dir: Path) -> Path:
    """Validate and write the file under corpus_dir/uploads/; returns its path."""
    name = safe_name(client_name)
    check_content(name, data)
    folder = (Path(corpus_dir) / UPLOAD_SUBDIR).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stem, ext = Path(name).stem, Path(name).suffix
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{stem}-{n}{ext}"
        n += 1
    if target.resolve().parent != folder:  # belt and braces: safe_name already removed separators
        raise UploadError("Tên tệp không hợp lệ.")
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def index_sources(sources: list[str], corpus_dir: Path) -> list[Path]:
    paths = [Path(s) for s in sources]
    corpus = Path(corpus_dir).resolve()
    if not any(corpus == p.resolve() or corpus.is_relative_to(p.resolve()) for p in paths if p.exists()):
        paths.append(Path(corpus_dir))
    return paths


def add_and_index(client_name: str, data: bytes, corpus_dir: Path, index_dir: Path, sources: list[str],
                  model: str) -> tuple[Path, BuildReport]:
    """Save an upload and rebuild the index; only the new file's passages are embedded."""
    path = save_upload(client_name, data, corpus_dir)
    report = build(index_sources(sources, corpus_dir), index_dir, model=model, progress=False, incremental=True)
    reasons = [why for f, why in report.skipped if f.endswith(path.name)]
    if reasons or not report.ok:
        path.unlink(missing_ok=True)  # a file that cannot be indexed should not linger in the corpus
        raise UploadError(f"Không lập chỉ mục được tệp: {reasons[0] if reasons else 'lỗi khi lập chỉ mục'}.")
    return path, report
