"""Reading news articles from .txt, .json, .jsonl and .jsonl.gz files.

Every string goes through ``text.clean`` at the door. Bad input never raises out of
``read_file`` or ``load_articles``: it becomes a ``Failure`` naming the file (and the
line or item), and the rest of the input still loads.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import re
import sys
import zlib
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import ArticleError
from .fields import vietnam_time
from .json_text import is_json_list, json_error_text, json_list_items, parse_json
from .text import clean, printable

__all__ = [
    "ARTICLE_SUFFIXES", "Article", "Failure", "article_paths", "articles_from_json", "display_path", "duplicate_id",
    "find_files", "id_problem", "is_caption", "load_articles", "parse_text_article", "read_file",
]

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
ARTICLE_SUFFIXES = (".txt", ".json", *JSONL_SUFFIXES)
STDIN = "-"  # the path that reads JSON Lines from standard input
STDIN_NAME = "<stdin>"  # its articles' origin, and the start of their fallback ids and failures' locations
OnRead = Callable[[int], None]  # told each number of bytes of the input consumed (gzip: compressed)
MB = 1024 * 1024
# pyvi segments an article in one piece, in time and memory that grow with its length. Real
# news articles run to tens of KB, so anything larger is not an article and is refused unread.
MAX_ARTICLE_BYTES = 1 * MB
MAX_LINE_BYTES = 4 * MAX_ARTICLE_BYTES  # a JSON line: escapes (\uXXXX) take room
MAX_JSON_FILE_BYTES = 64 * MB  # a .json file is parsed whole; larger collections go in .jsonl
# An id is part of the article's URL (/article/ID): one that a URL cannot carry is refused.
MAX_ID_BYTES = 2048
# A date outside these bounds is a typo or a placeholder (9999-12-31), and one such date would
# stretch the recency scale of the whole index.
EARLIEST_PUBLISHED = datetime.date(1900, 1, 1)
MAX_DAYS_AHEAD = 2  # time zones, and articles dated the next morning
_FIELDS = ("id", "title", "sapo", "body", "published", "url", "source", "category", "author")


@dataclass(frozen=True)
class Article:
    """One article in its stored form; ``origin`` is the file it was read from."""

    id: str
    title: str | None
    sapo: str | None
    body: str
    published: datetime.date | None  # a date-time (in Vietnam time) when the article gives the time
    url: str | None
    source: str | None
    category: str | None
    author: str | None
    origin: str
    location: str = field(default="", compare=False, repr=False)  # ``path:line`` or ``path:item N``, for messages

    def content_hash(self) -> str:
        """SHA-1 hex over every field but ``origin``: the same article read from anywhere hashes alike."""
        data = asdict(self)
        del data["origin"], data["location"]
        data["published"] = self.published.isoformat() if self.published else None
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Failure:
    """An article or a file that could not be read: ``path``, ``path:line`` or ``path:item N``."""

    location: str
    reason: str

    def __str__(self) -> str:
        return printable(f"{self.location}: {self.reason}")


def duplicate_id(article: Article, first_origin: str) -> Failure:
    """The failure of an article whose id an earlier one of the same run already had (``first_origin``
    is where, best its ``location``)."""
    where = article.location or article.origin
    return Failure(where, f"duplicate id {article.id!r} (already read from {first_origin})")


def id_problem(article_id: str) -> str | None:
    """Why ``article_id`` cannot be an article's id (its URL could not reach it), or None when it can."""
    if not article_id:
        return "id: empty"
    if (size := len(article_id.encode("utf-8", "surrogatepass"))) > MAX_ID_BYTES:
        return f"id: longer than {MAX_ID_BYTES:,} bytes ({size:,} bytes)"
    if article_id.startswith("/"):
        return f"id: {article_id!r} starts with '/'"
    if any(part in (".", "..") for part in article_id.split("/")):
        return f"id: {article_id!r} has a '.' or '..' segment (URLs drop them)"
    if any(c in article_id for c in "\t\n\r"):
        return f"id: {article_id!r} holds a tab or a line break"
    return None


