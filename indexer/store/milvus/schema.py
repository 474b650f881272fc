"""Collection schemas and index parameters, one table of fields per kind of collection."""

from __future__ import annotations

from typing import Any

from indexer.store.keyword import BM25_B, BM25_K1
from indexer.store.milvus.common import (
    CONSISTENCY,
    FILTER_MAX,
    MAX_VARCHAR,
)
from indexer.store.vectors import HNSW_EF_CONSTRUCTION, HNSW_M

# --- schemas ------------------------------------------------------------------------------------


def _schema(client: Any, kind: str, dim: int | None) -> tuple[Any, Any]:
    from pymilvus import DataType, Function, FunctionType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("rid", DataType.INT64, is_primary=True)
    s.add_field("born", DataType.INT64)
    s.add_field("path", DataType.VARCHAR, max_length=MAX_VARCHAR)
    ip = client.prepare_index_params()
    indexed = ["born", "path"]
    if kind == "state":
        s.add_field("kind", DataType.VARCHAR, max_length=64)
        s.add_field("chunk_no", DataType.INT64)
        s.add_field("data", DataType.VARCHAR, max_length=MAX_VARCHAR)
    elif kind == "passages":
        s.add_field("pid", DataType.INT64)
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("ordinal", DataType.INT64)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("section", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("page", DataType.INT64)  # NO_PAGE when unknown
        s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("head", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("head_whole", DataType.BOOL)
        s.add_field("spill", DataType.BOOL)
        s.add_field("embed_hash", DataType.VARCHAR, max_length=256)
        _filter_fields(s)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=int(dim or 1))
        for name in ("exact", "folded"):
            s.add_field(f"kw_{name}", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                        analyzer_params={"type": "standard"})
            s.add_field(f"sp_{name}", DataType.SPARSE_FLOAT_VECTOR)
            s.add_function(Function(name=f"bm25_{name}", function_type=FunctionType.BM25,
                                    input_field_names=[f"kw_{name}"], output_field_names=[f"sp_{name}"]))
            ip.add_index(f"sp_{name}", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params=_index_params({"inverted_index_algo": "TAAT_NAIVE", "bm25_k1": BM25_K1,
                                               "bm25_b": BM25_B}))
        ip.add_index("dense", index_type="FLAT", metric_type="IP")
        indexed += ["pid", "doc_id", "embed_hash"]
    elif kind == "documents":
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
        _filter_fields(s)
        s.add_field("meta", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("meta_spill", DataType.BOOL)
        s.add_field("text_chunks", DataType.INT64)
        indexed += ["doc_id"]
    elif kind == "texts":
        s.add_field("owner", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("kind", DataType.VARCHAR, max_length=256)
        s.add_field("chunk_no", DataType.INT64)
        s.add_field("data", DataType.VARCHAR, max_length=MAX_VARCHAR)
        indexed += ["owner"]
    elif kind == "refs":
        s.add_field("pid", DataType.INT64)
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("key", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("label", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("kind", DataType.VARCHAR, max_length=64)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        indexed += ["pid", "key"]
    elif kind == "keys":
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("key", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("label", DataType.VARCHAR, max_length=MAX_VARCHAR)
        indexed += ["key"]
    elif kind == "graph":  # each document's relation-graph row (indexer/text/document_graph.py), JSON in chunks
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("chunk_no", DataType.INT64)
        s.add_field("data", DataType.VARCHAR, max_length=MAX_VARCHAR)
        indexed += ["doc_id"]
    elif kind == "sentences":
        s.add_field("pid", DataType.INT64)
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("k", DataType.INT64)  # the sentence's order within its passage
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("embed_hash", DataType.VARCHAR, max_length=256)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=int(dim or 1))
        ip.add_index("dense", index_type="FLAT", metric_type="IP")
        indexed += ["pid", "doc_id", "embed_hash"]
    else:
        raise ValueError(kind)
    if kind not in ("passages", "sentences"):
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        ip.add_index("_v", index_type="FLAT", metric_type="IP")
    for name in indexed:
        ip.add_index(name, index_type="INVERTED")  # scalar indexes: what every filter and delete uses
    return s, ip


def _filter_fields(s: Any) -> None:
    """doc_type, issuer, year: not nullable (see NO_TEXT / NO_YEAR in common)."""
    from pymilvus import DataType

    s.add_field("doc_type", DataType.VARCHAR, max_length=FILTER_MAX)
    s.add_field("issuer", DataType.VARCHAR, max_length=FILTER_MAX)
    s.add_field("year", DataType.INT64)


def _index_params(params: dict[str, Any]) -> dict[str, Any]:
    """Index build parameters for both servers: pymilvus sends `params` flattened into top-level
    keys, which a Milvus server reads but Milvus Lite ignores (it reads only a JSON `params` entry,
    so BM25 would silently run with k1=1.5); the nested copy is what Lite reads."""
    return {**params, "params": dict(params)} if params else {}


def _create(client: Any, name: str, schema: Any, index_params: Any) -> None:
    """Create and load a collection. Its indexes are requested without waiting: pymilvus's wait
    polls every 0.5 s, i.e. 12 s for a set of empty collections; an empty index is ready at once."""
    client.create_collection(name, schema=schema, consistency_level=CONSISTENCY)
    client.create_index(name, index_params, sync=False)
    client.load_collection(name)


def _dense_index(kind: str) -> tuple[str, dict[str, Any]]:
    return ("HNSW", {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}) if kind == "hnsw" else ("FLAT", {})
