"""Template filters: Vietnamese number and date formats, and which links are safe to follow."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from indexer.fields import vietnam_time

__all__ = ["register", "vi_number", "vi_date", "vi_when", "vi_ago", "date_input", "web_url"]


def vi_number(n: int) -> str:
    """12345 → "12.345", as Vietnamese writes thousands."""
    return f"{n:,}".replace(",", ".")


def vi_date(d: dt.date | None) -> str:
    """A date as Vietnamese readers write it: 05/01/2024."""
    return d.strftime("%d/%m/%Y") if d else ""


def vi_when(d: dt.date | None) -> str:
    """A date as vi_date, a date-time with its time in Vietnam: 05/01/2024 08:30."""
    if isinstance(d, dt.datetime):
        return vietnam_time(d).strftime("%d/%m/%Y %H:%M")
    return vi_date(d)


def vi_ago(d: dt.date | None, now: dt.datetime) -> str:
    """"x phút trước" / "x giờ trước" for a time within the last day before ``now``, else vi_when."""
    if isinstance(d, dt.datetime):
        seconds = (now - d).total_seconds()
        if 0 <= seconds < 3600:
            return f"{max(1, int(seconds // 60))} phút trước"
        if 0 <= seconds < 86400:
            return f"{int(seconds // 3600)} giờ trước"
    return vi_when(d)


def date_input(d: dt.date | None) -> str:
    """The value of an <input type="date">: a date-time's day in Vietnam."""
    if isinstance(d, dt.datetime):
        return vietnam_time(d).date().isoformat()
    return d.isoformat() if d else ""


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address, else None: article data never gets to link javascript:."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def register(app: Flask) -> None:
    app.add_template_filter(vi_number)
    app.add_template_filter(vi_date)
    app.add_template_filter(vi_when)
    app.add_template_filter(vi_ago)
    app.add_template_filter(date_input)
    app.add_template_filter(web_url)