def _date_problem(published: datetime.date, field_text: str) -> str | None:
    """Why ``published`` is implausible (before 1900, or days ahead of today), or None."""
    latest = datetime.date.today() + datetime.timedelta(days=MAX_DAYS_AHEAD)
    day = vietnam_time(published).date() if isinstance(published, datetime.datetime) else published
    if EARLIEST_PUBLISHED <= day <= latest:
        return None
    bounds = f"{EARLIEST_PUBLISHED.isoformat()} to {MAX_DAYS_AHEAD} days from today"
    return f"published: {field_text!r} is out of range ({bounds})"


# --- plain text -------------------------------------------------------------

_DMY = r"(?P<d>\d{1,2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)"
# "TCCS - Ngày 28-12-2023, …" or "Ngày 28-12-2023, …" at the start of the first line.
_PREFIX = re.compile(
    r"(?:(?P<tag>[^\W_][^.,;:!?()\"“”\n–—]*?)\s+[-–—]\s+)?"
    rf"(?P<date>(?P<ngay>[Nn]gày\s+)?{_DMY})"
)
# A period after these words does not end a sentence ("TP. Hồ Chí Minh", "Nguyễn V. An").
_ABBREVIATION = re.compile(r"[A-ZĐ]|TP|Tp|TS|ThS|PGS|GS|BS|Mr|Mrs|Ms|Dr|St")
_PHOTO = r"(?:Ảnh|ẢNH)"
_ILLUSTRATION = r"minh h(?:ọa|oạ)"
_CAPTION = re.compile(
    rf"^{_PHOTO}\s*:|^{_PHOTO} {_ILLUSTRATION}"  # "Ảnh: …", "Ảnh minh họa"
    rf"|_\s*{_PHOTO}\s*:[^_]{{1,60}}$"  # "… _ Ảnh: TTXVN"
    rf"|\s{_PHOTO}\s*:[^:()]{{1,40}}$"  # "… Ảnh: Hà Linh"
    rf"|\(\s*{_PHOTO}(?:\s*:[^()]{{1,40}}| {_ILLUSTRATION})\)\.?$"  # "… (Ảnh: TTXVN)"
)
_TITLE_MAX = 120


def is_caption(line: str) -> bool:
    """True for a photo caption line ("… _ Ảnh: TTXVN", "Ảnh: …", "… (Ảnh minh họa)")."""
    return bool(_CAPTION.search(line.strip()))


def parse_text_article(text: str, article_id: str, origin: str) -> Article:
    """Parse one plain-text article: a "TAG - Ngày d-m-y" prefix or a title line, the body, an author line.

    A tagless "Ngày d-m-y, …" first line gives the date only. Raises ArticleError when no body is left.
    """
    if problem := id_problem(article_id):
        raise ArticleError(origin, problem)
    lines = [line.rstrip() for line in clean(text).strip().split("\n")]
    title = source = published = author = None
    date_len = 0
    prefix = _PREFIX.match(lines[0])
    if prefix and (prefix["tag"] or prefix["ngay"]) and _tag_ok(prefix["tag"]):
        published = _date(prefix["y"], prefix["m"], prefix["d"])
    if published:
        source = prefix["tag"]
        lines[0] = lines[0][prefix.start("date"):]  # the dated lead is a sentence of the article
        date_len = len(prefix["date"])
    elif len(lines) > 1 and len(lines[0]) <= 150 and not lines[0].endswith((".", ";", ",", ":")):
        title, lines = lines[0], lines[1:]
    if sum(1 for line in lines if line) > 1 and _is_author(lines[-1]):
        author, lines = lines[-1].strip(), lines[:-1]
    body = _paragraphs("\n".join(lines))
    if not body:
        raise ArticleError(origin, "no body")
    if published and (problem := _date_problem(published, prefix["date"])):
        raise ArticleError(origin, problem)
    if title is None:
        title = _derive_title(body[date_len:].lstrip(" ,:;-–—\n") or body)
    return Article(article_id, title, None, body, published, None, source, None, author, origin, origin)


def _tag_ok(tag: str | None) -> bool:
    return tag is None or (len(tag) <= 40 and len(tag.split()) <= 5)


