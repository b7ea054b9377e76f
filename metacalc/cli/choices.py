"""Choices and defaults of the command line, taken from the modules that own them, never written out again.

The pooling methods, measures and τ² estimators are the statistical core's own constants. Importing the core
costs about 0.4 s (numpy), which ``metacalc --help`` and ``metacalc report`` must not pay, so a choice list is
read from its module only when argparse first looks at it: to check a value given on the command line, or to
print the help. Options using these lists name a ``metavar``, so that building the parser does not look.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import overload


class ChoicesOf(Sequence[str]):
    """The tuple ``name`` of ``module``, imported on first use."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self._values: tuple[str, ...] | None = None

    def values(self) -> tuple[str, ...]:
        if self._values is None:
            self._values = tuple(getattr(importlib.import_module(self.module), self.name))
        return self._values

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self.values()[index]

    def __len__(self) -> int:
        return len(self.values())

    def __repr__(self) -> str:
        return f"ChoicesOf({self.module}.{self.name})"


# The statistical core's constants: the lead points these at public names of metacalc.meta once it exports them.
POOLING_METHODS = ChoicesOf("metacalc.meta.proportions", "METHODS")
MEASURES = ChoicesOf("metacalc.meta.transforms", "MEASURES")
TAU2_METHODS = ChoicesOf("metacalc.meta.heterogeneity", "TAU2_METHODS")
