"""The ``metacalc`` command (the command-line edge of the package).

Each group of sub-commands lives in a module of this package, which exposes ``register(subparsers)``; heavy
imports happen inside the commands themselves. User errors (``metacalc.errors.UserError``) are printed one per
line, with exit status 1 and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from metacalc.errors import UserError

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