def _date(year: str, month: str, day: str) -> datetime.date | None:
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _is_author(line: str) -> bool:
    line = line.strip()
    return (
        len(line) <= 60 and len(line.split()) <= 8 and line[:1].isupper()
        and not line.endswith((".", "!", "?", ":", ";", ",", "…")) and not is_caption(line)
    )


def _paragraphs(text: str) -> str:
    """Paragraphs stripped and joined by one blank line; line-end spaces removed."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return "\n\n".join(p.strip() for p in re.split(r"\n{2,}", text) if p.strip())


def _derive_title(text: str) -> str:
    """The first sentence of the first line, capitalised, without its final period, cut to 120 characters."""
    line = text.split("\n", 1)[0]
    for end in re.finditer(r"[.!?…]+\s+(?=\S)", line):
        word = line[: end.start()].rsplit(" ", 1)[-1].lstrip("(\"“'")
        after = line[end.end()]
        if not _ABBREVIATION.fullmatch(word) and (after.isupper() or after.isdigit() or after in "\"“("):
            line = line[: end.end()].rstrip()
            break
    line = re.sub(r"(?:\./\.|(?<!\.)\.)$", "", line).rstrip()
    line = line[:1].upper() + line[1:]
    if len(line) > _TITLE_MAX:  # cut at a word boundary; the "…" counts in the 120
        space = line.rfind(" ", 0, _TITLE_MAX)
        line = line[: space if space > 0 else _TITLE_MAX - 1].rstrip(" ,;:-–—") + "…"
    return line


# --- JSON -------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)")


def _parse_published(value: str) -> datetime.date | None:
    """An ISO 8601 date, or date-time (in Vietnam time, UTC+7, when it names no zone); or day-month-year."""
    if m := re.fullmatch(_DMY, value):
        return _date(m["y"], m["m"], m["d"])
    if _ISO_DATE.match(value):
        try:
            if len(value) == 10:
                return datetime.date.fromisoformat(value)
            return vietnam_time(datetime.datetime.fromisoformat(value))
        except (ValueError, OverflowError):
            return None
    return None


def _from_object(obj: object, fallback_id: str, origin: str, location: str) -> Article | Failure:
    """One JSON object as an Article; an integer id is accepted and written in decimal."""
    if not isinstance(obj, dict):
        return Failure(location, "expected a JSON object")
    values: dict[str, str | None] = {}
    size = 0
    for key in _FIELDS:
        value = obj.get(key)
        if key == "id" and type(value) is int:
            value = str(value)
        if value is not None and not isinstance(value, str):
            return Failure(location, f"{key}: expected a string, got {type(value).__name__}")
        if value is not None:
            try:
                size += len(value.encode("utf-8"))
            except UnicodeEncodeError:  # "\ud800" in JSON: no UTF-8 text can hold it
                return Failure(location, f"{key}: invalid Unicode (an unpaired surrogate)")
        values[key] = (clean(value).strip() or None) if value is not None else None
    if size > MAX_ARTICLE_BYTES:
        return Failure(location, _too_large("article", size, MAX_ARTICLE_BYTES))
    body = _paragraphs(values.pop("body") or "")
    if not body:
        return Failure(location, "no body")
    published = None
    if values["published"] and not (published := _parse_published(values["published"])):
        return Failure(location, f"published: cannot read date '{values['published']}'")
    if published and (problem := _date_problem(published, values["published"])):
        return Failure(location, problem)
    values.update(
        id=values["id"] or values["url"] or fallback_id,
        title=values["title"] or _derive_title(values["sapo"] or body),  # as for .txt files
        published=published,
    )
    if values["id"] and (problem := id_problem(values["id"])):
        return Failure(location, problem)
    return Article(body=body, origin=origin, location=location, **values)


def _too_large(what: str, size: int, limit: int) -> str:
    shown = f"{size / MB:.1f} MB"
    if float(shown.split()[0]) <= limit / MB:  # rounded down to the limit: exact bytes
        shown = f"{size:,} bytes"
    return f"{what} larger than {limit // MB} MB ({shown})"


def articles_from_json(data: object, origin: str) -> list[Article | Failure]:
    """The articles of a parsed JSON value sent on its own (one object or a list of them): with
    no file to fall back on, each needs an ``id`` or a ``url``; a list's items are located as
    ``item N`` (from 1)."""
    if isinstance(data, list):
        items = [(obj, f"item {n}") for n, obj in enumerate(data, 1)]
    else:
        items = [(data, "article")]
    out: list[Article | Failure] = []
    for obj, location in items:
        item = _from_object(obj, "", origin, location)
        if isinstance(item, Article) and not item.id:
            item = Failure(location, "id: missing (give an id or a url)")
        out.append(item)
    return out


def _read_json(text: str, rel: str, origin: str) -> Iterator[Article | Failure]:
    """A list's items one at a time: checked whole first, so that a broken file indexes nothing."""
    try:
        if not is_json_list(text):
            yield _from_object(parse_json(text), rel, origin, origin)
            return
        for _ in json_list_items(text):
            pass
    except json.JSONDecodeError as e:
        raise ArticleError(origin, json_error_text(e)) from None
    for n, obj in enumerate(json_list_items(text), 1):  # items are numbered from 1, like jsonl lines
        yield _from_object(obj, f"{rel}:{n}", origin, f"{origin}:item {n}")


