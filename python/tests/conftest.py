"""Shared fixtures: the repository root, the sample portfolio and the `gaib` CLI binary the
tests compare against (GAIB_BIN, else target/debug/gaib or target/release/gaib, built by
`cargo test` / scripts/python-test.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "portfolios" / "sample.toml"
SMALL = REPO / "tests" / "fixtures" / "valid" / "small.toml"
INVALID = REPO / "tests" / "fixtures" / "invalid"


def _cli() -> Path:
    if os.environ.get("GAIB_BIN"):
        return Path(os.environ["GAIB_BIN"])
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / "gaib"
        if p.is_file():
            return p
    raise RuntimeError(
        "no gaib CLI binary: set GAIB_BIN or build it (scripts/python-test.sh does)"
    )


@pytest.fixture(scope="session")
def cli() -> Path:
    return _cli()


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the CLI from the repository root (so relative paths match the bindings')."""
    p = subprocess.run(
        [str(_cli()), *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    if check and p.returncode != 0:
        raise AssertionError(f"gaib {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    """Every test runs from the repository root, as the CLI runs above."""
    monkeypatch.chdir(REPO)
