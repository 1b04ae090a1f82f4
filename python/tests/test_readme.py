"""The README's Python quick start runs verbatim."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def python_blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_python_example_runs_verbatim():
    blocks = python_blocks()
    assert blocks, "README has a ## Python section with a ```python block"
    p = subprocess.run([sys.executable, "-c", blocks[0]], cwd=REPO, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "GPU-ABS-1/A" in p.stdout
