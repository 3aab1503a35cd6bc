"""ArticleStore: an open index directory, its searches, and the writers that change it."""

from __future__ import annotations

import errno
import json
import os
import shutil
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as Q

from .. import ranking
from ..analysis import syllables
from ..errors import IndexMissingError, IndexVersionError, IndexWriteError
from ..fields import BODY, DUP, DUP_BANDS, HASH, ID, MINHASH, ORIGIN, SAPO, SOURCE, TEXT_X, TITLE, TIME_UNIT, from_day_number
from ..query import ParsedQuery
from ..ranking import Matches
from ..vocabulary import IndexVocabulary
from .codec import _Codec
from .disk import FORMAT_VERSION, META_FILE, REBUILD_PREFIX, _identity, _refuse_foreign, _remove_stale_builds, _swap
from .locks import LockHolder, _acquired, _creation_locked, _write_locked
from .matching import _View
from .querying import ANY, EXACT, HELD, MOST, Filters, adjacent, both_syllables, build_query, levels
from .schema import _schema
from .scoring import reference_searcher
from .segment_writer import WRITER_MEMORY_MB, _SegmentWriter
from .whoosh_internals import latest_reader
from .writer import StoreWriter, _writes

SMALL_SEGMENT_DOCS = 1000
RELATED_TERMS = 12  # key terms of an article that find its related ones


@dataclass(frozen=True)
class StoredHit:
    """One ranked document as stored, before snippets are made."""

    fields: dict
    score: float
    similar: int = 0  # near duplicates that matched too, collapsed into this hit


@dataclass(frozen=True)
class StoredResults:
    total: int
    matched_all: bool
    hits: list[StoredHit]
    facets: dict[str, dict[str, int]]
    best: float = 0.0  # the best score of all the matches


# side_by_side reads the positions of at most this many articles: enough for the ratios spelling compares.
SIDE_BY_SIDE_AMONG = 2_000


def facet_counts(groups: dict) -> dict[str, int]:
    """Facet value → count, most frequent first; empty values (no source, no date) left out."""
    items = [(str(k), n) for k, n in groups.items() if k not in (None, "", 0, b"")]
    return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