def _read_jsonl(path: Path, rel: str, origin: str, on_read: OnRead | None = None) -> Iterator[Article | Failure]:
    """Stream one object a line; gzip errors propagate after the readable lines are yielded."""
    with open(path, "rb") as f:
        if path.name.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=f) as lines:
                yield from _jsonl_lines(lines, rel, origin, f.tell if on_read else None, on_read)
        else:
            yield from _jsonl_lines(f, rel, origin, f.tell if on_read else None, on_read)


def _jsonl_lines(lines, rel: str, origin: str, position, on_read: OnRead | None) -> Iterator[Article | Failure]:
    """The articles of an open binary file of JSON Lines; ``position()`` (when given) is how far
    its input has been read, passed on to ``on_read`` as it grows."""
    seen = False
    last = 0
    # readline with a limit: a huge line (or a gzip bomb) is never held in memory whole.
    for lineno, raw in enumerate(iter(lambda: lines.readline(MAX_LINE_BYTES + 1), b""), 1):
        if position is not None:
            now = position()
            on_read(now - last)
            last = now
        location = f"{origin}:{lineno}"
        if len(raw) > MAX_LINE_BYTES:
            size = len(raw) + _skip_line(lines)
            seen = True
            yield Failure(location, _too_large("line", size, MAX_LINE_BYTES))
            continue
        try:
            line = raw.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
        except UnicodeDecodeError:
            seen = True
            yield Failure(location, "not UTF-8 text")
            continue
        if not line.strip():
            continue
        seen = True
        try:
            obj = parse_json(line)
        except json.JSONDecodeError as e:
            yield Failure(location, json_error_text(e, with_line=False))
            continue
        yield _from_object(obj, f"{rel}:{lineno}", origin, location)
    if not seen:
        yield Failure(origin, "empty file")


def _skip_line(f) -> int:
    """Read to the end of the current line, keeping nothing; returns the bytes skipped."""
    skipped = 0
    while chunk := f.readline(MB):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


# --- files ------------------------------------------------------------------


