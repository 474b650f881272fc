"""Accepting a document from the browser: checks first, then save into the corpus and index it.

Nothing the client sends is trusted: the name is reduced to a safe base name inside the corpus
upload folder, the type is checked by content as well as by extension, and the size is capped.

Uploading is off unless the operator turns it on (``VNSEARCH_UPLOADS=1``, optionally with
``VNSEARCH_UPLOAD_TOKEN``), because a page shared with a team must not let every visitor write into
the corpus. The policy is enforced here, not only by hiding the form, and every attempt is appended
to an audit log (JSON lines).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import threading
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from indexer.load import LOADERS, LoadError
from indexer.load.base import decode_text
from indexer.pipeline.build import build
from indexer.pipeline.report import BuildReport
from indexer.pipeline.stages import README_NAMES
from indexer.settings import UPLOADS_ENV, Settings
from indexer.store.locks import WriterBusy

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# What the indexer reads (its loader registry), but the bulk-import JSONL: a file of many documents is an
# administrator's import, not a user's upload.
ALLOWED = tuple(suffix for suffix in LOADERS if suffix != ".jsonl")
UPLOAD_SUBDIR = "uploads"
# Inside the corpus so that backing up corpus/ keeps it, hidden (leading dot) so that the indexer,
# which skips dot-files, never indexes it, and outside uploads/ so that clearing uploads keeps it.
AUDIT_NAME = ".upload-audit.jsonl"
OFF_MESSAGE = ("Chức năng thêm văn bản đang tắt trên máy chủ này; người quản trị bật bằng biến môi trường "
               f"{UPLOADS_ENV}=1.")
# Streamlit serves every session from threads of one process: two uploads indexing at once would each
# publish an index generation, and the later one could miss the earlier file.
_INDEX_LOCK = threading.Lock()


class UploadError(ValueError):
    pass


@dataclass(frozen=True)
class UploadPolicy:
    """Whether uploads are accepted, and the token they need (None: no token)."""

    enabled: bool
    token: str | None = None

    @property
    def needs_token(self) -> bool:
        return self.enabled and bool(self.token)

    def check(self, token: str | None) -> None:
        """Raise UploadError unless an upload with this token is allowed."""
        if not self.enabled:
            raise UploadError(OFF_MESSAGE)
        if self.token:
            if not token:
                raise UploadError("Cần nhập mã tải lên.")
            # constant time, so the token cannot be guessed character by character from response times
            if not hmac.compare_digest(token.encode("utf-8"), self.token.encode("utf-8")):
                raise UploadError("Mã tải lên không đúng.")


def upload_policy(environ: Mapping[str, str] | None = None) -> UploadPolicy:
    """The operator's choice, from VNSEARCH_UPLOADS (1/on/true/yes) and VNSEARCH_UPLOAD_TOKEN."""
    settings = Settings.from_env(environ)
    return UploadPolicy(enabled=settings.uploads, token=settings.upload_token)


