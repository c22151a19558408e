"""The dataset registry: counts, manifests, folder recognition, pooch downloads over loopback HTTP, the cache's
checksums, the datasets command and a fresh-install fig1 run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from snapcheck import datasets as datasets_command
from snapcheck.base.errors import InputError
from snapcheck.data import load_configurations
from snapcheck.data.checksums import read_manifest, verify
from snapcheck.data.dataset_registry import DATASETS, FIT_INPUT, REFERENCE_FIT
from snapcheck.data.downloads import fetch
from snapcheck.data.locations import dataset_source, fetch_dataset, resolve_dataset, resolve_dataset_root
from snapcheck.runtime.cli import run


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


@pytest.mark.parametrize("name", [n for n in DATASETS if n != "ta-jcp2014-362"])
def test_every_shared_copy_matches_its_manifest(shared_datasets, name):
    spec = DATASETS[name]
    verify(shared_datasets / spec.local_folder, spec.manifest_path)
    paths = [entry.path for entry in read_manifest(spec.manifest_path)]
    assert spec.fit_input in paths
    assert not any(word in path for path in paths for word in ("LICENSE", "README", "SOURCE"))


def test_a_changed_byte_is_refused(tmp_path, shared_datasets):
    spec = DATASETS["ta-quadratic-jcp2018"]
    copy = tmp_path / "copy"
    shutil.copytree(shared_datasets / spec.local_folder, copy)
    target = copy / spec.reference_fit[0] / "Ta_pot.snapparam"
    target.write_text(target.read_text().replace("5.594", "5.595"))
    with pytest.raises(InputError, match=r"Ta_pot.snapparam: SHA-256 \w+ differs from the manifest"):
        verify(copy, spec.manifest_path)


def test_environment_variable_wins(monkeypatch, tmp_path, data_root):
    monkeypatch.setenv("SNAPCHECK_DATA", str(data_root))
    monkeypatch.setenv("SNAPCHECK_CACHE", str(tmp_path / "cache"))
    assert resolve_dataset_root() == data_root
    monkeypatch.setenv("SNAPCHECK_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="SNAPCHECK_DATA names a folder that does not exist"):
        resolve_dataset_root()


@pytest.mark.parametrize(
    ("name", "configurations", "groups", "scraper"),
    [
        ("ta-xyz", 363, 12, "xyz"),
        ("inp-jpca2020", 1894, 19, "json"),
        ("ta-quadratic-jcp2018", 363, 12, "json"),
    ],
)
def test_named_datasets_resolve_from_the_shared_copies(use_shared, name, configurations, groups, scraper):
    """Counts of every configuration; InP's 1894 are counted from its files (one configuration each) and one per
    group is read (the full load is the slow InP metrics test's, whose 1894-row *ALL lines match FitSNAP's)."""
    dataset = resolve_dataset(name)
    assert dataset.spec.name == name and dataset.scraper == scraper
    assert dataset.root == use_shared / DATASETS[name].local_folder
    if name == "inp-jpca2020":
        files = [e.path for e in read_manifest(DATASETS[name].manifest_path) if e.path.startswith("JSON/")]
        assert (len(files), len({path.split("/")[1] for path in files})) == (configurations, groups)
        loaded = load_configurations(name, count=groups)
        assert len(loaded) == len({c.group for c in loaded}) == groups
    else:
        loaded = load_configurations(name)
        assert (len(loaded), len({c.group for c in loaded})) == (configurations, groups)
    # a folder copy is recognised by its FitSNAP input, so its settings and stored fit are used
    assert resolve_dataset(dataset.root).spec.name == name
    assert resolve_dataset(name).fit_input == dataset.root / DATASETS[name].fit_input


def test_quadratic_settings_and_fit_come_from_its_input(use_shared):
    dataset = resolve_dataset("ta-quadratic-jcp2018")
    parameters = dataset.read_fit_input().parameters
    assert (parameters.twojmax, parameters.quadraticflag, parameters.bzeroflag, parameters.rcutfac) == (8, 1, 1, 5.594)
    assert dataset.configurations == use_shared / "ta_jcp2014" / "JSON" or dataset.configurations.name == "JSON"


def test_unknown_name_and_missing_folder_are_input_errors(tmp_path):
    with pytest.raises(
        InputError, match="no such dataset folder or extxyz file, and not a dataset name; the registered"
    ):
        resolve_dataset(tmp_path / "nowhere")
    with pytest.raises(InputError, match=r"unknown dataset 'nope'"):
        load_configurations(tmp_path, subset="nope")


@pytest.mark.parametrize(
    ("given", "meant"), [("ta_xyz", "ta-xyz"), ("ta-xzy", "ta-xyz"), ("inp_jpca2020", "inp-jpca2020")]
)
def test_a_folder_name_or_a_typo_gets_the_registered_name_suggested(tmp_path, monkeypatch, given, meant):
    monkeypatch.chdir(tmp_path)  # no folder of that name here
    with pytest.raises(InputError, match=f"^{given}: no such dataset folder .*; did you mean {meant}\\?$"):
        resolve_dataset(given)


def test_one_extxyz_file_is_a_dataset_of_one_group(use_shared):
    path = use_shared / "ta_xyz" / "XYZ" / "Displaced_BCC.xyz"
    dataset = resolve_dataset(path)
    assert (dataset.configurations, dataset.scraper, dataset.spec) == (path, "xyz", None)
    single = load_configurations(path)
    whole = [c for c in load_configurations("ta-xyz") if c.group == "Displaced_BCC"]
    assert [c.label for c in single] == [c.label for c in whole] and len(single) == 9
    for one, other in zip(single, whole):
        np.testing.assert_array_equal(one.forces, other.forces)
    assert len(load_configurations(path, count=3)) == 3


def test_the_source_of_each_dataset_is_where_it_would_be_read(tmp_path, monkeypatch, data_root, shared_datasets):
    monkeypatch.setenv("SNAPCHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SNAPCHECK_DOWNLOAD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SNAPCHECK_DATA", str(data_root))
    monkeypatch.setenv("SNAPCHECK_DATASETS", str(shared_datasets))
    assert dataset_source("ta-jcp2014") == f"$SNAPCHECK_DATA = {data_root}"
    assert dataset_source("ta-xyz") == f"a local copy under $SNAPCHECK_DATASETS, {shared_datasets / 'ta_xyz'}"
    monkeypatch.delenv("SNAPCHECK_DATASETS")
    cached = tmp_path / "cache" / "ta-xyz"
    assert dataset_source("ta-xyz") == f"download from http://127.0.0.1:9 into the cache {cached} (0 of 20 files there)"
    shutil.copytree(shared_datasets / "ta_xyz", cached)
    assert dataset_source("ta-xyz") == f"the cache {cached}"


def test_offline_fetch_advises_what_the_environment_lacks(tmp_path, monkeypatch, shared_datasets):
    """With $SNAPCHECK_DATASETS holding the copy, fetch verifies it and downloads nothing; holding no copy, the
    failed download says so (and does not advise setting it); unset, it advises setting it."""
    monkeypatch.setenv("SNAPCHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SNAPCHECK_DOWNLOAD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SNAPCHECK_DATASETS", str(shared_datasets))
    assert fetch_dataset("ta-xyz").lines == (
        f"ta-xyz: 20 files verified in {shared_datasets / 'ta_xyz'} (the local copy in $SNAPCHECK_DATASETS)",
    )
    monkeypatch.setenv("SNAPCHECK_DATASETS", str(tmp_path))
    with pytest.raises(InputError, match=r"\$SNAPCHECK_DATASETS \(.*\) holds no ta_xyz/: put a copy there") as refused:
        fetch_dataset("ta-xyz")
    assert "set SNAPCHECK_DATASETS" not in str(refused.value)
    monkeypatch.delenv("SNAPCHECK_DATASETS")
    with pytest.raises(InputError, match="set SNAPCHECK_DATASETS to a folder holding ta_xyz/, or pass --data DIR"):
        fetch_dataset("ta-xyz")


def test_fetch_downloads_verifies_and_reuses_the_cache(tmp_path, monkeypatch, mirror):
    served, url = mirror("ta-xyz")
    monkeypatch.setenv("SNAPCHECK_CACHE", str(tmp_path / "cache"))
    root = fetch("ta-xyz", base_url=url)
    assert root == tmp_path / "cache" / "ta-xyz"
    verify(root, DATASETS["ta-xyz"].manifest_path)
    assert (root / "fitsnap_19Nov19_Standard" / "Descriptors.npy").is_file()  # 19Nov19_Standard/ remotely
    # a file corrupted in the cache is found on the next load and downloaded again
    cached = root / "XYZ" / "Liquid.xyz"
    cached.write_text(cached.read_text().replace("Ta", "Nb", 1))
    fetch("ta-xyz", base_url=url)
    verify(root, DATASETS["ta-xyz"].manifest_path)
    # …and with the server gone, a corrupt cache is an error naming the URL, never used
    cached.write_text(cached.read_text().replace("Ta", "Nb", 1))
    with pytest.raises(InputError, match=r"XYZ/Liquid.xyz: download of ta-xyz failed"):
        fetch("ta-xyz", base_url="http://127.0.0.1:9")


def test_fetch_refuses_a_download_that_is_not_the_pinned_version(tmp_path, mirror):
    served, url = mirror("ta-quadratic-jcp2018")
    spec = DATASETS["ta-quadratic-jcp2018"]
    remote = served / "1a9b0507fa2ba292a6497ec363707944c1cb89cd" / spec.folder / "20May21_Standard" / "Ta_pot.snapparam"
    remote.write_text(remote.read_text() + "\n")
    destination = tmp_path / "cache"
    with pytest.raises(InputError, match=r"20May21_Standard/Ta_pot.snapparam: SHA256 hash of downloaded file"):
        fetch("ta-quadratic-jcp2018", base_url=url, destination=destination)
    assert not (destination / "fitsnap_20May21_Standard" / "Ta_pot.snapparam").exists()


def _command(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SNAPCHECK_DATA", "SNAPCHECK_DATASETS")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", *arguments], capture_output=True, text=True, env=environment, timeout=300, check=False
    )


def test_fresh_install_runs_fig1_on_ta_xyz_after_a_download(tmp_path, mirror, monkeypatch, capsys):
    """From an empty cache: `fig1 --data ta-xyz` in a fresh process (download, checksum, run), then `datasets
    list`, `fetch` (the cache verified) and `fetch` with the server gone (exit 2 naming the URL)."""
    _, url = mirror("ta-xyz")
    env = {"SNAPCHECK_CACHE": str(tmp_path / "cache"), "SNAPCHECK_DOWNLOAD_URL": url, "NO_PROXY": "127.0.0.1"}
    fig1 = _command(
        "snapcheck.fig1", "--data", "ta-xyz", "--configs", "2", "--epsilons", "1e-5",
        "--jobs", "1", "--out-dir", str(tmp_path / "out"), env=env,
    )  # fmt: skip
    assert fig1.returncode == 0, fig1.stderr
    assert "ta-xyz's stored FitSNAP fit" in fig1.stdout
    assert (tmp_path / "out" / "reports" / "fig1.csv").is_file()
    assert (tmp_path / "cache" / "ta-xyz" / "XYZ" / "Liquid.xyz").is_file()
    for variable in ("SNAPCHECK_DATA", "SNAPCHECK_DATASETS"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)

    def command(*arguments: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_:
            run(datasets_command.main, list(arguments))
        out, err = capsys.readouterr()
        return exit_.value.code, out, err

    code, out, _ = command("list")
    assert code == 0 and "inp-jpca2020" in out and "1899 files" in out
    assert f"source: the cache {tmp_path / 'cache' / 'ta-xyz'}" in out
    code, out, _ = command("fetch", "ta-xyz")
    assert code == 0 and "20 files verified" in out and "(the cache)" in out
    monkeypatch.setenv("SNAPCHECK_DOWNLOAD_URL", "http://127.0.0.1:9")
    code, _, err = command("fetch", "inp-jpca2020")
    assert code == 2 and err.startswith("error: http://127.0.0.1:9/")