def _decode(data: bytes, origin: str) -> str:
    if b"\0" in data:
        raise ArticleError(origin, "binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArticleError(origin, "not UTF-8 text") from None
    if not clean(text).strip():
        raise ArticleError(origin, "empty file")
    return text


def find_files(path: Path, on_skip: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Yield ``path`` itself when it is not a directory, else its article files: sorted, recursive,
    skipping hidden names and symlinked directories (and files of other types: told to ``on_skip``)."""
    if not path.is_dir():
        yield path
        return
    yield from map(Path, article_paths(str(path), on_skip))


def article_paths(folder: str, on_skip: Callable[[str], None] | None = None) -> Iterator[str]:
    """``find_files`` under a folder, as strings joined to ``folder`` (one ``os.scandir`` a
    folder, no stat a file: cheap enough for `vnsearch watch` to run every interval)."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        yield folder  # read_file reports why it cannot be listed
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if not entry.is_symlink():
                yield from article_paths(entry.path, on_skip)
        elif entry.name.lower().endswith(ARTICLE_SUFFIXES):
            yield entry.path
        elif on_skip is not None:
            on_skip(entry.path)


def display_path(path: str | Path) -> str:
    """``path`` as text that UTF-8 can hold: a byte of a file name that is not UTF-8 written as ``\\xe9``
    (the same every time, so the file keeps its id)."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, as os.fsdecode's surrogateescape left them
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def read_file(
    path: Path, base: Path, *, follow_symlinks: bool = False, on_read: OnRead | None = None
) -> Iterator[Article | Failure]:
    """Yield the articles of one file, and a Failure for each bad article or for the whole file.

    ``base`` is the path the user gave; ids fall back to the path relative to it. A symlink to a
    file outside ``base`` is refused unless ``follow_symlinks``. ``on_read`` hears of the bytes read.
    """
    read = [0]

    def count(n: int) -> None:
        read[0] += n
        on_read(n)

    size = 0
    yield from _read_file(path, base, follow_symlinks, count if on_read else None)
    if on_read:
        with suppress(OSError):
            size = path.stat().st_size
        on_read(max(0, size - read[0]))


def _read_file(path: Path, base: Path, follow_symlinks: bool, on_read: OnRead | None) -> Iterator[Article | Failure]:
    origin = display_path(path)
    rel = display_path(path.name if path == base else path.relative_to(base).as_posix())
    name = path.name.lower()
    try:
        if path.is_dir():  # find_files yields a directory only when it could not list it
            os.listdir(path)  # raises that error again, reported below
        size = path.stat().st_size  # a symlink loop or a vanished file is reported below
        if not (path.is_file() or path.is_dir()):  # a FIFO blocks a reader, /dev/zero never ends
            yield Failure(origin, "not a regular file")
            return
        if not follow_symlinks and path != base and path.is_symlink() and not _inside(path, base):
            yield Failure(origin, f"symlink to a file outside {display_path(base)} (--follow-symlinks reads it)")
            return
        if name.endswith(".txt") and size > MAX_ARTICLE_BYTES:
            yield Failure(origin, _too_large("article", size, MAX_ARTICLE_BYTES))
        elif name.endswith(".json") and size > MAX_JSON_FILE_BYTES:
            yield Failure(origin, _too_large("JSON file", size, MAX_JSON_FILE_BYTES) + ": use JSON Lines (.jsonl)")
        elif name.endswith(".txt"):
            yield parse_text_article(_decode(path.read_bytes(), origin), rel, origin)
        elif name.endswith(".json"):
            yield from _read_json(_decode(path.read_bytes(), origin), rel, origin)
        elif name.endswith(JSONL_SUFFIXES):
            yield from _read_jsonl(path, rel, origin, on_read)
        else:
            yield Failure(origin, "unsupported file type")
    except ArticleError as e:
        yield Failure(e.location, e.reason)
    except EOFError:
        yield Failure(origin, "truncated gzip file")
    except (gzip.BadGzipFile, zlib.error) as e:
        not_gzip = str(e).startswith("Not a gzipped file")
        yield Failure(origin, "not a gzip file" if not_gzip else f"corrupt gzip file: {e}")
    except OSError as e:
        yield Failure(origin, f"cannot read: {e.strerror or e}")


def _inside(path: Path, base: Path) -> bool:
    """Whether the file ``path`` leads to lies under the folder ``base`` (symlinks resolved)."""
    return os.path.realpath(path).startswith(os.path.join(os.path.realpath(base), ""))


def load_articles(
    paths: Iterable[Path], *, follow_symlinks: bool = False, on_read: OnRead | None = None
) -> Iterator[tuple[Path, Article | Failure]]:
    """Read every article under the given files and directories (``-``: JSON Lines from standard
    input), as (file, Article or Failure) pairs; ``on_read`` hears of the bytes read."""
    for path in map(Path, paths):
        if str(path) == STDIN:
            for item in _jsonl_lines(sys.stdin.buffer, "stdin", STDIN_NAME, None, None):
                yield path, item
            continue
        if not path.exists():
            yield path, Failure(display_path(path), "no such file or directory")
            continue
        for file in find_files(path):
            for item in read_file(file, path, follow_symlinks=follow_symlinks, on_read=on_read):
                yield file, item
