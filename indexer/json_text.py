"""Decoding JSON text: every error a JSONDecodeError, a list read item by item (memory bounded by
its largest item), and the words an error is reported in."""

from __future__ import annotations

import json
import re
import sys
from contextlib import contextmanager
from typing import Iterator

__all__ = ["JSON_NUMBER_TOO_LONG", "JSON_TOO_DEEP", "is_json_list", "json_error_text", "json_list_items", "parse_json"]

JSON_TOO_DEEP = "nested too deeply"
JSON_NUMBER_TOO_LONG = f"a number too long to read (over {sys.get_int_max_str_digits():,} digits)"


def parse_json(text: str):
    """json.loads, with nesting too deep for the parser, or an integer too long for Python to
    convert, as a JSONDecodeError (without a position)."""
    with _decoding(text):
        return json.loads(text)


def is_json_list(text: str) -> bool:
    """Whether ``text`` holds a JSON list (its first non-space character is '[')."""
    return text.startswith("[", _SPACE.match(text).end())


def json_list_items(text: str) -> Iterator[object]:
    """The items of the JSON list ``text`` holds, decoded one at a time (memory bounded by the
    largest item); a decoding error is a JSONDecodeError, as with ``parse_json``."""
    with _decoding(text):
        pos = _SPACE.match(text, _SPACE.match(text).end() + 1).end()  # past the '['
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                item, pos = _DECODER.raw_decode(text, pos)
                yield item
                pos = _SPACE.match(text, pos).end()
                if text.startswith("]", pos):
                    pos += 1
                    break
                if not text.startswith(",", pos):
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
                pos = _SPACE.match(text, pos + 1).end()
        pos = _SPACE.match(text, pos).end()
        if pos != len(text):
            raise json.JSONDecodeError("Extra data", text, pos)


def json_error_text(e: json.JSONDecodeError, with_line: bool = True) -> str:
    """'invalid JSON: what (line L, column C)', without a position where it has none."""
    return f"invalid JSON: {e.msg}{_where(e, with_line)}"


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@contextmanager
def _decoding(text: str) -> Iterator[None]:
    try:
        yield
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError(JSON_TOO_DEEP, text, 0) from None
    except ValueError:  # Python's int-string limit (sys.get_int_max_str_digits)
        raise json.JSONDecodeError(JSON_NUMBER_TOO_LONG, text, 0) from None


def _where(e: json.JSONDecodeError, with_line: bool) -> str:
    if e.msg in (JSON_TOO_DEEP, JSON_NUMBER_TOO_LONG):
        return ""
    return f" (line {e.lineno}, column {e.colno})" if with_line else f" (column {e.colno})"
