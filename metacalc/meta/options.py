"""The choices and defaults of the core's models, in one place and without numpy, so that the command line can
offer exactly these (and ``metacalc --help`` stays fast).
"""

from __future__ import annotations

from dataclasses import dataclass

# How pool_proportions pools: the case-report rule, the pooled count, inverse variance, binomial-normal GLMM.
PROPORTION_METHODS = ("auto", "exact", "iv", "glmm")
# metafor's escalc measures for one proportion: raw, logit, arcsine, Freeman-Tukey.
MEASURES = ("PR", "PLO", "PAS", "PFT")
# metafor's continuity corrections (``to=``).
CORRECTIONS = ("only0", "all", "if0all", "none")
# Common effect ("FE") and metafor's tau² estimators.
TAU2_METHODS = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ")
# Normal quantiles or Hartung-Knapp.
TESTS = ("z", "knha")
# Intervals of one study's proportion.
INTERVAL_METHODS = ("clopper-pearson", "wilson", "wilson-cc", "agresti-coull", "jeffreys")


@dataclass(frozen=True)
class ProportionSettings:
    """The options of ``pool_proportions`` (``method`` as requested, e.g. "auto"), kept by each result so that it
    can be refitted. ``add=None`` means metafor's default for the measure."""

    method: str = "auto"
    measure: str = "PLO"
    tau2_method: str = "REML"
    knha: bool = False
    cc: str = "only0"
    add: float | None = None
    level: float = 0.95
    ci_method: str = "clopper-pearson"


@dataclass(frozen=True)
class MeanSettings:
    """The options of ``pool_means``, kept by each result so that it can be refitted."""

    tau2_method: str = "REML"
    knha: bool = False
    level: float = 0.95
