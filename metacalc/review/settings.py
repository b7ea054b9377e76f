"""The settings of a whole run (from the workflow's config): confidence level and the pooling defaults that an
analysis file's ``method: default`` refers to.

The defaults are those of the statistical core's ``pool_proportions`` (a test keeps them equal), so that the
command line, the workflow and a call from Python agree without a copy of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunSettings:
    """Workflow-wide defaults (from the Snakemake config); an analysis file may override the method."""

    level: float = 0.95
    method: str = "auto"
    measure: str = "PLO"
    tau2_method: str = "REML"
    knha: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "method": self.method,
            "measure": self.measure,
            "tau2_method": self.tau2_method,
            "knha": self.knha,
        }
