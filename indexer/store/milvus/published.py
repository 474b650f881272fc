"""The published version a Milvus reader reads, swapped whole on refresh, and the one way every read runs:
on that version, retried once on a fresh connection and the newest version when it fails transiently."""

from __future__ import annotations

import threading
from collections.abc import Callable

from indexer.store.base import IndexNotFound
from indexer.store.milvus.common import T, is_transient
from indexer.store.milvus.session import Session
from indexer.store.milvus.view import _View


class Published:
    def __init__(self, session: Session, view: _View | None = None) -> None:
        self.session = session
        self.view = view
        self.lock = threading.Lock()  # one reload at a time

    def live(self) -> _View:
        if self.view is None:
            raise IndexNotFound(f"No index in {self.session.index_dir}")
        return self.view

    def read(self, fn: Callable[[_View], T]) -> T:
        """Run a read; if it fails for a transient reason (the version it reads was replaced by a full
        build, or the server restarted or was unreachable), reconnect, switch to the newest version and
        retry once. Any other error (a bad expression, a schema mismatch) is raised at once."""
        view = self.live()
        try:
            return fn(view)
        except Exception as e:
            if not is_transient(e):
                raise
            self.recover()
            return fn(self.live())

    def recover(self) -> None:
        """After a failed call: reach the (restarted) server, load again, re-read the published version."""
        self.session.reconnect()
        with self.lock:
            view = self.session.read_view()
            if view is not None:
                self.view = view
