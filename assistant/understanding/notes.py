"""A profile's own notes (``[profiles.NAME] knowledge_dir``): the passages a question is
answered from.

Markdown and text files in the folder (and below it) are split into passages, one per
paragraph under its heading, and indexed in an in-memory SQLite FTS5 table; a question finds
the passages that share the most of its words, ranked by BM25. A passage counts only if it holds
at least two of the question's content words (one, for a one-word question): a question the
notes do not cover finds nothing, and Hearth says so instead of letting the model guess. Before
each search the files' sizes and modification times are compared with the index, so edited,
added or deleted notes are picked up without a restart.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["NOT_IN_NOTES", "CourseNotes", "Passage", "notes_prompt"]

_LOGGER = logging.getLogger(__name__)

NOT_IN_NOTES: Final = "I don't find that in your notes."
_SUFFIXES: Final = (".md", ".markdown", ".txt")
_MAX_FILE_BYTES: Final = 2 << 20  # a note larger than this is skipped, with a warning
_MAX_PASSAGE_CHARS: Final = 900
_RESULTS: Final = 3
_STOP: Final = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "tell",
        "explain",
        "please",
        "about",
        "say",
        "said",
        "mean",
        "means",
    ]
)


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage of the notes: the file (relative to the folder), its heading, its text."""

    source: str
    heading: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.source}#{self.heading}" if self.heading else self.source


def notes_prompt(passages: Sequence[Passage]) -> str:
    """The instructions that tie a free answer to the passages found."""
    listed = "\n".join(f"[{i}] {p.label}: {p.text}" for i, p in enumerate(passages, 1))
    return (
        "Answer only from these notes, in your own short words. If they do not answer the "
        f"question, say exactly: {NOT_IN_NOTES}\nNotes:\n{listed}"
    )


def _content_words(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", text.casefold())
    return [w for w in dict.fromkeys(words) if w not in _STOP and (len(w) > 1 or w.isdigit())]


def _passages(source: str, text: str) -> list[Passage]:
    """Paragraphs under their nearest Markdown heading; long ones cut at sentence ends."""
    found: list[Passage] = []
    heading = ""
    for block in re.split(r"\n\s*\n", text):
        lines = [line.rstrip() for line in block.strip().splitlines()]
        if not lines:
            continue
        if lines[0].lstrip().startswith("#"):
            heading = lines[0].lstrip("# ").strip()
            lines = lines[1:]
        body = " ".join(line.strip() for line in lines).strip()
        while body:
            cut = body[:_MAX_PASSAGE_CHARS]
            if len(body) > _MAX_PASSAGE_CHARS and ". " in cut:
                cut = cut[: cut.rindex(". ") + 1]
            found.append(Passage(source, heading, cut.strip()))
            body = body[len(cut) :].strip()
    return found


class CourseNotes:
    """The notes of one folder, searchable; thread-safe."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE passages USING fts5(source UNINDEXED, heading, text, "
            "tokenize = 'porter unicode61')"
        )
        self._seen: dict[str, tuple[int, int]] = {}

    def _files(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        try:
            paths = sorted(p for p in self.folder.rglob("*") if p.suffix.lower() in _SUFFIXES)
        except OSError as err:
            _LOGGER.warning("cannot read the notes in %s: %s", self.folder, err)
            return found
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            if path.is_file():
                found[str(path.relative_to(self.folder))] = (stat.st_size, stat.st_mtime_ns)
        return found

    def refresh(self) -> bool:
        """Index the notes again if any file was added, changed or removed; ``True`` if so."""
        files = self._files()
        if files == self._seen:
            return False
        rows: list[Passage] = []
        for source, (size, _) in files.items():
            if size > _MAX_FILE_BYTES:
                _LOGGER.warning("note %s is larger than 2 MB, skipped", source)
                continue
            try:
                text = (self.folder / source).read_text(encoding="utf-8", errors="replace")
            except OSError as err:
                _LOGGER.warning("cannot read note %s: %s", source, err.strerror)
                continue
            rows.extend(_passages(source, text))
        self._db.execute("DELETE FROM passages")
        self._db.executemany(
            "INSERT INTO passages (source, heading, text) VALUES (?, ?, ?)",
            [(p.source, p.heading, p.text) for p in rows],
        )
        self._seen = files
        _LOGGER.info("notes in %s: %d files, %d passages", self.folder, len(files), len(rows))
        return True

    def search(self, question: str, limit: int = _RESULTS) -> list[Passage]:
        """The passages that answer ``question`` best (BM25), or none if it is not covered."""
        words = _content_words(question)
        if not words:
            return []
        needed = 1 if len(words) == 1 else 2
        query = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
        with self._lock:
            self.refresh()
            rows = self._db.execute(
                "SELECT source, heading, text FROM passages WHERE passages MATCH ? "
                "ORDER BY bm25(passages, 0.0, 2.0, 1.0) LIMIT ?",
                (query, limit * 4),
            ).fetchall()
        found = []
        for source, heading, text in rows:
            held = set(_content_words(f"{heading} {text}"))
            stems = {_stem(w) for w in held}
            if sum(1 for w in words if w in held or _stem(w) in stems) >= needed:
                found.append(Passage(source, heading, text))
        return found[:limit]


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word
