"""Collection schemas and index parameters, one table of fields per kind of collection."""

from __future__ import annotations

from typing import Any

from indexer.store.index_types import HNSW_EF_CONSTRUCTION, HNSW_M
from indexer.store.keyword import BM25_B, BM25_K1
from indexer.store.milvus.common import (
    CONSISTENCY,
    FILTER_MAX,
    MAX_VARCHAR,
)

# Each kind's own fields (name, type, options; "V": a VARCHAR of MAX_VARCHAR bytes, "I": an INT64, "B": a
# BOOL, "F": the filter fields doc_type / issuer / year) and the scalar fields it indexes. Every collection
# also has rid (the primary key), born and path, indexed.
_FIELDS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "state": [("kind", "V", {"max_length": 64}), ("chunk_no", "I", {}), ("data", "V", {})],
    "passages": [("pid", "I", {}), ("doc_id", "V", {}), ("ordinal", "I", {}), ("start", "I", {}), ("end", "I", {}),
                 ("section", "V", {}), ("page", "I", {}),  # page: NO_PAGE when unknown
                 ("text", "V", {}), ("head", "V", {}), ("head_whole", "B", {}), ("spill", "B", {}),
                 ("embed_hash", "V", {"max_length": 256}), ("", "F", {})],
    "documents": [("doc_id", "V", {}), ("", "F", {}), ("meta", "V", {}), ("meta_spill", "B", {}),
                  ("text_chunks", "I", {})],
    "texts": [("owner", "V", {}), ("kind", "V", {"max_length": 256}), ("chunk_no", "I", {}), ("data", "V", {})],
    "refs": [("pid", "I", {}), ("doc_id", "V", {}), ("key", "V", {}), ("label", "V", {}),
             ("kind", "V", {"max_length": 64}), ("start", "I", {}), ("end", "I", {})],
    "keys": [("doc_id", "V", {}), ("key", "V", {}), ("label", "V", {})],
    # each document's relation-graph row (indexer/text/document_graph.py), JSON in chunks
    "graph": [("doc_id", "V", {}), ("chunk_no", "I", {}), ("data", "V", {})],
    "sentences": [("pid", "I", {}), ("doc_id", "V", {}), ("k", "I", {}),  # k: the sentence's order in its passage
                  ("start", "I", {}), ("end", "I", {}), ("embed_hash", "V", {"max_length": 256})],
}
_INDEXED = {"state": [], "passages": ["pid", "doc_id", "embed_hash"], "documents": ["doc_id"], "texts": ["owner"],
            "refs": ["pid", "key"], "keys": ["key"], "graph": ["doc_id"], "sentences": ["pid", "doc_id", "embed_hash"]}


def _schema(client: Any, kind: str, dim: int | None) -> tuple[Any, Any]:
    """The schema and index parameters of a collection of `kind` (vectors of dimension `dim`)."""
    from pymilvus import DataType

    if kind not in _FIELDS:
        raise ValueError(kind)
    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("rid", DataType.INT64, is_primary=True)
    s.add_field("born", DataType.INT64)
    s.add_field("path", DataType.VARCHAR, max_length=MAX_VARCHAR)
    types = {"V": DataType.VARCHAR, "I": DataType.INT64, "B": DataType.BOOL}
    for name, code, opts in _FIELDS[kind]:
        if code == "F":
            _filter_fields(s)
        elif code == "V":
            s.add_field(name, DataType.VARCHAR, **{"max_length": MAX_VARCHAR, **opts})
        else:
            s.add_field(name, types[code], **opts)
    ip = client.prepare_index_params()
    if kind in ("passages", "sentences"):
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=int(dim or 1))
    if kind == "passages":
        _keyword_fields(s, ip)
    if kind in ("passages", "sentences"):
        ip.add_index("dense", index_type="FLAT", metric_type="IP")
    else:
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        ip.add_index("_v", index_type="FLAT", metric_type="IP")
    for name in ["born", "path", *_INDEXED[kind]]:
        ip.add_index(name, index_type="INVERTED")  # scalar indexes: what every filter and delete uses
    return s, ip


def _keyword_fields(s: Any, ip: Any) -> None:
    """The passages' keyword fields: kw_exact / kw_folded, each turned into a sparse BM25 vector by Milvus."""
    from pymilvus import DataType, Function, FunctionType

    for name in ("exact", "folded"):
        s.add_field(f"kw_{name}", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                    analyzer_params={"type": "standard"})
        s.add_field(f"sp_{name}", DataType.SPARSE_FLOAT_VECTOR)
        s.add_function(Function(name=f"bm25_{name}", function_type=FunctionType.BM25,
                                input_field_names=[f"kw_{name}"], output_field_names=[f"sp_{name}"]))
        ip.add_index(f"sp_{name}", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params=_index_params({"inverted_index_algo": "TAAT_NAIVE", "bm25_k1": BM25_K1,
                                           "bm25_b": BM25_B}))


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
