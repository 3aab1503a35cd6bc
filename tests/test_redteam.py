"""The red-team harness (bench/redteam.py) stays runnable: its help, and one attack at a tiny size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def redteam(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import redteam  # noqa: PLC0415 - bench/ is beside the package, not installed

    return redteam


def test_help_lists_every_attack():
    done = subprocess.run(
        [sys.executable, "-m", "bench.redteam", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
    for attack in ("flood-jsonl", "flood-json", "api-body", "slow-clients", "slow-trickle", "kill-post"):
        assert f"\n  {attack} " in done.stdout


def test_unknown_attack_is_refused():
    done = subprocess.run(
        [sys.executable, "-m", "bench.redteam", "--attacks", "nope"], cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--attacks: unknown nope" in done.stderr


def test_a_tiny_failure_flood_is_measured(redteam, tmp_path):
    row = redteam.flood_jsonl(redteam.Lab(tmp_path, scale=0.001, rounds=1), lines=40)
    assert row.attack == "flood-jsonl"
    assert row.expected.startswith("peak ≤ good files'")
    # 40 failure lines at most, the summary, the good files' own lines; exit 1 (failures were reported)
    assert ", exit 1, " in row.observed
    lines = int(row.observed.split(" lines")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert 2 <= lines <= 45
