"""Article → the fields the index stores: the one place articles are analyzed.

Runs pyvi once per article (title and text), so it can run in worker
processes; the result is plain strings Whoosh only has to split on spaces.
"""

from __future__ import annotations

from .analysis import index_forms
from .articles import Article
from .duplicates import bands, fingerprint
from .fields import (
    AUTHOR, BODY, CATEGORY, DATE, DAY, DUP_BANDS, HASH, ID, MINHASH, ORIGIN, SAPO, SOURCE,
    TEXT_F, TEXT_W, TEXT_X, TITLE_F, TITLE_W, TITLE, TITLE_X, URL, article_text, parse_stored_time, time_number,
)

__all__ = ["article_text", "stored_article", "to_document"]


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
        ID: article.id,
        HASH: article.content_hash(),
        ORIGIN: article.origin,
        TITLE: article.title,
        SAPO: article.sapo,
        BODY: article.body,
        URL: article.url,
        AUTHOR: article.author,
        DATE: article.published.isoformat() if article.published else None,
        SOURCE: article.source,
        CATEGORY: article.category,
        TITLE_X: title_x,
        TITLE_F: title_f,
        TITLE_W: title_w,
        # The text fields hold the title too, so that matching a syllable is one
        # posting list (fast intersections); the title fields only add to the score.
        TEXT_X: f"{title_x} {text_x}",
        TEXT_F: f"{title_f} {text_f}",
        TEXT_W: f"{title_w} {text_w}",
        DAY: time_number(article.published),
    }
    # Near-duplicate detection: the signature and its bands (the group key is
    # assigned at write time, against what the index already holds).
    signature = fingerprint(text_f)
    if signature is not None:
        doc[MINHASH] = signature
        doc[DUP_BANDS] = " ".join(bands(signature))
    # Whoosh rejects None for indexed fields; an absent key means "no value".
    return {k: v for k, v in doc.items() if v is not None and v != ""}


def stored_article(fields: dict) -> Article:
    """The article whose stored fields (``ArticleStore.get``) these are, ready to be indexed again."""
    published = fields.get(DATE)
    return Article(
        fields[ID], fields.get(TITLE), fields.get(SAPO), fields[BODY],
        parse_stored_time(published),
        fields.get(URL), fields.get(SOURCE), fields.get(CATEGORY), fields.get(AUTHOR), fields[ORIGIN],
    )
