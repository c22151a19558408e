"""The README's worked example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_ci_example_in_the_readme_passes():
    text = README.read_text()
    section = text[text.index("## Check your trainer's force-loss gradient in CI") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    namespace["test_force_loss_gradient"]()
