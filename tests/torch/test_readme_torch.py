"""The README's PyTorch test file runs as written, in a fresh pytest process, with the fixture from the plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_torch_example_passes_as_a_test_file(tmp_path):
    text = README.read_text()
    section = text[text.index("### A PyTorch trainer") :]
    (tmp_path / "test_readme_example.py").write_text(re.search(r"```python\n(.*?)```", section, re.S).group(1))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr
