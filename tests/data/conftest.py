"""Fixtures of the data tests: ``$SNAPCHECK_DATASETS`` for one test, and an HTTP mirror of the shared copies
(the ``shared_datasets`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from snapcheck.data.checksums import read_manifest
from snapcheck.data.dataset_registry import DATASETS, FITSNAP_COMMIT

#: The mirror stops itself after this many seconds, whatever happens to the test.
MIRROR_LIFETIME = 300


@pytest.fixture
def use_shared(monkeypatch, shared_datasets) -> Path:
    """``$SNAPCHECK_DATASETS`` set to the shared copies for one test."""
    monkeypatch.setenv("SNAPCHECK_DATASETS", str(shared_datasets))
    return shared_datasets


@pytest.fixture
def mirror(tmp_path, shared_datasets, monkeypatch):
    """``mirror(*names)``: a real HTTP server on 127.0.0.1 serving copies of the named datasets laid out
    as FitSNAP's GitHub repository at the pinned commit (``<commit>/examples/<folder>/20May21_Standard/…``);
    returns (served folder, base URL).  Bounded: it stops at the end of the test or after MIRROR_LIFETIME s."""
    served = tmp_path / "served"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers = []

    def start(*names: str) -> tuple[Path, str]:
        for name in names:
            spec = DATASETS[name]
            for entry in read_manifest(spec.manifest_path):
                target = served / FITSNAP_COMMIT / spec.folder / spec.remote_path(entry.path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shared_datasets / spec.local_folder / entry.path, target)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        timer = threading.Timer(MIRROR_LIFETIME, server.shutdown)
        timer.daemon = True
        timer.start()
        servers.append((server, timer))
        return served, f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, timer in servers:
        timer.cancel()
        server.shutdown()
        server.server_close()
