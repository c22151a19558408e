"""A foreign project's ordinary test: it knows nothing of snapcheck, whose pytest plugin the environment loads.

``.ci/smoke-wheel`` copies this folder out of the repository and runs it against the installed
wheel: without torch this test must pass (and the torch test below is skipped), with torch both pass.
"""

import math


def test_an_ordinary_test_runs_untouched():
    assert math.isclose(sum([0.1] * 10), 1.0)
