"""``python -m indexer``: the vnsearch command line."""

from .cli import main

main(prog_name="vnsearch")
