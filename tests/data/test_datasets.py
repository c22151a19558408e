"""The ta-jcp2014 dataset: its counts, its manifest, and a real download over loopback HTTP."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections import Counter

import pytest

from snapcheck.base.errors import InputError
from snapcheck.data import load_configurations
from snapcheck.data.datasets import (
    FIT_INPUT,
    REFERENCE_FIT,
    download,
    read_manifest,
    remote_path,
    resolve_dataset_root,
    verify,
)


def test_full_set_has_363_configurations_in_12_groups(ta_configurations):
    assert len(ta_configurations) == 363
    assert len({c.group for c in ta_configurations}) == 12
    assert sum(c.n_atoms for c in ta_configurations) == 4224
    assert len({c.label for c in ta_configurations}) == 363


def test_paper_set_leaves_out_one_gsf_112_file(data_root, ta_configurations):
    paper = load_configurations(data_root, subset="ta-jcp2014-362")
    assert len(paper) == 362
    missing = {c.label for c in ta_configurations} - {c.label for c in paper}
    assert missing == {"GSF_112/GSF_112_nonrelax_0.4"}
    counts = Counter(c.group for c in paper)
    assert counts["GSF_112"] == Counter(c.group for c in ta_configurations)["GSF_112"] - 1


def test_the_reference_copy_matches_the_manifest(data_root):
    verify(data_root)
    paths = [entry.path for entry in read_manifest()]
    assert sum(path.startswith("JSON/") for path in paths) == 363
    assert FIT_INPUT in paths and f"{REFERENCE_FIT}/Ta_pot.snapcoeff" in paths


def test_environment_variable_wins(monkeypatch, tmp_path, data_root):
    monkeypatch.setenv("SNAPCHECK_DATA", str(data_root))
    monkeypatch.setenv("SNAPCHECK_CACHE", str(tmp_path / "cache"))
    assert resolve_dataset_root() == data_root
    monkeypatch.setenv("SNAPCHECK_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="SNAPCHECK_DATA names a folder that does not exist"):
        resolve_dataset_root()


@pytest.fixture
def file_server(tmp_path, data_root):
    """A real HTTP server on 127.0.0.1 serving a copy of the dataset, laid out as in FitSNAP's repository."""
    served = tmp_path / "served"
    shutil.copytree(data_root / "JSON", served / "JSON")
    shutil.copy(data_root / FIT_INPUT, served / FIT_INPUT)
    shutil.copytree(data_root / REFERENCE_FIT, served / remote_path(f"{REFERENCE_FIT}/"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_verifies_and_installs_atomically(tmp_path, file_server):
    served, url = file_server
    destination = tmp_path / "cache" / "ta-jcp2014"
    download(destination, base_url=url)
    verify(destination)
    assert len(load_configurations(destination)) == 363


def test_download_rejects_a_corrupt_file(tmp_path, file_server):
    served, url = file_server
    target = served / "JSON" / "Liquid" / "Ta_liquid_1.json"
    target.write_text(target.read_text() + " ")
    destination = tmp_path / "cache" / "ta-jcp2014"
    with pytest.raises(InputError, match=r"Ta_liquid_1.json: SHA-256 .* differs from the manifest"):
        download(destination, base_url=url)
    assert not destination.exists()
    assert list(destination.parent.iterdir()) == []
