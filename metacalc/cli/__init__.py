"""The ``metacalc`` command (the command-line edge of the package).

Each sub-command lives in the module of its concept, which exposes ``register(subparsers)``; the
module is imported only when listed here, and heavy imports happen inside the command itself.
"""

import argparse
import importlib
import sys

from metacalc.errors import UserError

# Sub-command modules, in the order ``metacalc --help`` lists them.
COMMAND_MODULES = (
    "metacalc.data.commands",
    "metacalc.meta.commands",
    "metacalc.review.commands",
    "metacalc.cli.records",
)


def build_parser():
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


def main(argv=None):
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
