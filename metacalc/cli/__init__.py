"""The ``metacalc`` command (the command-line edge of the package).

Each group of sub-commands lives in a module of this package, which exposes ``register(subparsers)``; heavy
imports happen inside the commands themselves. User errors (``metacalc.errors.UserError``) are printed one per
line, with exit status 1 and no traceback; so is a file the command cannot read or write (an ``OSError``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from metacalc.errors import UserError, one_line

# Sub-command modules, in the order ``metacalc --help`` lists them.
COMMAND_MODULES = (
    "metacalc.cli.folder",
    "metacalc.cli.data",
    "metacalc.cli.meta",
    "metacalc.cli.review",
    "metacalc.cli.records",
    "metacalc.cli.living",
)


def build_parser() -> argparse.ArgumentParser:
    from metacalc import __version__

    parser = argparse.ArgumentParser(
        prog="metacalc",
        description="Pool evidence from clinical case reports and case series.",
    )
    parser.add_argument("--version", action="version", version=f"metacalc {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def collect_garbage_seldom() -> None:
    """Python's cycle collector, by default, looks through the young objects every 700 allocations and, as they
    age, through every object: a review's run keeps millions of small ones (the tables' rows, the results), and
    rescanning them took 16% of `metacalc analyse` at 10,000 patients (34.8 -> 29.3 s of CPU with these
    settings; the same peak memory, 575 MB, as almost nothing a run builds is a cycle). Cycles are still
    collected, every 100,000 allocations; the worker processes (fork) inherit the setting."""
    import gc

    gc.set_threshold(100_000, 50, 50)


def one_thread_per_blas() -> None:
    """metacalc runs its parallel work in its own worker processes and threads (``--jobs``, which Snakemake caps
    at its ``--cores``); numpy's BLAS starting a thread per core inside each of them as well only oversubscribes
    the cores, and its idle threads spin. The duplicate screen of 100,000 patients took 40 s of CPU for 25 s of
    wall time with OpenBLAS's own threads, 26 s of CPU for the same wall time without them. Set before numpy is
    imported (the command line imports it only inside the commands); a setting of the user's own is kept."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    collect_garbage_seldom()
    one_thread_per_blas()
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except UserError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as error:
        # Outputs are written by metacalc.files, whose errors are UserErrors naming the output; this is any other
        # file the command could not use (an input it may not read, a folder it could not make).
        from metacalc.files import WRITING, cannot_write

        where = error.filename if error.filename is not None else "metacalc"
        doing = "write" if error.errno in WRITING else "read or write"
        print(one_line(cannot_write(where, error, doing)), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
