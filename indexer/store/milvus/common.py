"""Constants and errors shared by the Milvus backend's modules."""

from __future__ import annotations

import logging
from typing import TypeVar

from indexer.store.base import BackendUnavailable

log = logging.getLogger(__name__)


class _NoSessionTsWarning(logging.Filter):
    """The local Milvus server has no MVCC timestamps, so every query iterator warns that it fell back to a
    client-side one; harmless (its reads are always current), and noise in every log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoSessionTsWarning())

# Raised whenever what the collections store changes: an index of another format is rebuilt (the formats:
# CHANGELOG.md, "Index formats")
FORMAT_VERSION = 5
LITE_DIR = "milvus"
LITE_STATE = "milvus-lite.json"
LITE_LOG = "milvus-lite.log"
LITE_LOCK = ".milvus-lite.lock"

MAX_VARCHAR = 65_535  # bytes, Milvus's limit for one VARCHAR value
TEXT_CHUNK_CHARS = 16_000  # ≤ 4 bytes a character: a chunk always fits a VARCHAR
FILTER_MAX = 4_096  # filter fields (doc_type, issuer) are clipped to this many bytes
INSERT_BATCH = 256  # rows per insert call
IN_CHUNK = 500  # values per `x in [...]` expression
PATH_CHUNK = 100  # paths per garbage-collection delete
FLUSH_EVERY = 5_000  # passages: a writer seals what it wrote this often (see `_flush`)
HIDDEN_GC_NOW = 128  # more replaced files than this: collect garbage at publish, keep filters short
# Replaced rows still count in Milvus's BM25 statistics (N, df, average length) until deleted: past this
# share of the passages they go at publish, so that keyword scores stay a full build's (docs/scaling.md)
HIDDEN_GC_SHARE = 0.02
QUERY_WINDOW = 16_384  # Milvus's largest limit (offset + limit) for one query or search
SENTENCE_SEARCH_PIDS = 200  # pids per sentence-scoring search (~8 sentences each: far below the window)
# Hydrated passage rows a reader keeps per published version (a version never changes, so they cannot go
# stale; a refresh to a newer one starts empty). ~2 KB a row: ~40 MB at most. Saves the one or two
# passage queries a search makes (coverage, hydration) for passages an earlier search already read.
PASSAGE_CACHE_ROWS = 20_000
SENTENCE_SEARCH_LIMIT = QUERY_WINDOW  # hits asked of one sentence-scoring search (all of its pids' rows)
# Sentence rows of a group of queries scored in one search (sentence_scores_many): every query of the group
# gets all of them back (a search has one filter), so the group stays small; ~475 rows a question on ALQAC,
# where a batch of 192 took 0.55-0.65 s in groups of 1,024 rows, 0.7 s of 512, 0.9-1.1 s of 4,096.
SENTENCE_GROUP_ROWS = 1_024
DUMMY = [1.0, 0.0]
# No nullable fields (the engine behind milvus-lite 2.5 refuses them; Milvus < 2.5 has none): an absent
# value is a sentinel that no real value takes, translated back on every read and in every filter.
NO_PAGE = -1
NO_YEAR = -1
NO_TEXT = ""  # doc_type / issuer unknown (a filter never lists "")
CONSISTENCY = "Strong"  # a reader that saw the pointer must see every row written before it
POINTER_ID = 0
SHARD_SHIFT = 27  # row id: epoch (high 32 bits) | writer shard (5 bits) | sequence (27 bits)
KINDS = ("passages", "documents", "texts", "refs", "keys", "sentences", "graph")
# The dense index types a Milvus index is built with (index_types.INDEX_TYPES has IVF too, FAISS's): FLAT
# exact, HNSW beyond FLAT_MAX on a server; the local engine builds FLAT only (see MilvusWriter._choose_index).
INDEX_TYPES = ("auto", "flat", "hnsw")
OPTIONAL_KINDS = ("sentences", "graph")  # absent from a set written by an older format (read as empty)

T = TypeVar("T")


# pymilvus pings every 10 s, also on idle connections; the Lite server accepts a ping only every
# 5 minutes and answers more with GOAWAY "too_many_pings" (an error line on stderr, then a
# reconnect). Ping rarely, and never while idle: a loopback connection needs no keepalive, and a
# connection to a cluster that died while idle is reopened by pymilvus on the next call.
LITE_GRPC_OPTIONS = {"grpc.keepalive_time_ms": 600_000, "grpc.keepalive_permit_without_calls": False}


class LiteServerError(BackendUnavailable):
    """The local Milvus server could not be started or reached."""


class MilvusUnavailable(BackendUnavailable):
    """The Milvus server stopped answering during a call (it died, restarted, or the network dropped)."""


_CONNECT_FAILED = 2  # pymilvus's own Status.CONNECT_FAILED: no connection could be made
# 100 = collection not found (a full build dropped the set a reader was on), 101 = not loaded (a restarted server)
_REPLACED_CODES = {100, 101}
_UNREACHABLE_WORDS = ("unavailable", "fail connecting", "connection refused", "socket closed", "connection reset")


def is_unreachable(e: BaseException) -> bool:
    """Whether a call failed because the server could not be reached (not because of what it asked)."""
    import grpc
    from pymilvus import MilvusException

    if isinstance(e, grpc.RpcError) and hasattr(e, "code"):
        return e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    if isinstance(e, MilvusException):
        return e.code == _CONNECT_FAILED or (
            e.code == 1 and any(w in str(e.message).lower() for w in _UNREACHABLE_WORDS))
    return False


def is_transient(e: BaseException) -> bool:
    """Whether a failed read may succeed when repeated on a fresh connection and a fresh view: the server
    was unreachable, or the version being read was replaced. Never a bad expression, a schema mismatch
    or any other error that would fail again the same way."""
    from pymilvus import MilvusException

    return is_unreachable(e) or (isinstance(e, MilvusException) and e.code in _REPLACED_CODES)


