"""snapcheck: a numerical oracle for force-training gradients.

Smith, Lubbers, Thompson and Barros, "Simple and efficient algorithms for
training machine learning potentials to force data", show that the θ-gradient
of the force loss is a directional derivative of ∇θÊ along the force errors
(Eq. 6), and estimate it by one central difference (Eq. 7).  For a linear SNAP
model the exact gradient is known in closed form, so the estimate can be
checked to the last digit.

The library is in layers, each importing only from those before it
(``docs/architecture.md``):

* :mod:`snapcheck.base`: errors and exit codes, atomic writes, progress bars;
* :mod:`snapcheck.data`: configurations, datasets, SNAP settings files;
* :mod:`snapcheck.descriptors`: the LAMMPS bispectrum engine and its cache;
* :mod:`snapcheck.models`: the linear SNAP oracle, the model protocol, the registry;
* :mod:`snapcheck.gradients`: the paper's estimate (Eqs. 7–14) and automatic ε;
* :mod:`snapcheck.runtime`: executors (serial, processes, Dask), partial results, flags;
* :mod:`snapcheck.studies`: Figs. 1–2, the oracle files, fits, training, costs;

and on top the commands (``python -m snapcheck.fig1`` …) and
:mod:`snapcheck.testing`, the assertions for other projects' test suites.

Units throughout: Å, eV, eV/Å, bar.
"""

from snapcheck.base.lazy import lazy_attributes

__version__ = "0.1.0"

#: The public API, imported on first use so that ``python -m snapcheck.<command>``
#: and worker processes load only what they need.
_PUBLIC = {
    "CheckFailure": "snapcheck.gradients.checks",
    "Configuration": "snapcheck.data",
    "LinearSnap": "snapcheck.models",
    "LinearSnapPotential": "snapcheck.models",
    "assert_force_loss_gradient": "snapcheck.testing",
    "assert_forces_consistent": "snapcheck.testing",
    "load_configurations": "snapcheck.data",
    "load_model": "snapcheck.models",
    "paper_force_loss_gradient": "snapcheck.gradients",
    "Reference": "snapcheck.gradients",
}

__all__ = sorted(_PUBLIC)


__getattr__ = lazy_attributes("snapcheck", _PUBLIC)
