"""docs/torch.md's first example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "torch.md"


def test_the_few_lines_example_runs(capsys):
    text = DOCS.read_text()
    section = text[text.index("## Check a model in a few lines") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, str(DOCS), "exec"), {})
    assert capsys.readouterr().out.startswith("snapcheck: force-loss gradient OK")
