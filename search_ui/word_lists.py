"""The app's editorial word lists: the packaged ones merged with SYNONYMS_FILE and STOPWORDS_FILE, read
again at the first request after a file changes (a broken edit keeps the last good lists, and is logged)."""

from __future__ import annotations

from flask import Flask, current_app

from indexer.wordlists import WordListFiles, WordLists

__all__ = ["register", "word_lists"]

EXTENSION = "vnsearch_word_lists"


def register(app: Flask) -> None:
    """Read the files named by the config (WordListError naming FILE:LINE when one is bad)."""
    app.extensions[EXTENSION] = WordListFiles(
        app.config.get("SYNONYMS_FILE"), app.config.get("STOPWORDS_FILE"), on_error=app.logger.error
    )


def word_lists() -> WordLists:
    """The current app's lists, as their files now say."""
    return current_app.extensions[EXTENSION].current()
