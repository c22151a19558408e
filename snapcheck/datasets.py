"""``python -m snapcheck.datasets``: the registered datasets, and fetching one.

list: the registered datasets and where each would be read from.  Prints each
name, its FitSNAP folder at the pinned commit, its file count and what it is,
and where --data NAME would read it now: $SNAPCHECK_DATA (the Ta set), a local
copy under $SNAPCHECK_DATASETS, the cache, or a download into the cache.

fetch NAME: make a dataset available, every file checked against its SHA-256.
A local copy under $SNAPCHECK_DATASETS is verified in place; otherwise pooch
downloads the missing files into $SNAPCHECK_CACHE (default ~/.cache/snapcheck)
and verifies every file there.  Prints the folder; exit 2 on an unknown name or
a failed download or checksum, one line naming the URL or file
(snapcheck.data.locations).
"""

from __future__ import annotations

from snapcheck.data.dataset_registry import DATASETS
from snapcheck.data.locations import fetch_dataset, list_datasets
from snapcheck.runtime import cli
from snapcheck.runtime.cli import run


def parser():
    parser = cli.command_parser("datasets", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    cli.add_subcommand(commands, "list", __doc__)
    fetching = cli.add_subcommand(commands, "fetch", __doc__)
    fetching.add_argument("name", choices=sorted(DATASETS), metavar="NAME", help=", ".join(DATASETS))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(list_datasets() if args.command == "list" else fetch_dataset(args.name))


if __name__ == "__main__":
    run(main)
