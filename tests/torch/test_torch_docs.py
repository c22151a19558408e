"""docs/torch.md's first example runs as written."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "torch.md"


def test_the_few_lines_example_runs(capsys):
    text = DOCS.read_text()
    section = text[text.index("## Check a model in a few lines") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, str(DOCS), "exec"), {})
    assert capsys.readouterr().out.startswith("snapcheck: force-loss gradient OK")


def documented_calls(block: str) -> list[tuple[str, str]]:
    """(name, parameter text) of every ``name(...)`` that starts a line of the API block, parentheses balanced."""
    calls = []
    for match in re.finditer(r"^(\w+)\(", block, re.M):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(block[end], 0)
            end += 1
        calls.append((match.group(1), block[match.end() : end - 1]))
    return calls


def parameters_of(text: str) -> list[tuple[str, str, object]]:
    """(name, kind, default) of a documented parameter list, read as Python."""
    arguments = ast.parse(f"def documented({text}): pass").body[0].args
    positional = [(a.arg, "POSITIONAL_OR_KEYWORD") for a in arguments.args]
    defaults = [inspect.Parameter.empty] * (len(positional) - len(arguments.defaults)) + [
        ast.literal_eval(d) for d in arguments.defaults
    ]
    keyword = [
        (a.arg, "KEYWORD_ONLY", ast.literal_eval(d)) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)
    ]
    return [(name, kind, default) for (name, kind), default in zip(positional, defaults)] + keyword


def test_the_api_block_matches_the_signatures():
    import snapcheck.torch as sct

    text = DOCS.read_text()
    section = text[text.index("## API") :]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    calls = documented_calls(block)
    assert {name for name, _ in calls} >= {"assert_stress_consistent", "stress_error", "paper_force_loss_gradient"}
    for (name, text), (twin, twin_text) in zip(calls, calls[1:] + [("", "")]):
        if text == "...":
            continue
        real = getattr(sct, name)
        if twin_text == "...":  # assert_x(model, energy_fn, configurations, **options): the options are x_error's
            real = getattr(sct, twin)
        signature = inspect.signature(real)
        actual = [(p.name, p.kind.name, p.default) for p in signature.parameters.values()]
        assert parameters_of(text) == actual, name
