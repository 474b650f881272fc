"""The write stage of a Ray build into Milvus: a pool of writer actors, one `ShardWriter` each.

    Ray Data (load, split, embed) ─▶ driver (joins the pieces, gives every document a unique id)
        ─▶ windows of documents, to the least busy of N writer actors ─▶ ShardWriter.add (rows built and
           inserted in the actor, born at the claiming writer's epoch: invisible)
        ─▶ close(): each actor's `ShardWriter.close()` ─▶ the claiming writer `absorb`s them and publishes once

The driver keeps what needs the whole corpus in order (a document's pieces, ids unique across files:
`claim_id`); the actors do what costs: building the rows (keyword fields, vector lists, JSON) and
inserting them. A window in flight per actor plus one queued bounds memory. Any failure of an actor (an
exception, or the actor's process dying) reaches the driver at its next `add` or at `close`; the build
then kills every actor and aborts the claiming writer, which drops the new collection set (a full
build): nothing was published, the previous index keeps answering, and a driver that dies instead
leaves an unpublished set that the next writer drops (`MilvusWriter._recover`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from indexer.pipeline.stages import WINDOW
from indexer.records import DocumentRecords
from indexer.store.base import ShardedWriter

WRITE_WINDOW = WINDOW  # passages per call of a writer actor
IN_FLIGHT = 2  # windows sent to one actor and not yet written: one being written, one waiting


class ShardActor:
    """A Ray actor holding one ShardWriter (from a spec the claiming writer handed out)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from indexer.store.milvus.shards import ShardWriter

        self.writer = ShardWriter(spec)

    def add(self, window: list[DocumentRecords]) -> int:
        for rec in window:
            self.writer.add(rec)
        return len(window)

    def close(self) -> dict[str, Any]:
        return self.writer.close()


class RayShards:
    """Looks like a writer to `build._write` (`add`); the documents are written by `count` Ray actors."""

    actor_class: type = ShardActor  # what each actor runs (a test puts one in that fails)

    def __init__(self, claiming: ShardedWriter, count: int | None) -> None:
        self.claiming, self.count, self.window = claiming, count, WRITE_WINDOW
        self.actors: list[Any] = []
        self.pending: list[list[Any]] = []
        self._buffer: list[DocumentRecords] = []
        self._passages = 0

    def _start(self, dim: int) -> None:
        import ray

        # as many as the embedding actors by default (`ray_stream`: one per 2 CPUs)
        self.count = max(1, int(self.count or int(ray.cluster_resources().get("CPU", 1)) // 2))
        remote: Any = ray.remote(num_cpus=0)(self.actor_class)  # I/O and Python: must not starve the embedding actors
        specs = self.claiming.shard_specs(self.count, dim)
        self.actors = [remote.options(max_concurrency=1).remote(spec) for spec in specs]
        self.pending = [[] for _ in self.actors]

    def add(self, rec: DocumentRecords) -> None:
        if not self.actors:
            self._start(int(rec.vectors.shape[1]))
        self._buffer.append(rec)
        self._passages += len(rec.passages)
        if self._passages >= self.window:
            self._send()

    def delete_file(self, path: str) -> None:
        raise RuntimeError("shard writers write full builds only: an update deletes files through its own writer")

    def _send(self) -> None:
        import ray

        if not self._buffer:
            return
        while min(len(p) for p in self.pending) >= IN_FLIGHT:  # every actor busy: wait for one
            ready, _ = ray.wait([r for p in self.pending for r in p], num_returns=1)
            self._collect(ready)
        i = min(range(len(self.actors)), key=lambda k: len(self.pending[k]))
        self.pending[i].append(self.actors[i].add.remote(self._buffer))
        self._buffer, self._passages = [], 0

    def _collect(self, refs: list[Any]) -> None:
        import ray

        for p in self.pending:
            for r in refs:
                if r in p:
                    p.remove(r)
        ray.get(refs)  # raises what the actor raised (RayTaskError) or that it died (RayActorError)

    def close(self) -> int:
        """Send the rest, wait for every actor, absorb what each wrote; how many writers wrote."""
        import ray

        if not self.actors:
            return 0  # nothing was added
        self._send()
        ray.get([r for p in self.pending for r in p])
        self.pending = [[] for _ in self.actors]
        for written in ray.get([a.close.remote() for a in self.actors]):
            self.claiming.absorb(written)
        self.kill()
        return int(self.count or 0)

    def kill(self) -> None:
        """Stop every actor now (before the claiming writer drops what they wrote)."""
        import ray

        for a in self.actors:
            with contextlib.suppress(Exception):  # one already dead: the others still go
                ray.kill(a, no_restart=True)
        self.actors = []
