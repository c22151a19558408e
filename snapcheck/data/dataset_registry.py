"""The registry of datasets: named FitSNAP examples, pinned by commit, each with its manifest.

Each dataset is one of FitSNAP's examples at the pinned commit
:data:`FITSNAP_COMMIT`: its configurations (FitSNAP JSON or extended XYZ), its
FitSNAP input (the SNAP settings, the reference potential, ESHIFT and the group
weights, :mod:`snapcheck.data.fitsnap_input`) and its stored fit (the
``.snapcoeff``/``.snapparam`` the example produced, with its metrics).  The
data are distributed under the GNU GPL v2; snapcheck references them and never
vendors them: the manifest ``<name>.sha256``, shipped inside the package
(``snapcheck/data/manifests/``, read with :mod:`importlib.resources`), holds the
SHA-256 of every file (:mod:`snapcheck.data.checksums`).

=========================  ==============================  =============================================
name                       FitSNAP folder (examples/…)     what
=========================  ==============================  =============================================
``ta-jcp2014``             ``Ta_Linear_JCP2014``           Ta, 363 configurations in 12 groups (JSON);
                                                           the paper's Sec. III C (Thompson et al. 2015)
``ta-jcp2014-362``         (the same)                      the 362 the paper counts (one GSF_112 file out)
``ta-xyz``                 ``Ta_XYZ``                      the same 363 Ta configurations as extxyz files
``inp-jpca2020``           ``InP_JPCA2020``                InP, 1894 configurations in 19 groups, explicit
                                                           multi-element SNAP (Cusentino et al. 2020)
``ta-quadratic-jcp2018``   ``Ta_Quadratic_JCP2018``        quadratic SNAP on the ``ta-jcp2014`` data
                                                           (Wood & Thompson 2018)
=========================  ==============================  =============================================

Every setting of a model (twojmax, rcutfac, radelem, wj, chemflag, bnormflag,
wselfallflag, bzeroflag, quadraticflag, the ZBL pairs, ESHIFT, group weights)
comes from the dataset's FitSNAP input, never from code.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from snapcheck.base.errors import InputError

FITSNAP_REPOSITORY = "FitSNAP/FitSNAP"
FITSNAP_COMMIT = "1a9b0507fa2ba292a6497ec363707944c1cb89cd"
#: The manifests ship as package data, so an installed wheel finds them wherever it is run from.
MANIFESTS = files("snapcheck.data") / "manifests"

DATASET_NAME = "ta-jcp2014"
PAPER_SET_NAME = "ta-jcp2014-362"
NOT_IN_PAPER_SET = frozenset({"JSON/GSF_112/GSF_112_nonrelax_0.4.json"})

#: The Ta dataset's FitSNAP input and stored fit (other datasets: :class:`DatasetSpec`).
FIT_INPUT = "Ta-example.in"
REFERENCE_FIT = "fitsnap_20May21_Standard"


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    Attributes:
        name: its registry name.
        folder: its folder in FitSNAP's repository (``examples/…``).
        local_folder: the name of a local copy under ``$SNAPCHECK_DATASETS``.
        fit_input: the FitSNAP input, relative to the dataset root.
        reference_fit: the stored fit's folder (local name) and its remote name.
        potential: the stem of the stored fit's ``.snapcoeff``/``.snapparam``.
        trained: ``"stored"`` (``trained`` = the stored fit) or ``"ta06a"``.
        description: one line for ``datasets list``.
        leave_out: manifest paths of configurations this set omits.
        manifest: the manifest's name (a subset shares its parent's).
    """

    name: str
    folder: str
    local_folder: str
    fit_input: str
    reference_fit: tuple[str, str]
    potential: str
    trained: str
    description: str
    leave_out: frozenset[str] = frozenset()
    manifest: str = ""

    @property
    def manifest_path(self) -> Traversable:
        return MANIFESTS / f"{self.manifest or self.name}.sha256"

    def remote_path(self, local: str) -> str:
        """Where a manifest file lives in FitSNAP's repository folder (the fit folder is renamed)."""
        prefix = self.reference_fit[0] + "/"
        return self.reference_fit[1] + "/" + local[len(prefix) :] if local.startswith(prefix) else local


def _spec(name: str, folder: str, local: str, fit_input: str, fit: str, potential: str, trained: str, what: str, **kw):
    return DatasetSpec(
        name, f"examples/{folder}", local, fit_input, (f"fitsnap_{fit}", fit), potential, trained, what, **kw
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            DATASET_NAME,
            "Ta_Linear_JCP2014",
            "ta_jcp2014",
            FIT_INPUT,
            "20May21_Standard",
            "Ta_pot",
            "ta06a",
            "Ta, 363 configurations in 12 groups, FitSNAP JSON (Thompson et al., J. Comput. Phys. 2015)",
        ),
        _spec(
            PAPER_SET_NAME,
            "Ta_Linear_JCP2014",
            "ta_jcp2014",
            FIT_INPUT,
            "20May21_Standard",
            "Ta_pot",
            "ta06a",
            "the 362 Ta configurations the paper counts (ta-jcp2014 without GSF_112_nonrelax_0.4)",
            leave_out=NOT_IN_PAPER_SET,
            manifest=DATASET_NAME,
        ),
        _spec(
            "ta-xyz",
            "Ta_XYZ",
            "ta_xyz",
            "Ta-example.in",
            "19Nov19_Standard",
            "Ta_pot",
            "stored",
            "the same 363 Ta configurations as extended XYZ, one file per group",
        ),
        _spec(
            "inp-jpca2020",
            "InP_JPCA2020",
            "inp_jpca2020",
            "InP-example.in",
            "20May21_Standard",
            "InP_pot",
            "stored",
            "InP, 1894 configurations in 19 groups, explicit multi-element SNAP (Cusentino et al., JPCA 2020)",
        ),
        _spec(
            "ta-quadratic-jcp2018",
            "Ta_Quadratic_JCP2018",
            "ta_quadratic_jcp2018",
            "Ta-example.in",
            "20May21_Standard",
            "Ta_pot",
            "stored",
            "quadratic SNAP (twojmax 8) on the ta-jcp2014 data (Wood & Thompson, J. Chem. Phys. 2018)",
        ),
    )
}


def spec_of(name: str) -> DatasetSpec:
    """The registered dataset ``name``; an unknown name is an InputError listing the registered ones."""
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or a folder")
    return DATASETS[name]
