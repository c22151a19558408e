"""FitSNAP 3.1.0.4 run in this process on exactly the configurations snapcheck fitted.

:func:`run_fitsnap` gives FitSNAP a temporary data folder holding a link to
each FitSNAP JSON file (``<group>/<file>.json``), or for extended XYZ one
``<group>.xyz`` with the chosen frames copied verbatim, and keeps in ``[GROUPS]``
the groups present: a subset (``--configs``) is fitted by both codes alike.  It
runs on the same LAMMPS, and its output files go to the temporary folder.

**Rows.**  FitSNAP lists a configuration's rows as snapcheck does, energy (1),
force (3N, atom-major, x y z), stress (6, Voigt xx yy zz yz xz xy), but orders
the configurations its own way (a group's JSON files in the file system's
order; XYZ frames in file order).  Each of its rows is labelled from the data
it scraped, (configuration, row type, component) as in snapcheck's
:class:`~snapcheck.models.linear_fit.FitRows`, and the labels are checked
against FitSNAP's own list of each row's group, file and type.

**Its solve.**  FitSNAP's SVD solver is ``scipy.linalg.lstsq(w·A, w·b,
1e-13)``, snapcheck's too (:func:`snapcheck.models.linear_fit.solve`), but on
rows in another order, so round-off differs.  The run records the rank and
singular values of FitSNAP's own solve (wrapping the ``lstsq`` its solver
module calls, for the run only): where singular values lie close to the 1e-13
cut-off, which of them a solve keeps, and so β, depends on round-off
(:mod:`snapcheck.studies.fitsnap_compare`).

Two workarounds besides :func:`~snapcheck.studies.fitsnap_crosscheck.settings_as_integers`,
inside FitSNAP's objects only and for the run alone: its XYZ scraper writes
each frame's atom count into the shared array ``number_of_atoms``, which 3.1.0.4
allocates only later, when descriptors are computed
(``Calculator.allocate_per_config``, which fills it again from the data), so
that unaided it stops with ``KeyError: 'number_of_atoms'``: the run allocates
that array before scraping XYZ data.  And its warnings (deprecated LAMMPS and
Python APIs; the division by zero of R² for a group of one configuration, −inf,
which is compared) are silenced.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.extxyz import EXTXYZ_SUFFIXES
from snapcheck.data.fitsnap_input import FitInput
from snapcheck.models.linear_fit import FitRows
from snapcheck.studies.fitsnap_crosscheck import fitsnap_columns, require_fitsnap, settings_as_integers


@dataclass(frozen=True)
class FitsnapRun:
    """What FitSNAP computed: its rows (in its own order, labelled like snapcheck's), ``columns`` (snapcheck's
    column of each of its columns, :func:`~snapcheck.studies.fitsnap_crosscheck.fitsnap_columns` of its own
    settings), its coefficients (n_elements, K + 1, β₀ = 0 written in under bzeroflag), its metrics, the rank and
    singular values of its SVD solve and its wall time in s."""

    rows: FitRows
    columns: np.ndarray
    coefficients: np.ndarray
    metrics: pd.DataFrame
    rank: int
    singular_values: np.ndarray
    seconds: float


def run_fitsnap(fit_input: FitInput, configurations: Sequence[Configuration]) -> FitsnapRun:
    """Run FitSNAP in this process on exactly ``configurations`` with ``fit_input``'s settings (module docstring)."""
    require_fitsnap()
    from fitsnap3lib.fitsnap import FitSnap

    sections = copy.deepcopy(fit_input.sections)
    solve: dict = {}
    with tempfile.TemporaryDirectory(prefix="snapcheck-fitsnap-") as workdir:
        data_path, labels = _write_data_folder(configurations, fit_input.scraper, Path(workdir) / "data")
        groups = {c.group for c in configurations}
        sections["PATH"] = {"dataPath": str(data_path)}
        sections["GROUPS"] = {k: v for k, v in sections["GROUPS"].items() if k in groups or k not in fit_input.weights}
        sections["OUTFILE"] = {"metrics": f"{workdir}/metrics.md", "potential": f"{workdir}/potential"}
        sections.pop("EXTRAS", None)
        log = io.StringIO()
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(log), warnings.catch_warnings(), settings_as_integers(), _recorded(solve):
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                fitsnap = FitSnap(sections, arglist=["--overwrite"])
                if fit_input.scraper == "xyz":
                    fitsnap.pt.create_shared_array("number_of_atoms", len(configurations), dtype="i")
                    fitsnap.pt.slice_array("number_of_atoms")
                fitsnap.scrape_configs()
                fitsnap.process_configs()
                fitsnap.perform_fit()
        except InputError:
            raise
        except Exception as error:
            raise RuntimeError(f"FitSNAP stopped with {type(error).__name__}: {error}{_last_lines(log)}") from error
        seconds = time.perf_counter() - start
    arrays, bispectrum = fitsnap.pt.shared_arrays, fitsnap.config.sections["BISPECTRUM"]
    rows = FitRows(
        np.array(arrays["a"].array, copy=True),
        np.array(arrays["b"].array, copy=True),
        np.array(arrays["w"].array, copy=True),
        _row_index(fitsnap, labels, fit_input.row_types),
    )
    columns = fitsnap_columns(bispectrum.numtypes, bispectrum.ncoeff, bool(bispectrum.bzeroflag))
    if len(columns) != rows.matrix.shape[1]:
        raise RuntimeError(f"FitSNAP's A has {rows.matrix.shape[1]} columns, its settings say {len(columns)}")
    metrics = fitsnap.solver.errors.reset_index().rename(
        columns={"Group": "group", "Weighting": "weighting", "Subsystem": "row_type"}
    )
    coefficients = np.array(fitsnap.solver.fit, copy=True).reshape(len(fit_input.parameters.elements), -1)
    return FitsnapRun(
        rows,
        columns,
        coefficients,
        metrics[["group", "weighting", "row_type", "ncount", "mae", "rmse", "rsq"]],
        int(solve["rank"]),
        np.asarray(solve["singular_values"]),
        seconds,
    )


