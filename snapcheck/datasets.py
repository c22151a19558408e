"""``python -m snapcheck.datasets``: the registered datasets, and fetching one into the cache.

``list`` prints each name, its FitSNAP folder at the pinned commit, its file
count and where it would be read from; ``fetch NAME`` downloads it with pooch
into ``$SNAPCHECK_CACHE`` (default ``~/.cache/snapcheck``), checks every file
against ``datasets/NAME.sha256`` and prints the folder
(:mod:`snapcheck.data.datasets`).  Exit 0 done, 2 unknown name or a failed
download or checksum (one line naming the URL or file).
"""

from __future__ import annotations

from snapcheck.base.errors import EXIT_OK
from snapcheck.data.datasets import DATASETS, FITSNAP_COMMIT, fetch, read_manifest
from snapcheck.runtime.cli import common_parser, run


def main(argv: list[str] | None = None) -> int:
    parser = common_parser("python -m snapcheck.datasets", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the registered datasets")
    fetch_parser = commands.add_parser("fetch", help="download and verify a dataset into the cache")
    fetch_parser.add_argument("name", choices=sorted(DATASETS), metavar="NAME", help=", ".join(DATASETS))
    args = parser.parse_args(argv)
    if args.command == "list":
        print(f"FitSNAP commit {FITSNAP_COMMIT}")
        for spec in DATASETS.values():
            files = len(read_manifest(spec.manifest_path))
            print(f"{spec.name:22s} {spec.folder:34s} {files:5d} files  {spec.description}")
        return EXIT_OK
    root = fetch(args.name)
    print(f"{args.name}: {len(read_manifest(DATASETS[args.name].manifest_path))} files verified in {root}")
    return EXIT_OK


if __name__ == "__main__":
    run(main)
