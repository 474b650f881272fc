"""Several writers in one epoch: bulk builds written by one writer per process (or per Ray block).

The claiming `MilvusWriter` hands out `shard_specs`; each `ShardWriter` (anywhere that reaches the
server) inserts rows born at that epoch, with row ids of its own shard, and returns what it wrote
from `close()`; the claiming writer `absorb`s each and publishes once for all of them. Visibility is
unchanged: until that one pointer write nobody sees any of their rows.
"""

from __future__ import annotations

from typing import Any

from indexer.store.milvus.common import KINDS
from indexer.store.milvus.writer import MilvusWriter


class ShardWriter(MilvusWriter):
    """One more writer of an epoch a `MilvusWriter` claimed (`shard_specs`), in this or another process.

    It takes no lock and never publishes: the claiming writer holds the index's lock for the whole epoch,
    and a shard that dies leaves rows born at that epoch, which abort or the next writer deletes like
    the claiming writer's own."""

    def __init__(self, spec: dict[str, Any]) -> None:  # not super().__init__: that would claim an epoch
        from indexer.store.milvus.reader import MilvusBackend

        client, url = MilvusBackend.connect_to(spec["url"], spec["config"])
        self.b = MilvusBackend(spec["index_dir"], spec["config"], client, url)
        self.client, self.full, self.done = client, bool(spec["full"]), False
        self.epoch, self.shard, self.set_id = int(spec["epoch"]), int(spec["shard"]), str(spec["set"])
        self.names = self.b.set_names(self.set_id)
        self.dim, self.vector_index, self._created = int(spec["dim"]), spec["vector_index"], True
        self._seq = self._unsealed = 0
        self._buffers = {k: [] for k in KINDS}
        self.hidden, self.added = set(), {}

    def _give_up(self) -> None:
        self.done = True

    def close(self) -> dict[str, Any]:
        """Send what is buffered; what the claiming writer's `absorb` needs."""
        self._check()
        self._flush()
        self.done = True
        self.b.close()
        return {"added": {k: list(v) for k, v in self.added.items()}, "hidden": sorted(self.hidden)}

    def publish(self, manifest: dict[str, Any]) -> None:
        raise RuntimeError("a shard writer does not publish: its claiming writer does, once for every shard")

    def abort(self) -> None:
        self.done = True
        self.b.close()
