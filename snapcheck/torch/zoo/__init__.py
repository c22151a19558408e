"""A zoo of the field's real force- and stress-training bugs (issue 22), and the tools that would have caught them.

Each entry (:mod:`~snapcheck.torch.zoo.registry`) is a bug from a public tracker, rebuilt in the place it
lived, in a trainer of one of three small potentials (:mod:`~snapcheck.torch.zoo.potentials`) on real Ta or
InP configurations, with the fixed variant beside it: force code (:mod:`~snapcheck.torch.zoo.force_entries`),
the model's energy (:mod:`~snapcheck.torch.zoo.model_entries`), losses and batching
(:mod:`~snapcheck.torch.zoo.loss_entries`), cell handling (:mod:`~snapcheck.torch.zoo.cell_entries`) and
stress code (:mod:`~snapcheck.torch.zoo.stress_entries`).  :func:`run_zoo` runs them all through snapcheck and through
the tools a trainer has today (:mod:`~snapcheck.torch.zoo.tools`)::

    from snapcheck.torch.zoo import run_zoo, summary
    table = run_zoo("out")        # out/reports/zoo.csv, zoo.md and zoo_run.json
    print(summary(table))

``python -m snapcheck.bench zoo`` runs it (:func:`snapcheck.torch.bench_studies.bench_zoo`).
"""

from snapcheck.torch.zoo.report import false_positives, summary
from snapcheck.torch.zoo.runner import ENTRIES, entry, run_zoo

__all__ = ["ENTRIES", "entry", "false_positives", "run_zoo", "summary"]
