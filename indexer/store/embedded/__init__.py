"""The embedded backend: generations of (SQLite + FAISS + bm25s) in the index folder. The default.

Layout of an index folder::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      gen-20241125T101500-ab12/
        manifest.json         model, dimension, counts, per-file hashes, build time
        passages.sqlite       documents, passages, references, document keys, and the
                              embedding cache (embed hash → vector) — the whole index
        vectors.faiss         inner-product index of L2-normalised vectors; row i = pids.npy[i]
        pids.npy              the stable passage id of each vector row
        bm25-*/ bm25.json     keyword index over the same rows

SQLite is the source of truth; FAISS and BM25 are derived from it when a generation is published.
A writer works on a copy of the live SQLite file (an update) or an empty one (a build) in a
temporary folder, renames the folder into place and only then points CURRENT at it, so a crash
at any moment leaves the previous generation loadable.

Modules: `generation` (layout, schema, loading), `reader` (EmbeddedBackend), `writer` (EmbeddedWriter).
"""

from indexer.store.embedded.generation import current_generation
from indexer.store.embedded.reader import EmbeddedBackend
from indexer.store.embedded.writer import EmbeddedWriter

__all__ = ["EmbeddedBackend", "EmbeddedWriter", "current_generation"]