def _last_lines(log: io.StringIO, count: int = 3) -> str:
    """The last lines FitSNAP printed before it stopped, on one line (the error's), or nothing if it printed none."""
    lines = [line.strip() for line in log.getvalue().splitlines() if line.strip()][-count:]
    return f" (its last output: {' | '.join(lines)})" if lines else ""


@contextlib.contextmanager
def _recorded(solve: dict) -> Iterator[None]:
    """Record the rank and singular values of the ``lstsq`` that FitSNAP's SVD solver calls (module docstring)."""
    from fitsnap3lib.solvers import svd

    original = svd.lstsq

    def lstsq(*args, **kwargs):
        solution, residues, solve["rank"], solve["singular_values"] = original(*args, **kwargs)
        return solution, residues, solve["rank"], solve["singular_values"]

    svd.lstsq = lstsq
    try:
        yield
    finally:
        svd.lstsq = original


def _write_data_folder(
    configurations: Sequence[Configuration], scraper: str, folder: Path
) -> tuple[Path, dict[tuple[str, str], list[str]]]:
    """FitSNAP's data folder holding exactly ``configurations``, and (group, file name) → the labels of the
    configurations that file holds, in file order."""
    labels: dict[tuple[str, str], list[str]] = defaultdict(list)
    frames: dict[str, list[str]] = defaultdict(list)
    sources: dict[Path, list[str]] = {}  # an extxyz file's frames, read once
    expected = EXTXYZ_SUFFIXES if scraper == "xyz" else (".json",)
    for configuration in configurations:
        source = Path(configuration.source)
        if source.suffix not in expected:
            raise InputError(
                f"{configuration.source or configuration.label}: the FitSNAP input reads {scraper.upper()} data "
                f"([SCRAPER] scraper), but this configuration is not a {' or '.join(expected)} file; pass the "
                "dataset's own --fit-input"
            )
        if scraper == "xyz":
            if source not in sources:
                sources[source] = _extxyz_frames(source)
            frames[configuration.group].append(sources[source][int(configuration.name.rpartition(":")[2])])
            labels[(configuration.group, f"{configuration.group}.xyz")].append(configuration.label)
        else:
            (folder / configuration.group).mkdir(parents=True, exist_ok=True)
            os.symlink(source.resolve(), folder / configuration.group / source.name)
            labels[(configuration.group, source.name)].append(configuration.label)
    folder.mkdir(parents=True, exist_ok=True)
    for group, texts in frames.items():
        (folder / f"{group}.xyz").write_text("".join(texts))
    return folder, labels


def _extxyz_frames(path: Path) -> list[str]:
    """The text of each frame of an extxyz file (count line, comment line, one line per atom), in file order."""
    lines = path.read_text().splitlines(keepends=True)
    frames, start = [], 0
    while start < len(lines) and lines[start].strip():
        end = start + 2 + int(lines[start])
        frames.append("".join(lines[start:end]))
        start = end
    return frames


def _row_index(fitsnap, labels: dict[tuple[str, str], list[str]], row_types: tuple[str, ...]) -> pd.DataFrame:
    """FitSNAP's rows labelled like snapcheck's, from the data it scraped, in the order it processed them;
    checked against FitSNAP's own list of each row's group, file and type."""
    used: dict[tuple[str, str], int] = defaultdict(int)
    counts = {"Energy": lambda n: 1, "Force": lambda n: 3 * n, "Stress": lambda n: 6}
    kinds = [kind for kind in counts if kind.lower() in row_types]
    parts = []
    for data in fitsnap.data:
        key = (data["Group"], Path(data["File"]).name)
        label = labels[key][used[key]]
        used[key] += 1
        for kind in kinds:
            size = counts[kind](data["NumAtoms"])
            parts.append(
                pd.DataFrame(
                    {
                        "configuration": label,
                        "group": key[0],
                        "file": key[1],
                        "row_type": kind,
                        "component": range(size),
                    }
                )
            )
    index = pd.concat(parts, ignore_index=True)
    table = fitsnap.pt.fitsnap_dict
    theirs = pd.DataFrame({"group": table["Groups"], "file": [Path(c).name for c in table["Configs"]]})
    theirs["row_type"] = table["Row_Type"]
    if not index[["group", "file", "row_type"]].equals(theirs):
        raise RuntimeError("FitSNAP's rows are not one block per configuration in the order of its data")
    return index.drop(columns="file")
