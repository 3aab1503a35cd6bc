"""`vnsearch index`: read article files, analyze what changed, write the index."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .articles import Article, Failure, load_articles
from .documents import to_document
from .store import ArticleStore
from .vocabulary import Vocabulary

__all__ = ["IngestReport", "index_paths"]

# Below this many changed articles, starting worker processes (each loading
# pyvi's model) costs more than it saves.
POOL_THRESHOLD = 200
BATCH_SIZE = 1000


@dataclass
class IngestReport:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, failed {self.failed}"
        )


def index_paths(
    index_dir: Path,
    paths: Iterable[Path],
    *,
    prune: bool = False,
    rebuild: bool = False,
    workers: int | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    on_article: Callable[[], None] | None = None,
) -> IngestReport:
    """Index the articles under ``paths`` into ``index_dir``; return the counts.

    Unchanged articles (same content hash) are skipped before any analysis; a
    bad file or article is reported and skipped; with ``prune``, articles whose
    file under ``paths`` no longer holds them are deleted. Work is committed in
    batches, so an interrupted run keeps every finished batch.
    """
    paths = [Path(p) for p in paths]
    report = IngestReport()
    store = ArticleStore.create(index_dir) if rebuild else ArticleStore.open_or_create(index_dir)
    with store:
        known = store.fingerprints()
        vocabulary = Vocabulary.load(index_dir)
        seen: dict[str, str] = {}
        failed_origins: set[str] = set()

        def fail(failure: Failure, file_path: Path) -> None:
            report.failures.append(failure)
            failed_origins.add(os.path.abspath(file_path))
            if on_failure:
                on_failure(failure)

        index_root = os.path.abspath(index_dir) + os.sep

        def changed() -> Iterator[Article]:
            for file_path, item in load_articles(paths):
                if os.path.abspath(file_path).startswith(index_root):
                    continue  # the index's own files, when it lives inside PATH
                if isinstance(item, Failure):
                    fail(item, file_path)
                    continue
                if item.id in seen:
                    fail(Failure(item.origin, f"duplicate id {item.id!r} (already read from {seen[item.id]})"), file_path)
                    continue
                seen[item.id] = item.origin
                if on_article:
                    on_article()
                item = replace(item, origin=os.path.abspath(item.origin))
                if known.get(item.id) == (item.content_hash(), item.origin):
                    report.unchanged += 1
                    continue
                yield item

        pending = changed()
        head = list(islice(pending, POOL_THRESHOLD))
        articles = chain(head, pending)
        n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        if len(head) < POOL_THRESHOLD or n_workers < 2:
            _write(store, ((a, to_document(a)) for a in articles), known, vocabulary, report)
        else:
            with multiprocessing.Pool(n_workers) as pool:
                docs = pool.imap(_with_document, articles, chunksize=8)
                _write(store, docs, known, vocabulary, report)

        if prune:
            _prune(store, paths, known, seen, failed_origins, report)
    return report


def _with_document(article: Article) -> tuple[Article, dict]:
    return article, to_document(article)


def _write(
    store: ArticleStore,
    docs: Iterator[tuple[Article, dict]],
    known: dict,
    vocabulary: Vocabulary,
    report: IngestReport,
) -> None:
    while True:
        batch = list(islice(docs, BATCH_SIZE))
        if not batch:
            return
        writer = store.writer()
        try:
            for article, doc in batch:
                writer.put(doc)
                vocabulary.add_document(doc)
            vocabulary.save(store.path)  # under the write lock, before the commit
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        for article, _ in batch:
            if article.id in known:
                report.updated += 1
            else:
                report.added += 1


def _prune(store, paths, known, seen, failed_origins, report) -> None:
    roots = [os.path.abspath(p) for p in paths]

    def under_roots(origin: str) -> bool:
        return any(origin == r or origin.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

    gone = [
        article_id
        for article_id, (_, origin) in known.items()
        if article_id not in seen and under_roots(origin) and origin not in failed_origins
    ]
    if not gone:
        return
    writer = store.writer()
    for article_id in gone:
        writer.delete(article_id)
    writer.commit()
    report.deleted += len(gone)