class ArticleStore:
    """An open vnsearch index directory."""

    def __init__(self, path: Path, ix, identity: tuple[int, int] | None = None):
        self.path = path
        self._ix = ix
        self._searcher = reference_searcher(ix, latest_reader(ix))
        self._arrays: _View | None = None  # made by _view() for the searcher it names
        self._identity = identity  # of the meta file: another one means the index was replaced
        self._vocabulary: IndexVocabulary | None = None  # opened by the first search

    @classmethod
    def open(cls, path: Path | str) -> "ArticleStore":
        """Open an existing index, refusing a missing one or one of another format."""
        path = Path(path)
        meta = path / META_FILE
        identity = _identity(path)  # before reading: a rebuild swapped in later is seen by refresh()
        if not meta.is_file() or not whoosh_index.exists_in(str(path)):
            raise IndexMissingError(f"No index at {path}/ — run: vnsearch index --index {path} PATH…")
        try:
            version = json.loads(meta.read_text("utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            version = None
        if version != FORMAT_VERSION:
            raise IndexVersionError(
                f"The index at {path}/ has format {version}, this vnsearch reads format "
                f"{FORMAT_VERSION} — run: vnsearch index --rebuild --index {path} PATH…"
            )
        return cls(path, whoosh_index.open_dir(str(path)), identity)

    @classmethod
    def create(cls, path: Path | str) -> "ArticleStore":
        """Create an empty index in a new or empty directory (``rebuild`` replaces an index)."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            _refuse_foreign(path)
        path.mkdir(parents=True, exist_ok=True)
        with _creation_locked(path):  # another process creating one here meanwhile has finished
            _refuse_foreign(path)
            if any(path.iterdir()):
                raise FileExistsError(errno.EEXIST, "An index is already there: rebuild it to start again", str(path))
            return cls._create_in(path)

    @classmethod
    @_writes
    def _create_in(cls, path: Path) -> "ArticleStore":
        path.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(path), _schema())
        (path / META_FILE).write_text(json.dumps({"format": FORMAT_VERSION}) + "\n", "utf-8")
        return cls(path, ix, _identity(path))

    @classmethod
    @contextmanager
    def rebuild(cls, path: Path | str, lock_timeout: float = 10.0) -> Iterator["ArticleStore"]:
        """An empty index that takes the place of the one at ``path`` once the block ends without error;
        on an error or interruption ``path`` is left as it was. Holds the old index's write lock
        (waiting up to ``lock_timeout`` seconds for it) until the swap."""
        # Built beside ``path`` (a hidden sibling, on the same file system) and swapped in by
        # renaming; the lock keeps writers from committing to an index about to be replaced.
        path = Path(path)
        _refuse_foreign(path)
        target = Path(os.path.realpath(path))  # a symlinked index: the directory it points to is replaced
        new = target.with_name(f"{REBUILD_PREFIX.format(target.name)}{os.getpid()}")

        def failed(step: str, e: BaseException) -> IndexWriteError:
            # An IndexWriteError of the new index names it: say what its OSError said instead.
            e = e.__cause__ if isinstance(e, IndexWriteError) and isinstance(e.__cause__, OSError) else e
            reason = getattr(e, "strerror", None) or ""
            if getattr(e, "errno", None) in (errno.EBUSY, errno.EXDEV):
                reason += " (a mount point cannot be replaced: use a directory inside it as the index)"
            return IndexWriteError(
                f"Cannot {step} {path}/: {reason or e} — {path}/ is left as it was; "
                "free some space or make the directory writable, then run the command again",
                reason,
            )

        with ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, new, ignore_errors=True)  # the unfinished new index, or the old one
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                cleanup.enter_context(_write_locked(target, path, lock_timeout))
                _remove_stale_builds(target)
                new.mkdir()
                store = cls._create_in(new)
            except (OSError, IndexWriteError) as e:
                raise failed("write the new index beside", e) from e
            with store:
                try:
                    yield store
                except IndexWriteError as e:
                    raise failed("write the new index beside", e) from e
            try:
                _swap(new, target)
            except OSError as e:
                raise failed("put the new index in place of", e) from e

    @classmethod
    def open_or_create(cls, path: Path | str) -> "ArticleStore":
        """The index at ``path``, created there first if the directory is missing or empty; safe
        when several processes do this at once (one creates it, the others open it)."""
        try:
            return cls.create(path)
        except FileExistsError:  # made before, or by another process meanwhile (complete: see create)
            return cls.open(path)

    def close(self) -> None:
        if self._vocabulary is not None:
            self._vocabulary.close()
        self._searcher.close()
        self._ix.close()

    def __enter__(self) -> "ArticleStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def vocabulary(self) -> IndexVocabulary:
        """The index's vocabulary, opened again when its file was replaced (a rebuild)."""
        if self._vocabulary is None or not self._vocabulary.is_current():
            if self._vocabulary is not None:
                self._vocabulary.close()
            self._vocabulary = IndexVocabulary(self.path)
        return self._vocabulary

    def refresh(self) -> None:
        """See what other writers committed since this store was opened, or the index a rebuild put in its place."""
        identity = _identity(self.path)
        if identity is not None and identity != self._identity:
            self._reopen()
            return
        if self._searcher.up_to_date():
            return
        self._searcher = reference_searcher(self._ix, self._current_reader())

    def _reopen(self) -> None:
        # Not the generation check below: a rebuilt index counts its commits from 0 again,
        # and may well be at the generation this store last saw.
        fresh = type(self).open(self.path)
        old = self._searcher
        self._ix, self._searcher, self._identity = fresh._ix, fresh._searcher, fresh._identity
        with suppress(Exception):  # its files are gone with the old index: nothing to release but memory
            old.close()

    def _current_reader(self):
        """A reader of the latest commit that reuses this store's readers of unchanged segments
        (same id, same number of deletions): a commit costs the readers of the segments it touched."""
        # Not Searcher.refresh(): whoosh-reloaded 2.7.5 reuses the reader of a segment that gained
        # deletions (deleted articles stay visible) and keeps segments a merge removed.
        old = {r.segment().segment_id(): r for r, _ in self._searcher.reader().leaf_readers() if r.segment()}
        return latest_reader(self._ix, old)


    def segment_count(self) -> int:
        """How many segments the index (as this store last saw it) is made of."""
        return len(self._searcher.reader().leaf_readers())

    def deleted_count(self) -> int:
        """How many deleted (or replaced) articles its segments still hold, until a merge drops them."""
        reader = self._searcher.reader()
        return reader.doc_count_all() - reader.doc_count()

    def small_segment_count(self) -> int:
        """How many of its segments hold fewer than SMALL_SEGMENT_DOCS documents."""
        return sum(1 for r, _ in self._searcher.reader().leaf_readers() if r.doc_count_all() < SMALL_SEGMENT_DOCS)

    def lock_holder(self) -> "LockHolder | None":
        """The process recorded as holding the write lock, if the lock is held."""
        lock = self._ix.lock("WRITELOCK")
        if lock.acquire():
            lock.release()
            return None
        return LockHolder.read(self.path)

    def __len__(self) -> int:
        return self._searcher.doc_count()

    def get(self, article_id: str) -> dict | None:
        """The stored fields of one article, or None."""
        return self._searcher.document(**{ID: article_id})

    def fingerprints(self, ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """id → (content hash, origin) of every article (or of those of ``ids`` that are indexed), read from columns."""
        reader = self._searcher.reader()
        if reader.doc_count_all() == 0:
            return {}  # Whoosh's empty reader has no columns
        hashes = reader.column_reader(HASH)
        origins = reader.column_reader(ORIGIN)
        if ids is not None:
            found = ((i, self._searcher.document_number(**{ID: i})) for i in ids)
            return {i: (hashes[n], origins[n]) for i, n in found if n is not None}
        column = reader.column_reader(ID)
        return {column[n]: (hashes[n], origins[n]) for n in reader.all_doc_ids()}

    def ids_from(self, origin: str) -> list[str]:
        """The ids of the articles read from the file ``origin``."""
        return [fields[ID] for fields in self._searcher.documents(**{ORIGIN: origin})]

    def stats(self) -> dict:
        """Article count, per-source counts and the published date range."""
        view = self._view()
        codes, names = view.facets[SOURCE]
        sources = ranking.counts(codes[view.live], names)
        days = view.day[view.live & (view.day > 0)]
        return {
            "articles": self._searcher.doc_count(),
            "sources": {k: n for k, n in sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])) if k},
            "first_published": from_day_number(int(days.min()) // TIME_UNIT) if len(days) else None,
            "last_published": from_day_number(int(days.max()) // TIME_UNIT) if len(days) else None,
            "size_bytes": sum(f.stat().st_size for f in self.path.iterdir() if f.is_file()),
        }

    def search(
        self,
        parsed: ParsedQuery,
        filters: Filters,
        offset: int,
        limit: int,
        newest_first: bool = False,
        collapse: bool = True,
        everything: bool = False,
        together: bool = False,
    ) -> "StoredResults":
        """Run a parsed query, level after level (``levels``): total, matched_all, hits[offset:offset+limit],
        facets. With ``collapse``, a group of near duplicates shows as its best hit, which counts the
        others (``similar``); the total and the facets count after collapsing, filters applied, but a
        facet's own filter left out of its counts (its other values stay to be ticked too). A query
        with ``everything`` (a placeholder search) matches every article the filters let through, newest first.
        With ``together``, only the levels finding every syllable together run: none found, nothing."""
        view = self._view()

        def kept(m: Matches, allowed: np.ndarray | None) -> Matches:
            return m.where(view.live[m.docs] & (allowed[m.docs] if allowed is not None else True))

        allowed = view.allowed(filters)
        matches, level, found = Matches.none(), EXACT, Matches.none()
        for level in levels(parsed) if not everything else ():
            if together and level in (HELD, MOST, ANY):
                matches, level, found = Matches.none(), ANY, Matches.none()
                break
            q = build_query(parsed, level)
            if q is None:
                break
            found = view.matches(q)
            matches = kept(found, allowed)
            if len(matches):
                break
        if everything:
            found = Matches(np.arange(view.size, dtype=np.int64), np.zeros(view.size))
            matches = kept(found, allowed)
        keys = [view.day] if newest_first or everything else []

        def scored(m: Matches) -> tuple[Matches, dict[int, int]]:
            m = Matches(m.docs, m.scores * view.recency[m.docs])
            return ranking.collapse(m, view.groups, keys) if collapse and not filters.group else (m, {})

        matches, collapsed = scored(matches)
        hits = []
        for i in ranking.top(matches, offset + limit, keys)[offset:]:
            docnum = int(matches.docs[i])
            similar = collapsed.get(int(view.groups[docnum]), 0)  # -1, alone: never a key
            hits.append(StoredHit(self._searcher.stored_fields(docnum), float(matches.scores[i]), similar))
        facets = {}
        for name, (codes, names) in view.facets.items():
            counted = matches
            if getattr(filters, name, None):  # source, category: ticking another value widens the search
                counted = scored(kept(found, view.allowed(filters, but=name)))[0]
            facets[name] = facet_counts(ranking.counts(codes[counted.docs], names))
        best = float(matches.scores.max()) if len(matches) else 0.0
        return StoredResults(len(matches), level not in (HELD, MOST, ANY), hits, facets, best)

    def side_by_side(self, folded: tuple[str, str], among: int = SIDE_BY_SIDE_AMONG) -> int:
        """How many articles hold these folded syllables side by side, in this order: counted among the
        latest ``among`` of those holding both, then scaled, so that common syllables cost little more
        to ask about than rare ones."""
        view = self._view()
        both = view.matches(both_syllables(folded))
        docs = both.docs[view.live[both.docs]]
        latest = docs[-among:]
        if not len(latest):
            return 0
        found = view.phrase(adjacent(folded), within=latest)
        held = int(np.isin(found.docs, latest).sum())
        return round(held * len(docs) / len(latest))

    def reference_search(self, q: Q.Query, **kwargs):
        """``q`` run by Whoosh's own searcher (ReferenceBM25F), what ``search`` reproduces with arrays."""
        return self._searcher.search(q, **kwargs)

    def _view(self) -> _View:
        """The arrays of the current searcher, made on first use after each refresh."""
        if self._arrays is None or self._arrays.searcher is not self._searcher:
            self._arrays = _View(self._searcher, self._arrays)
        return self._arrays

    def near_duplicate_candidates(self, bands: list[str]) -> list[tuple[str, int, str]]:
        """(id, fingerprint, group) of the indexed articles holding any of these fingerprint bands."""
        reader = self._searcher.reader()
        # Most bands are in no other article: a term look-up each, no query to run.
        docnums = {n for b in bands if (DUP_BANDS, b) in reader for n in Q.Term(DUP_BANDS, b).docs(self._searcher)}
        found = (self._searcher.stored_fields(n) for n in sorted(docnums))
        return [(f[ID], f[MINHASH], f.get(DUP) or f[ID]) for f in found]

    def related(self, article_id: str, limit: int) -> list[StoredHit]:
        """Articles sharing the most distinctive words of this one (title and text)."""
        docnum = self._searcher.document_number(**{ID: article_id})
        if docnum is None:
            return []
        fields = self._searcher.stored_fields(docnum)
        text = " ".join(
            s.exact for s in syllables(f"{fields.get(TITLE, '')}\n{fields.get(SAPO, '')}\n{fields.get(BODY, '')}")
        )
        # Whoosh's more_like on arrays: an OR of the text's key terms (Bo1 weights), the article left out.
        key_terms = self._searcher.key_terms_from_text(TEXT_X, text, numterms=RELATED_TERMS, normalize=False)
        if not key_terms:
            return []
        view = self._view()
        matches = view.matches(Q.Or([Q.Term(TEXT_X, word, boost=weight) for word, weight in key_terms]))
        matches = matches.where(view.live[matches.docs] & (matches.docs != docnum))
        matches = Matches(matches.docs, matches.scores * view.recency[matches.docs])
        return [
            StoredHit(self._searcher.stored_fields(int(matches.docs[i])), float(matches.scores[i]))
            for i in ranking.top(matches, limit)
        ]

    @_writes
    def writer(
        self, timeout: float = 10.0, on_wait: Callable[["LockHolder | None"], None] | None = None
    ) -> "StoreWriter":
        """A writer holding the index's lock; commit() or cancel() it, or use it in a with block.
        When another process holds the lock, calls ``on_wait(holder)`` once and waits up to
        ``timeout`` seconds, then raises IndexLockedError naming the holder."""
        # The lock is taken here, not by Whoosh: a Whoosh writer that fails to start
        # (a full disk) would keep its lock until the garbage collector found it.
        lock = self._ix.lock("WRITELOCK")
        _acquired(lock, self.path, timeout, on_wait)
        try:
            LockHolder.record(self.path)
            w = _SegmentWriter(self._ix, _lk=False, limitmb=WRITER_MEMORY_MB, compound=False, codec=_Codec())
        except BaseException:
            lock.release()  # the caller never gets this writer
            raise
        return StoreWriter(w, lock)
