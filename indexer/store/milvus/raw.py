"""Search replies read straight from the wire: each query's hit ids, scores and int64 output fields as
numpy arrays, and the searches of a batch in flight together.

pymilvus builds a Python object per hit (a Hit and its entity dict, ~5-10 µs each): a batch of the 730
ALQAC questions gets ~1.2 million hits (keyword: 400 a field a query; sentence scores: ~475 a query),
and that parsing was most of the Milvus backend's client time. The reply itself is the
protobuf pymilvus receives; pymilvus's own asynchronous search returns its gRPC future, whose result is
that reply. A pymilvus without it gets the ordinary search, converted (same values, slower).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Reply:
    """The hits of a search of nq queries, in the order the server ranked them."""

    ids: np.ndarray  # int64, every query's hits one after the other
    scores: np.ndarray  # float32, as the server sent them
    bounds: np.ndarray  # query j's hits are [bounds[j], bounds[j + 1])
    fields: dict[str, np.ndarray]  # int64 output fields, aligned with ids

    def hits(self, j: int, field: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Query j's (ids, or that field's values; scores)."""
        a, b = int(self.bounds[j]), int(self.bounds[j + 1])
        return (self.ids if field is None else self.fields[field])[a:b], self.scores[a:b]


def _from_proto(res: Any, nq: int, output_fields: list[str]) -> Reply:
    ids = np.array(res.ids.int_id.data, dtype=np.int64)
    scores = np.array(res.scores, dtype=np.float32)
    topks = list(res.topks)
    topks += [0] * (nq - len(topks))  # a query with no hit may be left out at the end
    fields = {}
    for fd in res.fields_data:
        if not fd.HasField("scalars") or not fd.scalars.HasField("long_data"):
            raise TypeError(f"raw search reads int64 output fields only, not {fd.field_name!r}")
        fields[fd.field_name] = np.array(fd.scalars.long_data.data, dtype=np.int64)
    for f in output_fields:  # a reply without hits has no field data
        if f not in fields and len(ids):
            raise ValueError(f"the search reply has no field {f!r}")
        fields.setdefault(f, np.zeros(0, dtype=np.int64))
    return Reply(ids, scores, np.concatenate([[0], np.cumsum(topks, dtype=np.int64)]), fields)


def _from_parsed(res: Any, output_fields: list[str]) -> Reply:
    rows = [h for hits in res for h in hits]
    topks = [len(hits) for hits in res]
    return Reply(np.array([h["id"] for h in rows], dtype=np.int64),
                 np.array([h["distance"] for h in rows], dtype=np.float32),
                 np.concatenate([[0], np.cumsum(topks, dtype=np.int64)]),
                 {f: np.array([h["entity"][f] for h in rows], dtype=np.int64) for f in output_fields})


def search(client: Any, name: str, data: list[Any], **kw: Any) -> Callable[[], Reply]:
    """Send a search now (MilvusClient.search's arguments); the function returned waits for its reply.
    Errors are those of the ordinary search: a failed status a MilvusException with the server's code,
    an unreachable server a gRPC error."""
    future = client.search(name, data=data, _async=True, **kw)
    wire = getattr(future, "_future", None)
    if wire is None or not hasattr(wire, "result"):  # a pymilvus whose search ignores _async: parsed already
        parsed = future.result() if hasattr(future, "result") else future
        return lambda: _from_parsed(parsed, list(kw.get("output_fields") or []))

    def wait() -> Reply:
        from pymilvus.client.utils import check_status

        response = wire.result()
        check_status(response.status)
        return _from_proto(response.results, len(data), list(kw.get("output_fields") or []))

    return wait
