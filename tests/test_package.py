"""The library's front door: ``import indexer`` names the public API cheaply; ``python -m indexer`` is the CLI."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import indexer

HEAVY = ("whoosh", "pyvi", "numpy", "flask", "click")


def test_import_indexer_loads_no_heavy_library():
    code = f"import sys, indexer; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


@pytest.mark.parametrize("name", sorted(set(indexer.__all__) - {"search"}))
def test_each_public_name_is_its_modules_object(name):
    home = indexer._HOMES[name]
    assert getattr(indexer, name) is getattr(importlib.import_module(f"indexer.{home}"), name)


def test_search_is_the_module_whatever_was_imported_first():
    from indexer import search

    assert search is importlib.import_module("indexer.search") and callable(search.search)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'indexer' has no attribute 'nothing'"):
        indexer.nothing  # noqa: B018


def test_python_m_indexer_runs_the_cli(index_dir):
    cmd = [sys.executable, "-m", "indexer", "search", "--index", str(index_dir), "--limit", "1", "Trương Thị Mai"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[0] == '1 result for "Trương Thị Mai" (page 1 of 1)'
    usage = subprocess.run([sys.executable, "-m", "indexer", "nope"], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.startswith("Usage: vnsearch [OPTIONS] COMMAND [ARGS]...")
