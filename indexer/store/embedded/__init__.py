"""The embedded backend: generations of (SQLite + FAISS + bm25s) in the index folder. The default.

Layout of an index folder::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      gen-20241125T101500-ab12/     a base (a full build)
        manifest.json         model, dimension, counts, per-file hashes and size/mtime stamps, build time
        passages.sqlite       documents, passages, references, document keys, graph rows, and the
                              embedding cache (embed hash → vector) — the whole index
        vectors.faiss         inner-product index of L2-normalised vectors; row i = pids.npy[i]
        pids.npy              the stable passage id of each vector row
        bm25-*/ bm25.json     keyword index over the same rows
        sentences*.npy        sentence vectors and spans, in vector-row order
      gen-20241125T111500-cd34/     a delta (an update) on that base
        manifest.json         as above, plus "base" and "hidden" (the base's documents it replaces)
        passages.sqlite …     the same files over the documents changed since the base only;
        keyword-delta.*       their term frequencies (BM25 scored with the base's statistics)

SQLite is the source of truth; FAISS and BM25 are derived from it when a generation is published.
A full build writes a base from an empty database; an update writes a delta (a copy of the live
delta's small database, or an empty one) and leaves the base as it is, until the delta outgrows
10 % of its base and the update merges the two into a new base. Every writer works in a temporary
folder, renames it into place and only then points CURRENT at it, so a crash at any moment
leaves the previous generation loadable; a base is kept while a kept delta needs it.

Modules: `generation` (layout, schema, loading: segments), `reader` (EmbeddedBackend), `writer`
(EmbeddedWriter), `delta` (the delta's BM25).
"""

from indexer.store.embedded.generation import current_generation
from indexer.store.embedded.reader import EmbeddedBackend
from indexer.store.embedded.writer import EmbeddedWriter

__all__ = ["EmbeddedBackend", "EmbeddedWriter", "current_generation"]