def audit_log_path(corpus_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    """VNSEARCH_AUDIT_LOG, else corpus/.upload-audit.jsonl."""
    return Settings.from_env(environ).audit_log or Path(corpus_dir) / AUDIT_NAME


class AuditLog:
    """Append-only JSON lines: opened with O_APPEND, one write() per line, fsync'd.

    Opened before anything is saved, so an upload that could not be recorded is not accepted either.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o640)

    def write(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        os.write(self._fd, line)  # with O_APPEND a single write lands whole at the end, never interleaved
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


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


def client_identity(headers: Mapping[str, str], peer: str | None,
                    environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """(user, ip) to record for a request from TCP peer `peer`.

    X-Remote-User and X-Forwarded-For are what a reverse proxy says about its client, so they are
    believed only when the peer is one of VNSEARCH_TRUSTED_PROXIES (comma-separated addresses);
    from anyone else they are the client's own claims, and the peer address is recorded. In
    X-Forwarded-For the rightmost address not of a trusted proxy is the client: entries left of it
    were written by the client itself.
    """
    trusted = set(Settings.from_env(environ).trusted_proxies)
    if not isinstance(peer, str) or peer not in trusted:
        return None, peer if isinstance(peer, str) else None
    user = headers.get("X-Remote-User") or None
    ip = peer
    for hop in reversed([h.strip() for h in (headers.get("X-Forwarded-For") or "").split(",") if h.strip()]):
        ip = hop
        if hop not in trusted:
            break
    return user, ip


def check_content(name: str, data: bytes) -> None:
    ext = Path(name).suffix.lower()
    if name.lower() in README_NAMES:
        raise UploadError(f"Tệp tên {name} bị trình lập chỉ mục bỏ qua vì được coi là phần mô tả thư mục, "
                          "không phải văn bản; hãy đổi tên tệp (ví dụ gioi-thieu.md) rồi tải lên lại.")
    if ext not in ALLOWED:
        raise UploadError(f"Loại tệp {ext or '(không có đuôi)'} không được hỗ trợ; chỉ nhận {', '.join(ALLOWED)}.")
    if len(data) == 0:
        raise UploadError("Tệp rỗng.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"Tệp lớn hơn giới hạn {MAX_UPLOAD_BYTES // 2**20} MiB.")
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
                  model: str, *, token: str | None = None, policy: UploadPolicy | None = None,
                  audit_log: Path | None = None, user: str | None = None,
                  ip: str | None = None) -> tuple[Path, BuildReport]:
    """Check the policy, save an upload and update the index (only the new file's passages are embedded).

    ``policy`` defaults to :func:`upload_policy` (the environment), ``audit_log`` to :func:`audit_log_path`.
    Every call is recorded in the audit log, accepted or not; ``user`` and ``ip`` are recorded as given.
    """
    policy = upload_policy() if policy is None else policy
    corpus_dir = Path(corpus_dir)
    try:
        log = AuditLog(audit_log or audit_log_path(corpus_dir))
    except OSError as e:
        raise UploadError(f"Không ghi được nhật ký tải lên ({e.strerror or e}); tệp chưa được thêm.") from e
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "client_name": client_name, "stored_name": None,
        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
        "documents": None, "passages": None, "embedded": None,
        # only strings: under test harnesses Streamlit's request context can hand back mocks
        "user": user if isinstance(user, str) else None, "ip": ip if isinstance(ip, str) else None,
        "result": None,
    }
    try:
        policy.check(token)
        with _INDEX_LOCK:
            path = save_upload(client_name, data, corpus_dir)
            try:
                report = build(index_sources(sources, corpus_dir), index_dir, model=model, progress=False,
                               incremental=True)
            except WriterBusy as e:  # `make index` or another upload is writing: say so, keep nothing
                path.unlink(missing_ok=True)
                raise UploadError("Chỉ mục đang được một tiến trình khác cập nhật; tệp chưa được thêm, "
                                  "hãy thử lại sau ít phút.") from e
            except BaseException:
                path.unlink(missing_ok=True)  # not indexed: it should not linger in the corpus either
                raise
            reasons = [why for f, why in report.skipped if f.endswith(path.name)]
            if reasons or not report.ok:
                path.unlink(missing_ok=True)
                raise UploadError(
                    f"Không lập chỉ mục được tệp: {reasons[0] if reasons else 'lỗi khi lập chỉ mục'}.")
        record.update(stored_name=path.relative_to(corpus_dir.resolve()).as_posix(), documents=report.documents,
                      passages=report.passages, embedded=report.embedded, result="indexed")
        return path, report
    except UploadError as e:
        record["result"] = f"refused: {e}"
        raise
    except BaseException as e:
        record["result"] = f"error: {type(e).__name__}: {e}"
        raise
    finally:
        try:
            log.write(record)
        finally:
            log.close()
