"""A damaged index (a file missing, truncated or invalid) is refused in words with exit code 2 by
`search` and `indexer status`, rebuilt in full by `indexer update`, and reported once — not at every
look — by a server that finds it as a new generation. A read-only index folder still serves."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from indexer import cli as indexer_cli
from indexer.store.embedded.generation import current_generation
from search_app import cli

# one kind of damage in the fast set; every kind with the slow tests (each rebuilds an index)
DAMAGES = ["vectors.faiss", *(pytest.param(n, marks=pytest.mark.slow)
                              for n in ("manifest.json", "passages.sqlite", "pids.npy", "bm25.json", "sentences.npy"))]


def _damage(gen: Path, name: str) -> None:
    path = gen / name
    if name == "sentences.npy":
        path.unlink()
    elif name == "bm25.json":
        path.write_bytes(b"")
    else:
        path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize("name", DAMAGES)
def test_a_damaged_index_is_refused_in_words_then_rebuilt_by_update(hash_index, name, capsys):
    _damage(current_generation(hash_index), name)
    assert cli.main(["search", "trách nhiệm", "--index", str(hash_index)]) == 2
    err = capsys.readouterr().err
    assert "is damaged" in err and "indexer update" in err and "Traceback" not in err
    assert indexer_cli.main(["status", "--index", str(hash_index)]) == 2
    assert "is damaged" in capsys.readouterr().err
    assert indexer_cli.main(["update", "--index", str(hash_index), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "every file is indexed again" in out and "Unchanged files" not in out
    assert cli.main(["search", "trách nhiệm", "--index", str(hash_index), "--json"]) == 0
    assert indexer_cli.main(["status", "--index", str(hash_index)]) == 0


def test_a_damaged_new_generation_is_logged_once_while_the_old_one_serves(hash_index, caplog):
    from search_app.core.live import LiveIndex

    live = LiveIndex(hash_index, interval=0.05)
    old = live.searcher.manifest["generation"]
    gen = current_generation(hash_index)
    bad = gen.parent / (gen.name + "-x")
    shutil.copytree(gen, bad)
    _damage(bad, "vectors.faiss")
    (hash_index / "CURRENT").write_text(bad.name, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="vnsearch"):
        live.start()
        time.sleep(0.8)
        live.close()
    warnings = [r for r in caplog.records if "could not open the newer index generation" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert live.searcher.manifest["generation"] == old


class _ReadOnlyLock:
    """FileLock on a read-only file system (tests run as root, for whom chmod makes nothing read-only)."""

    def __init__(self, *_a: object, **_k: object) -> None:
        pass

    def acquire(self, *_a: object, **_k: object) -> None:
        import errno

        raise OSError(errno.EROFS, "Read-only file system")

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_a: object) -> None:
        pass


def test_a_read_only_index_folder_is_said_in_words(hash_index, tmp_path, monkeypatch, capsys):
    from indexer.store import locks
    from indexer.store.milvus import server
    from indexer.store.milvus.common import LiteServerError
    from search_app.core import follow

    monkeypatch.setattr(locks, "FileLock", _ReadOnlyLock)
    monkeypatch.setattr(follow, "FileLock", _ReadOnlyLock)
    before = current_generation(hash_index)
    assert indexer_cli.main(["update", "--index", str(hash_index), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "read-only" in err and "Traceback" not in err
    assert current_generation(hash_index) == before
    assert cli.main(["follow", "add", "999-NQ/TEST", "--index", str(hash_index)]) == 2
    assert "cannot be written" in capsys.readouterr().err
    assert cli.main(["search", "trách nhiệm", "--index", str(hash_index), "--json"]) == 0  # reading needs no lock
    with pytest.raises(LiteServerError, match="none can be started there"):
        server.ensure_lite_server(tmp_path / "milvus-index")  # no server runs for it: said, not an OSError


def test_a_disk_full_mid_write_says_the_documented_words(tmp_path, monkeypatch, capsys):
    import sqlite3

    def full(*_a: object, **_k: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(indexer_cli, "build", full)
    assert indexer_cli.main(["build", str(tmp_path), "--index", str(tmp_path / "ix")]) == 4
    err = capsys.readouterr().err
    assert "the published index is unchanged" in err and "Free some space" in err
