"""Template filters: Vietnamese number and date formats, and which links are safe to follow."""

from __future__ import annotations

import datetime as dt

from flask import Flask

__all__ = ["register", "vi_number", "vi_date", "web_url"]


def vi_number(n: int) -> str:
    """12345 → "12.345", as Vietnamese writes thousands."""
    return f"{n:,}".replace(",", ".")


def vi_date(d: dt.date | None) -> str:
    """A date as Vietnamese readers write it: 05/01/2024."""
    return d.strftime("%d/%m/%Y") if d else ""


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address, else None: article data never gets to link javascript:."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def register(app: Flask) -> None:
    app.add_template_filter(vi_number)
    app.add_template_filter(vi_date)
    app.add_template_filter(web_url)
