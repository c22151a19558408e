"""snapcheck is a guest in other people's processes: importing it, or loading its pytest plugin, changes nothing.

No environment variable, no thread setting, no torch and none of snapcheck's heavy modules at import;
the thread limits are snapcheck's own: its commands and its pool's workers run numpy's BLAS on one
thread (threadpoolctl), and a LAMMPS instance is made with ``OMP_NUM_THREADS=1`` for that instant
only.  Each import check runs in a fresh interpreter, the only place where "not imported yet" means
anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from snapcheck.descriptors import SnapEngine
from snapcheck.runtime.cli import run
from snapcheck.runtime.executors import run_chunks

#: What a host would notice if importing snapcheck pulled it in.
HEAVY = {"torch", "numpy", "scipy", "pandas", "matplotlib", "lammps", "ase", "distributed", "dask", "threadpoolctl"}

IMPORT_PROBE = """
import json, os, sys
environment, modules = dict(os.environ), set(sys.modules)
import snapcheck, snapcheck.torch, snapcheck.torch.plugin
assert snapcheck.torch.__all__  # the public names are listed without importing them
changed = {key for key in set(environment) | set(os.environ) if environment.get(key) != os.environ.get(key)}
print(json.dumps({"changed": sorted(changed), "imported": sorted(set(sys.modules) - modules)}))
"""


def host_environment() -> dict[str, str]:
    """This process's environment without the thread variables, so that setting one would show."""
    return {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def test_importing_snapcheck_its_torch_package_and_plugin_changes_nothing_in_the_host():
    probe = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, env=host_environment(), timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result["changed"] == []
    imported = result["imported"]
    assert sorted(m for m in imported if m.startswith("snapcheck")) == [
        "snapcheck",
        "snapcheck.base",
        "snapcheck.base.lazy",  # the PEP 562 __getattr__ of both packages: the standard library only
        "snapcheck.torch",
        "snapcheck.torch.plugin",
    ]
    assert not {m.split(".")[0] for m in imported} & HEAVY, imported


def test_a_host_test_suite_runs_with_the_plugin_loaded_and_without_torch_imported(tmp_path):
    (tmp_path / "test_host.py").write_text(
        textwrap.dedent(
            """
            import os, sys

            def test_the_plugin_is_loaded_and_brought_nothing(request):
                assert request.config.pluginmanager.has_plugin("snapcheck_torch")
                assert "torch" not in sys.modules and "numpy" not in sys.modules
                assert "OMP_NUM_THREADS" not in os.environ and "OPENBLAS_NUM_THREADS" not in os.environ
            """
        )
    )
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=host_environment(),
        timeout=120,
    )
    assert finished.returncode == 0 and "1 passed" in finished.stdout, finished.stdout + finished.stderr


def test_a_command_runs_on_one_blas_thread_and_gives_the_caller_its_threads_back():
    seen = []

    def main(argv):
        seen.append(blas_threads())
        return 0

    with threadpool_limits(limits=2, user_api="blas"):
        with pytest.raises(SystemExit) as finished:
            run(main, [])
        after = blas_threads()
    assert finished.value.code == 0
    assert seen and all(count == 1 for count in seen[0])
    assert after and all(count == 2 for count in after)


def blas_threads_of_worker(_: int) -> tuple[int, list[int]]:
    return os.getpid(), blas_threads()


def test_the_pool_workers_run_on_one_blas_thread():
    results = run_chunks(
        blas_threads_of_worker, list(range(6)), sizes=[1] * 6, description="test", jobs=2, progress=False
    )
    in_workers = [threads for pid, threads in results if pid != os.getpid()]
    assert in_workers and all(threads and set(threads) == {1} for threads in in_workers)


def test_lammps_runs_on_one_openmp_thread_and_the_host_keeps_its_setting(one_per_group, ta06a):
    """In a fresh process whose environment asks for 2 OpenMP threads: LAMMPS still gets one, the host keeps 2."""
    probe = textwrap.dedent(
        """
        import os, sys
        from snapcheck.data import load_configurations
        from snapcheck.descriptors import SnapEngine
        from snapcheck.models import LinearSnap

        configuration = load_configurations(count=1)[0]
        parameters = LinearSnap.ta06a().parameters
        for _ in range(2):  # a new instance, then an idle one after `clear`
            with SnapEngine(configuration, parameters) as engine:
                print(engine._lmp.extract_setting("nthreads"), os.environ["OMP_NUM_THREADS"])
        """
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**host_environment(), "OMP_NUM_THREADS": "2"},
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["1", "2", "1", "2"]
    environment = dict(os.environ)
    with SnapEngine(one_per_group[0], ta06a.parameters):
        pass
    assert dict(os.environ) == environment
