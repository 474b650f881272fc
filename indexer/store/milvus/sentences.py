"""Sentence scores on Milvus: each candidate passage's sentences scored against the query vector inside
Milvus (a filtered search of the sentences collection, FLAT: exact), one search a query or, for a batch,
one a group of queries. A part of MilvusBackend (reading through its session and published view)."""

from __future__ import annotations

from typing import Any

import numpy as np

from indexer.store.milvus import raw
from indexer.store.milvus.common import (
    CONSISTENCY,
    IN_CHUNK,
    SENTENCE_GROUP_ROWS,
    SENTENCE_SEARCH_LIMIT,
    SENTENCE_SEARCH_PIDS,
)
from indexer.store.milvus.expressions import int_list
from indexer.store.milvus.published import Published
from indexer.store.milvus.rows import sentence_rows
from indexer.store.milvus.view import _View

_SENTENCE_FIELDS = ("pid", "born", "k", "start", "end")  # what a sentence score needs besides the score


def _plan(rows: tuple[tuple[int, ...], ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """A pid's visible sentence rows (rid, pid, born, k, start, end) → the row ids of its sentences as
    `sentence_scores` gives them (the newest version's, in order k) and their spans; None: no sentence."""
    if not rows:
        return None
    newest = max(r[2] for r in rows)
    mine = sorted((r for r in rows if r[2] == newest), key=lambda r: r[3])
    return (np.array([r[0] for r in mine], dtype=np.int64),
            np.array([[r[4], r[5]] for r in mine], dtype=np.int64).reshape(-1, 2))


def _own_scores(ids: np.ndarray, scores: np.ndarray, plans: list[tuple[int, tuple[np.ndarray, np.ndarray]]],
                ) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """pid → (spans, scores) of the pids of `plans` from a search's hits (ids, scores); None when one of
    their rows is not among the hits."""
    if not plans:
        return {}
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    wanted = np.concatenate([rids for _, (rids, _) in plans])
    at = np.minimum(np.searchsorted(sorted_ids, wanted), max(len(sorted_ids) - 1, 0))
    if not len(sorted_ids) or not np.array_equal(sorted_ids[at], wanted):
        return None
    found = scores[order][at]
    out, s = {}, 0
    for pid, (rids, spans) in plans:
        out[pid] = (spans.copy(), found[s : s + len(rids)])
        s += len(rids)
    return out


class SentenceScoring:
    """sentence_scores and sentence_scores_many of MilvusBackend."""

    def __init__(self, published: Published) -> None:
        self.published = published
        self.session = published.session

    def sentence_scores(self, vector: np.ndarray, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """pid → (spans, scores) of its sentences in order k: spans an int (k, 2) array of offsets into the
        passage text, scores float32 (k,) inner products with `vector`; pids without stored sentences are
        left out. Scored inside Milvus: a filtered search over the pids' sentence rows (FLAT: exact), so no
        vector crosses the wire. One search per SENTENCE_SEARCH_PIDS pids asks for SENTENCE_SEARCH_LIMIT hits;
        a search that fills its limit may have been cut short, so its pids are searched again in halves,
        and a single pid with that many visible rows is scored here from its vectors (never truncated).
        Milvus Lite, 16,000 sentences of 384-d: 100 pids (800 sentences) ~55 ms, `sentences` ~110-135 ms;
        Lite's cost is ~13 ms a search plus ~50 µs a hit returned (10 pids: 15 ms)."""
        if not pids:
            return {}
        wanted = sorted({int(p) for p in pids})
        q = np.asarray(vector, dtype=np.float32).reshape(-1)

        def run(v: _View) -> dict[int, tuple[np.ndarray, np.ndarray]]:
            name = v.names.get("sentences")
            if name is None:  # a set of an older format
                return {}
            per, limit = SENTENCE_SEARCH_PIDS, SENTENCE_SEARCH_LIMIT
            todo = [wanted[s : s + per] for s in range(0, len(wanted), per)]
            rows: list[dict[str, Any]] = []
            while todo:
                chunk = todo.pop()
                found = self._scored_sentences(v, name, chunk, q, limit)
                if found is not None:
                    rows += found
                elif len(chunk) > 1:  # possibly cut short: search again in halves
                    todo += [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
                else:  # one pid with at least `limit` visible rows: score its vectors here
                    expr = v.where(f"pid in {int_list(chunk)}")
                    for r in self.session.scan(name, expr, [*_SENTENCE_FIELDS, "dense"]):
                        r["score"] = float(np.dot(np.asarray(r.pop("dense"), dtype=np.float32), q))
                        rows.append(r)
            return {pid: (np.array([[int(r["start"]), int(r["end"])] for r in rs], dtype=np.int64).reshape(-1, 2),
                          np.array([r["score"] for r in rs], dtype=np.float32))
                    for pid, rs in sentence_rows(rows).items()}

        return self.published.read(run)

    def _scored_sentences(self, v: _View, name: str, chunk: list[int], q: np.ndarray, limit: int,
                          lean: bool = True) -> list[dict[str, Any]] | None:
        """The visible sentence rows of `chunk` with their scores; None when the search filled its limit.

        The rows' fields never change within a published version, so they are kept (v.sentences, by
        pid) from the first search that returned them; a chunk whose pids are all known asks for no
        field, only each hit's id and score (a third fewer milliseconds a search, and less parsing)."""
        known = v.sentences.get_many(chunk) if lean else {}
        lean = len(known) == len(chunk)
        res = self.session.client.search(name, data=[q.tolist()], anns_field="dense", limit=limit,
                                  filter=v.where(f"pid in {int_list(chunk)}"),
                                  output_fields=[] if lean else list(_SENTENCE_FIELDS),
                                  search_params={"metric_type": "IP"}, consistency_level=CONSISTENCY)
        hits = res[0] if res else []
        if len(hits) >= limit:
            return None
        if lean:
            by_rid = {r[0]: r for rs in known.values() for r in rs}
            if any(h["id"] not in by_rid for h in hits):  # cannot happen on an immutable version: ask again
                return self._scored_sentences(v, name, chunk, q, limit, lean=False)
            return [{**dict(zip(_SENTENCE_FIELDS, by_rid[h["id"]][1:], strict=True)), "score": float(h["distance"])}
                    for h in hits]
        grouped: dict[int, list[tuple[int, ...]]] = {p: [] for p in chunk}
        out = []
        for h in hits:
            row = {f: h["entity"][f] for f in _SENTENCE_FIELDS}
            grouped.setdefault(int(row["pid"]), []).append((h["id"], *(row[f] for f in _SENTENCE_FIELDS)))
            out.append({**row, "score": float(h["distance"])})
        v.sentences.put_many({p: tuple(rs) for p, rs in grouped.items()})
        return out

    def sentence_scores_many(self, vectors: list[np.ndarray], pid_lists: list[list[int]],
                             ) -> list[dict[int, tuple[np.ndarray, np.ndarray]]]:
        """`sentence_scores` of each (vector, pids) of a batch, in a few searches, not one a query. A search
        has one filter for all its queries, so the queries go in groups whose pids have at most
        SENTENCE_GROUP_ROWS sentence rows together; a group is one search (nq: its queries) over all of
        them, and each query keeps its own pids' rows. The same scores as a search of its own: a FLAT
        index scores each (query, sentence) pair alone, whatever else is searched (checked on ALQAC: all
        60,805 scores of 128 questions equal, bit for bit, in groups of 1 to 64). The rows' fields come
        from the rows' cache, read first (a query per IN_CHUNK pids not yet in it)."""
        wanted = [sorted({int(p) for p in pids}) for pids in pid_lists]
        qs = [np.asarray(vec, dtype=np.float32).reshape(-1) for vec in vectors]

        def run(v: _View) -> list[dict[int, tuple[np.ndarray, np.ndarray]]]:
            name = v.names.get("sentences")
            if name is None:  # a set of an older format
                return [{} for _ in wanted]
            known = self._known_sentences(v, name, sorted({p for w in wanted for p in w}))
            groups: list[tuple[list[int], set[int], int]] = []  # queries, their pids, those pids' rows
            for i, w in enumerate(wanted):
                if not any(known[p] for p in w):
                    continue  # nothing to score: {}
                if groups:
                    idx, pids, n_rows = groups[-1]
                    extra = sum(len(known[p]) for p in w if p not in pids)
                    if n_rows + extra <= SENTENCE_GROUP_ROWS:
                        idx.append(i)
                        pids.update(w)
                        groups[-1] = (idx, pids, n_rows + extra)
                        continue
                groups.append(([i], set(w), sum(len(known[p]) for p in w)))
            waits = [(idx, n_rows, raw.search(
                self.session.client, name, [qs[i].tolist() for i in idx], anns_field="dense",
                # one more than the rows expected: a reply of more tells that the cache missed some; a smaller
                # limit than the window is faster (-25% on ALQAC)
                limit=min(n_rows + 1, SENTENCE_SEARCH_LIMIT),
                filter=v.where(f"pid in {int_list(sorted(pids))}"), output_fields=[],
                search_params={"metric_type": "IP"}, consistency_level=CONSISTENCY))
                for idx, pids, n_rows in groups]  # all in flight at once
            plans = v.plans.get_many(known)
            fresh = {p: _plan(rows) for p, rows in known.items() if p not in plans}
            v.plans.put_many(fresh)
            plans.update(fresh)
            out: list[dict[int, tuple[np.ndarray, np.ndarray]]] = [{} for _ in wanted]
            for idx, n_rows, wait in waits:
                reply = wait()
                for j, i in enumerate(idx):
                    ids, scores = reply.hits(j)
                    own = _own_scores(ids, scores, [(p, plans[p]) for p in wanted[i] if plans[p] is not None])
                    if len(ids) != n_rows or len(ids) >= SENTENCE_SEARCH_LIMIT or own is None:
                        # more rows than a search returns (a query alone in its group), or a row missing
                        own = self.sentence_scores(qs[i], wanted[i])
                    out[i] = own
            return out

        return self.published.read(run)

    def _known_sentences(self, v: _View, name: str, pids: list[int]) -> dict[int, tuple[tuple[int, ...], ...]]:
        """pid → its visible sentence rows (rid, pid, born, k, start, end), from the rows' cache or read."""
        known = v.sentences.get_many(pids)
        missing = [p for p in pids if p not in known]
        for s in range(0, len(missing), IN_CHUNK):
            chunk = missing[s : s + IN_CHUNK]
            grouped: dict[int, list[tuple[int, ...]]] = {p: [] for p in chunk}
            for r in self.session.query(name, v.where(f"pid in {int_list(chunk)}"), ["rid", *_SENTENCE_FIELDS]):
                grouped.setdefault(int(r["pid"]), []).append(tuple(int(r[f]) for f in ("rid", *_SENTENCE_FIELDS)))
            fresh = {p: tuple(rs) for p, rs in grouped.items()}
            v.sentences.put_many(fresh)
            known.update(fresh)
        return known
