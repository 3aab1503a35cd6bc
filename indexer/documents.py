"""Article → the fields the index stores: the one place articles are analyzed.

Runs pyvi once per article (title and text), so it can run in worker
processes; the result is plain strings Whoosh only has to split on spaces.
"""

from __future__ import annotations

from .analysis import index_forms
from .articles import Article
from .duplicates import bands, fingerprint
from .store import day_number

__all__ = ["article_text", "to_document"]


def article_text(sapo: str | None, body: str) -> str:
    """The searchable running text: sapo then body (snippets point into it)."""
    return f"{sapo}\n\n{body}" if sapo else body


def _analyzed(text: str) -> tuple[str, str, str]:
    """(exact syllables, folded syllables, multi-syllable words), space-separated."""
    exact, folded, words = index_forms(text)
    return " ".join(exact), " ".join(folded), " ".join(words)


def to_document(article: Article) -> dict:
    """The Whoosh document for an article (stored originals + analyzed fields)."""
    title = article.title or ""
    title_x, title_f, title_w = _analyzed(title)
    text_x, text_f, text_w = _analyzed(article_text(article.sapo, article.body))
    doc = {
        "id": article.id,
        "hash": article.content_hash(),
        "origin": article.origin,
        "title": article.title,
        "sapo": article.sapo,
        "body": article.body,
        "url": article.url,
        "author": article.author,
        "date": article.published.isoformat() if article.published else None,
        "source": article.source,
        "category": article.category,
        "title_x": title_x,
        "title_f": title_f,
        "title_w": title_w,
        # The text fields hold the title too, so that matching a syllable is one
        # posting list (fast intersections); the title fields only add to the score.
        "text_x": f"{title_x} {text_x}",
        "text_f": f"{title_f} {text_f}",
        "text_w": f"{title_w} {text_w}",
        "day": day_number(article.published),
    }
    # Near-duplicate detection: the signature and its bands (the group key is
    # assigned at write time, against what the index already holds).
    signature = fingerprint(text_f)
    if signature is not None:
        doc["minhash"] = signature
        doc["dup_bands"] = " ".join(bands(signature))
    # Whoosh rejects None for indexed fields; an absent key means "no value".
    return {k: v for k, v in doc.items() if v is not None and v != ""}
