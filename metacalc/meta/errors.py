"""The statistical core's two kinds of error, both ``ValueError`` so that any caller can catch the core's refusals
with one ``except ValueError``; the edges (command line, review) turn them into user messages.

- :class:`InvalidInput`: the data or options cannot be used (impossible counts, unknown method, mismatched
  lengths). Every problem found is listed, one complete sentence each, so that all can be fixed at once.
- :class:`EstimationError`: the input is valid but the model has no answer for it, where metafor would stop
  with an error too (Fisher scoring not converging, a root search whose range is too small, a GLMM without a
  finite maximum). :class:`GlmmNotEstimable` is the GLMM's case of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar


class MetaError(ValueError):
    """A refusal of the statistical core: ``problems`` lists each reason, ``str(error)`` joins them by lines."""

    def __init__(self, problems: str | Iterable[str]):
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InvalidInput(MetaError):
    """Data or options the core cannot use; each problem names the study or option and what was expected."""


class EstimationError(MetaError):
    """Valid input for which the model has no estimate (where metafor stops with an error too)."""


class GlmmNotEstimable(EstimationError):
    """The GLMM has no finite maximum-likelihood estimate for these data (e.g. every study 0 events)."""


T = TypeVar("T")
ERROR_MODES = ("raise", "return")


def settle(results: Sequence[T | MetaError | None], errors: str) -> list[T | MetaError]:
    """The results of a batch in order: with ``errors="raise"`` the first refusal is raised (as a single fit
    would raise it), with "return" refusals stay in their analysis' place."""
    if errors == "raise":
        for result in results:
            if isinstance(result, MetaError):
                raise result
    return [result for result in results if result is not None]
