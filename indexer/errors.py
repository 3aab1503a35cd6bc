"""The errors vnsearch raises; the CLI and the web app turn them into messages."""

from __future__ import annotations


class VnsearchError(Exception):
    """Base class: the message names the input and, where there is one, the next step."""


class IndexMissingError(VnsearchError):
    """No index at the given directory."""


class IndexVersionError(VnsearchError):
    """The index was written by another format version."""


class IndexUnreadableError(VnsearchError):
    """The index directory exists but its files could not be read."""


class IndexLockedError(VnsearchError):
    """Another process holds the index's write lock; ``holder`` names it when it is known."""

    def __init__(self, message: str, holder=None):
        super().__init__(message)
        self.holder = holder  # a store.LockHolder, or None


class ArticleError(VnsearchError):
    """One article (or file) could not be read; ``location`` is ``path[:line]``."""

    def __init__(self, location: str, reason: str):
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


class QueryError(VnsearchError):
    """A search parameter is invalid; ``param`` names it."""

    def __init__(self, param: str, reason: str):
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason


class ArticleNotFoundError(VnsearchError):
    """No article with the given id."""


class IndexWriteError(VnsearchError):
    """The index could not be written (a full disk, a read-only directory); it keeps its last commit.
    ``reason`` is the system's word for it ("No space left on device"; "" when none), naming no path."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason


class WordListError(VnsearchError):
    """A synonyms or stopwords file could not be read; the message starts with ``FILE:LINE``."""
