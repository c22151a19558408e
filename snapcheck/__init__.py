"""snapcheck: a numerical oracle for force-training gradients.

Smith, Lubbers, Thompson and Barros, "Simple and efficient algorithms for
training machine learning potentials to force data", show that the θ-gradient
of the force loss is a directional derivative of ∇θÊ along the force errors
(Eq. 6), and estimate it by one central difference (Eq. 7).  For a linear SNAP
model the exact gradient is known in closed form, so the estimate can be
checked to the last digit.  The package mirrors the paper:

* :mod:`snapcheck.data`: configurations and the Ta dataset;
* :mod:`snapcheck.descriptors`: the LAMMPS bispectrum engine;
* :mod:`snapcheck.models`: the linear SNAP model;
* :mod:`snapcheck.gradients`: the exact gradient (and the paper's estimate).

Units throughout: Å, eV, eV/Å, bar.
"""

__version__ = "0.1.0"
