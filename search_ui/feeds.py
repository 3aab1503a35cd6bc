"""Following a search and searching from the browser: an RSS feed of a search, the OpenSearch description."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for
from werkzeug.exceptions import BadHost

from indexer.fields import vietnam_time
from indexer.search import DEFAULT_LIMIT, DEFAULT_SORT, SearchHit, search, snippet_to_text

from .params import SearchParams, parse_search_params
from .stores import open_store
from .template_filters import web_url

__all__ = ["FEED_ITEMS", "OPENSEARCH_TYPE", "RSS_TYPE", "bp", "feed_url"]

bp = Blueprint("feeds", __name__)

FEED_ITEMS = 20
RSS_TYPE = "application/rss+xml; charset=utf-8"
OPENSEARCH_TYPE = "application/opensearchdescription+xml; charset=utf-8"
ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
# XML 1.0 has no way to write these, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ET.register_namespace("atom", ATOM)


def _followed(params: SearchParams) -> dict[str, str | list[str]]:
    """The search's arguments that the feed follows: the query and the filters, not paging or order."""
    args = params.args(page=1, limit=DEFAULT_LIMIT, sort=DEFAULT_SORT)
    return {name: value for name, value in args.items() if value}


def feed_url(params: SearchParams, external: bool = False) -> str:
    """The RSS feed of a search: its newest articles."""
    return url_for("feeds.search_rss", _external=external, **_followed(params))


@bp.before_request
def _need_a_host() -> None:
    # These answers hold absolute URLs: Werkzeug gives "" for a Host of characters no host name has.
    if not request.host:
        raise BadHost()


@bp.app_context_processor
def _feed_links() -> dict:
    return {"feed_url": feed_url}


@bp.get("/search.rss")
def search_rss():
    """RSS 2.0: the newest FEED_ITEMS articles matching the same parameters as /search."""
    params = parse_search_params(request.args)
    with open_store() as store:
        newest = {"page": 1, "offset": None, "limit": FEED_ITEMS, "sort": "newest"}
        result = search(store, params.q, **(params.search_kwargs() | newest))
    page_url = url_for("pages.search", _external=True, **_followed(params))
    title = f"vnsearch: {params.q.strip()}" if params.q.strip() else "vnsearch: tin mới nhất"

    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", title)
    _text(channel, "link", page_url)
    _text(channel, "description", f"{FEED_ITEMS} bài mới nhất khớp với tìm kiếm này trên vnsearch")
    _text(channel, "language", "vi")
    ET.SubElement(channel, f"{{{ATOM}}}link", href=feed_url(params, external=True), rel="self", type=RSS_TYPE.split(";")[0])
    for hit in result.hits:
        _item(channel, hit)
    return _xml(rss, RSS_TYPE)


def _item(channel: ET.Element, hit: SearchHit) -> None:
    item = ET.SubElement(channel, "item")
    link = web_url(hit.url) or url_for("pages.article", article_id=hit.id, _external=True)
    _text(item, "title", hit.title)
    _text(item, "link", link)
    _text(item, "description", snippet_to_text(hit.snippet, "", ""))
    if hit.published:
        _text(item, "pubDate", _rfc822(hit.published))
    if hit.source:
        _text(item, "category", hit.source, domain="source")
    if hit.category:
        _text(item, "category", hit.category, domain="category")
    guid = url_for("pages.article", article_id=hit.id, _external=True)
    _text(item, "guid", guid, isPermaLink="true")


def _rfc822(published: dt.date) -> str:
    """RFC 822 time of a published date (its start) or date-time, in Vietnam time."""
    return format_datetime(vietnam_time(published))


@bp.get("/opensearch.xml")
def opensearch():
    """OpenSearch 1.1: how a browser searches vnsearch from its address bar, and asks for suggestions."""
    root = ET.Element("OpenSearchDescription", xmlns=OPENSEARCH)
    _text(root, "ShortName", "vnsearch")
    _text(root, "Description", "Tìm tin tức tiếng Việt, gõ có dấu hay không dấu")
    _text(root, "InputEncoding", "UTF-8")
    _text(root, "Language", "vi")
    search_url = url_for("pages.search", _external=True)
    templates = (
        ("text/html", f"{search_url}?q={{searchTerms}}"),
        ("application/x-suggestions+json", url_for("suggest_api.suggest", _external=True) + "?q={searchTerms}&format=opensearch"),
        ("application/rss+xml", url_for("feeds.search_rss", _external=True) + "?q={searchTerms}"),
    )
    for kind, template in templates:
        ET.SubElement(root, "Url", type=kind, method="get", template=template)
    ET.SubElement(
        root, "Url", type=OPENSEARCH_TYPE.split(";")[0], rel="self", template=url_for("feeds.opensearch", _external=True)
    )
    icon = _text(root, "Image", url_for("static", filename="favicon.svg", _external=True), type="image/svg+xml")
    icon.set("width", "16")
    icon.set("height", "16")
    return _xml(root, OPENSEARCH_TYPE)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = _NOT_XML.sub("", text)
    return element


def _xml(root: ET.Element, mimetype: str) -> Response:
    return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), content_type=mimetype)
