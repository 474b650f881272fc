"""Several writers in one epoch: bulk builds written by one writer per process (or per Ray block).

The claiming `MilvusWriter` hands out `shard_specs`; each `ShardWriter` (anywhere that reaches the
server) inserts rows born at that epoch, with row ids of its own shard, and returns what it wrote
from `close()`; the claiming writer `absorb`s each and publishes once for all of them. Visibility is
unchanged: until that one pointer write nobody sees any of their rows.
"""

from __future__ import annotations

from typing import Any

from indexer.store.base import StoreConfig
from indexer.store.milvus.session import Session
from indexer.store.milvus.writer import MilvusWriter, Shard


class ShardWriter(MilvusWriter):
    """One more writer of an epoch a `MilvusWriter` claimed (`shard_specs`), in this or another process.

    It takes no lock and never publishes: the claiming writer holds the index's lock for the whole epoch,
    and a shard that dies leaves rows born at that epoch, which abort or the next writer deletes like
    the claiming writer's own."""

    def __init__(self, spec: dict[str, Any]) -> None:
        session = Session.at(spec["url"], spec["index_dir"], StoreConfig.of(spec["config"]))
        super().__init__(session, bool(spec["full"]), Shard(epoch=int(spec["epoch"]), shard=int(spec["shard"]),
                                                           set_id=str(spec["set"]), dim=int(spec["dim"]),
                                                           vector_index=str(spec["vector_index"])))

    def close(self) -> dict[str, Any]:
        """Send what is buffered; what the claiming writer's `absorb` needs."""
        self._check()
        self._flush()
        self.done = True
        self.s.close()
        return {"added": {k: list(v) for k, v in self.added.items()}, "hidden": sorted(self.hidden)}

    def publish(self, manifest: dict[str, Any]) -> None:
        raise RuntimeError("a shard writer does not publish: its claiming writer does, once for every shard")

    def abort(self) -> None:
        self.done = True
        self.s.close()

    def sharded(self) -> None:
        return None  # a joined writer hands out no more shards
