"""The Milvus backend: the index lives in Milvus collections (a local engine, a standalone server or a cluster).

Where it runs
-------------
``backend.json`` says ``{"backend": "milvus", "uri": null | "http://host:19530", "prefix": ...}``.
With a uri, every process talks to that server (a Milvus 2.5/2.6 standalone or cluster). With
``uri: null`` the data lives in ``index_dir/milvus/milvus.db`` and is served by the Milvus engine
itself (segcore, knowhere: the `milvus` binary that the milvus-lite 2.5.1 wheel ships) run as a local
TCP server on 127.0.0.1; the web page and ``python -m indexer update`` are separate processes, so
`ensure_lite_server` starts it once (detached, logging to ``index_dir/milvus-lite.log``) and records
it in ``index_dir/milvus-lite.json``; later processes reuse it. `stop_lite_server` stops it.
(The names keep "lite" from the package the binary comes in.) Only what both the engine and a
Milvus server support is used: no nullable fields (sentinels, see common.NO_PAGE), no ``not (...)``
in filters, never ``get_server_version`` (the engine does not implement it); every read that must
see a publish states its consistency level (Strong). docs/scaling.md has the measurements.

Collections (names start with the config's ``prefix``)
-------------------------------------------------------
``{prefix}_state`` holds the pointer row (id 0: published epoch, live collection set, generation,
claimed epoch) and the manifest / hidden-path lists of a publish as JSON chunks. The data lives in a
*set* of six collections ``{prefix}_s{N}_{kind}`` (a full build writes a new set, so that it never
disturbs readers before it is published, and so that a new model may bring a new dimension):

- ``passages``: rid (INT64 primary key), pid, doc_id, ordinal, start, end, section (JSON text), page,
  text, head (what the model saw before the text), head_whole, spill, embed_hash, doc_type, issuer, year
  (denormalised from the document, for filters inside the search), dense (FLOAT_VECTOR, IP), and the
  keyword fields kw_exact / kw_folded → BM25 functions → sp_exact / sp_folded (SPARSE_FLOAT_VECTOR);
- ``documents``: rid, doc_id, doc_type, issuer, year, meta (JSON: title, number, date, source, extra,
  pages…), meta_spill, text_chunks;
- ``texts``: what does not fit a 65,535-byte VARCHAR, in chunks: a document's full text, a huge
  metadata JSON, an oversized passage (owner, kind, chunk_no, data);
- ``refs``: pid, doc_id, key, label, kind, start, end; ``keys``: doc_id, key, label;
- ``sentences``: one row per sentence of a passage: pid, doc_id, k (its order in the passage), start,
  end (offsets into the passage text), embed_hash (the embedding-cache key), dense (FLOAT_VECTOR, IP,
  FLAT: read by pid, or searched by `sentence_scores` with a filter on the pids, so that only scores
  cross the wire). Written, hidden and collected exactly like the passages.

Every row of every collection carries ``born`` (the epoch of the writer that wrote it) and ``path``
(the source file); collections without a real vector carry a dimension-2 dummy (Milvus requires one).
The primary key is a row id, not the pid: during an update the old and the new version of a passage
coexist (same pid), and Milvus would otherwise keep only the newest one.

Visibility (MVCC by epoch)
--------------------------
A reader reads the pointer once (and on `refresh`) and adds to every query and search
``born <= E and (born == E or path not in HIDDEN)`` (not (path in HIDDEN and born < E), by De Morgan),
where HIDDEN are the files the last publish
replaced or deleted and not yet garbage-collected. A writer claims epoch E' (recorded in the pointer
before it writes anything), inserts rows with born=E' (invisible: E' > E), and `publish` upserts the
pointer row — one row write, the atomic switch. A killed writer leaves rows with born > E that nobody
sees; the next writer deletes them, finishes any pending garbage collection, then claims its epoch.
Old rows of the replaced files are deleted by the *next* writer (so a reader one publish behind still
sees a whole index), or at once when the hidden list is long (to keep filters short).

Several writers may write one epoch (`shards`: one claims it and publishes once for all).

Modules: `common` (constants), `expressions` (filters), `server` (the local server process),
`session` (one connection and its low-level calls, shared by a reader and its writers), `schema`,
`view` (pointer and visibility), `published` (the version a reader reads, and its retried reads),
`reader` (MilvusBackend, composed of a session, `rows` and `sentences`), `writer` (MilvusWriter) and
`encode` (a document's rows), `shards` (ShardWriter).
"""

from indexer.store.locks import WriterBusy
from indexer.store.milvus.common import LiteServerError
from indexer.store.milvus.reader import MilvusBackend
from indexer.store.milvus.server import ensure_lite_server, running_lite_server, stop_lite_server
from indexer.store.milvus.shards import ShardWriter
from indexer.store.milvus.writer import MilvusWriter

__all__ = ["LiteServerError", "MilvusBackend", "MilvusWriter", "ShardWriter", "WriterBusy", "ensure_lite_server",
           "running_lite_server", "stop_lite_server"]
