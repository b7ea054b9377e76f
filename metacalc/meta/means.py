"""Time to onset: pooled means, per-patient summaries, mean/SD from medians, comparison with published figures.

Case reports give one value per patient (years from SLE diagnosis to calcinosis); case series give a mean and
SD, or only a median with quartiles or range. This module turns all of those into numbers that can be pooled
or compared, with the method named in each result:

- :func:`pool_means` -- inverse-variance random effects on raw means (metafor's ``escalc(measure="MN")``:
  ``yi = mean``, ``vi = sd**2 / n``) fitted by :func:`metacalc.meta.random_effects.rma`.
- :func:`summarise_values` -- n, mean, SD, median, quartiles, range, with a t interval and a percentile
  bootstrap interval of the mean and an exact (order-statistic) interval of the median.
- :func:`study_from_patients` -- the patients of case reports combined as one "study" (n, mean, SD).
- :func:`mean_sd_from_quantiles` -- mean and SD estimated from the median with range and/or quartiles
  (Wan et al. 2014 for the SD, Luo et al. 2018 or Wan et al. 2014 for the mean).
- :func:`compare_with_published` -- one-sample t test against a published figure, with the exact
  Wilcoxon signed-rank and sign tests for the small samples case reports give.

References
    Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the sample size,
    median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135.
    Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size, median, mid-range,
    and/or mid-quartile range. Stat Methods Med Res 2018;27(6):1785-1805.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from metacalc.meta.results import json_number, pooled_result_dict

# The seed of the bootstrap: fixed so that a rerun of the review gives byte-identical numbers.
DEFAULT_BOOTSTRAP_SEED = 20121
DEFAULT_BOOTSTRAP_SAMPLES = 10_000


def _as_float_array(values, name):
    array = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers (found a missing or infinite value)")
    return array


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")


# --------------------------------------------------------------------------------------------------------------
# Pooled means
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyMean:
    label: str
    n: float
    mean: float
    sd: float
    estimate: float
    ci_lower: float
    ci_upper: float
    weight: float

    def to_dict(self):
        n = float(self.n)
        return {
            "label": self.label,
            "n": int(n) if n.is_integer() else n,
            "mean": json_number(self.mean),
            "sd": json_number(self.sd),
            "estimate": json_number(self.estimate),
            "ci_lower": json_number(self.ci_lower),
            "ci_upper": json_number(self.ci_upper),
            "weight": json_number(self.weight),
        }


@dataclass(frozen=True)
class MeanResult:
    """A pooled mean (inverse-variance random effects on raw means), in the shape of ``ProportionResult``.

    ``transformed`` is the identity here (means are pooled on their own scale); it is kept so that proportions
    and means share one JSON layout. ``model`` is the underlying ``RandomEffectsResult``.
    """

    k: int
    method: str
    measure: str
    tau2_method: str
    test: str
    level: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    tau2: float
    tau2_ci: tuple | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    studies: tuple[StudyMean, ...]
    reason: str = ""
    warnings: tuple[str, ...] = ()
    model: object = field(default=None, repr=False, compare=False)

    @property
    def transformed(self):
        return {"estimate": self.estimate, "se": self.se, "ci_lower": self.ci_lower, "ci_upper": self.ci_upper}

    def to_dict(self):
        """The JSON form of issue 5 for means (never NaN: a number that is not finite is null, ``nulls`` says why)."""
        nulls = {}
        if self.method == "iv" and self.tau2_method == "FE":
            nulls["pi_lower"] = nulls["pi_upper"] = "no prediction interval for a common-effect model"
        if self.tau2_ci is None:
            nulls["tau2_ci"] = (
                "no Q-profile interval for a single study" if self.k == 1 else "no interval for this tau2 method"
            )
        return pooled_result_dict(self, nulls)


def pool_means(means, sds, ns, tau2_method="REML", knha=False, level=0.95, labels=None):
    """Pool study means by inverse-variance random effects (metafor: ``rma(escalc("MN", mi, sdi, ni))``).

    Each study's sampling variance is ``sd**2 / n``, so a study needs n >= 1 and sd > 0: a single patient
    has no SD, and such patients belong in :func:`study_from_patients` first. ``knha`` uses the
    Hartung-Knapp adjustment (metafor's ``test="knha"``). Study intervals are ``mean +/- z * sd / sqrt(n)``,
    as metafor's forest plot draws them.
    """
    from scipy import stats

    from metacalc.meta.random_effects import rma

    _check_level(level)
    means = _as_float_array(means, "means")
    sds = _as_float_array(sds, "sds")
    ns = _as_float_array(ns, "ns")
    if not (len(means) == len(sds) == len(ns)):
        raise ValueError(f"means, sds and ns differ in length ({len(means)}, {len(sds)}, {len(ns)})")
    if len(means) == 0:
        raise ValueError("no studies to pool")
    if np.any(ns < 1):
        raise ValueError("every study needs n >= 1")
    if np.any(sds <= 0):
        raise ValueError("every study needs an SD above 0 (its sampling variance is sd**2 / n)")
    if labels is None:
        labels = [f"study {i + 1}" for i in range(len(means))]
    labels = tuple(str(label) for label in labels)
    if len(labels) != len(means):
        raise ValueError(f"labels has {len(labels)} entries for {len(means)} studies")

    yi = means
    vi = sds**2 / ns
    # with k = 1, rma falls back from Hartung-Knapp to the z test, as metafor does (``test`` says which)
    fit = rma(yi, vi, method=tau2_method, test="knha" if knha else "z", level=level, labels=labels)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    half = z * np.sqrt(vi)
    weights = np.asarray(fit.weights, dtype=float)
    studies = tuple(
        StudyMean(labels[i], ns[i], means[i], sds[i], yi[i], yi[i] - half[i], yi[i] + half[i], weights[i])
        for i in range(len(yi))
    )
    warnings = []
    if len(yi) == 1:
        warnings.append("Only one study: the pooled mean is that study's mean and heterogeneity is not estimable.")
    if np.any(ns < 2):
        warnings.append("A study with n = 1 was given an SD; an SD from a single patient is not a sample SD.")
    return MeanResult(
        k=fit.k,
        method="iv",
        measure="MN",
        tau2_method=fit.method,
        test=fit.test,
        level=level,
        estimate=fit.estimate,
        se=fit.se,
        ci_lower=fit.ci_lower,
        ci_upper=fit.ci_upper,
        pi_lower=fit.pi_lower,
        pi_upper=fit.pi_upper,
        tau2=fit.tau2,
        tau2_ci=fit.tau2_ci,
        i2=fit.i2,
        h2=fit.h2,
        q=fit.q,
        q_df=fit.q_df,
        q_pvalue=fit.q_pvalue,
        studies=studies,
        reason=(
            "Inverse-variance random-effects model on raw means (metafor measure MN, sampling variance sd^2/n), "
            + ("common-effect (tau2 = 0)" if fit.method == "FE" else f"tau2 by {fit.method}")
            + (", Hartung-Knapp interval" if fit.test == "knha" else "")
            + "."
        ),
        warnings=tuple(warnings),
        model=fit,
    )


# --------------------------------------------------------------------------------------------------------------
# Per-patient values
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueSummary:
    """Descriptive statistics of per-patient values with three intervals.

    ``mean_ci`` is the t interval; ``mean_ci_bootstrap`` the percentile bootstrap interval (``n_boot``
    resamples, generator ``numpy.random.default_rng(seed)``); ``median_ci`` the distribution-free interval
    between two order statistics (binomial), whose actual coverage (at least ``level`` when attainable) is
    ``median_ci_coverage``. With 5 values or fewer no pair of order statistics reaches 95%: the interval is
    then the range, and its coverage says so. Quartiles use linear interpolation (R's type 7).
    """

    n: int
    mean: float
    sd: float | None
    median: float
    q1: float
    q3: float
    min: float
    max: float
    level: float
    mean_ci: tuple[float, float] | None
    mean_ci_bootstrap: tuple[float, float] | None
    median_ci: tuple[float, float]
    median_ci_coverage: float
    n_boot: int
    seed: int

    def to_dict(self):
        def pair(values):
            return None if values is None else [json_number(values[0]), json_number(values[1])]

        return {
            "n": int(self.n),
            "mean": json_number(self.mean),
            "sd": json_number(self.sd),
            "median": json_number(self.median),
            "q1": json_number(self.q1),
            "q3": json_number(self.q3),
            "min": json_number(self.min),
            "max": json_number(self.max),
            "level": float(self.level),
            "mean_ci": pair(self.mean_ci),
            "mean_ci_bootstrap": pair(self.mean_ci_bootstrap),
            "median_ci": pair(self.median_ci),
            "median_ci_coverage": json_number(self.median_ci_coverage),
            "n_boot": int(self.n_boot),
            "seed": int(self.seed),
        }


def median_interval(values, level=0.95):
    """Distribution-free interval of the median from order statistics: ``(x_(r), x_(n-r+1))`` with the largest
    r such that ``P(Binomial(n, 1/2) <= r - 1) <= (1 - level) / 2``. Returns ``(lower, upper, coverage)``.

    When even the range covers less than ``level`` (n <= 5 at 95%), the range is returned with its coverage.
    """
    from scipy import stats

    x = np.sort(_as_float_array(values, "values"))
    n = len(x)
    if n == 0:
        raise ValueError("no values")
    alpha = 1 - level
    # cdf(r - 1) for r = 1..n//2 (r beyond the middle would cross over)
    r_candidates = np.arange(1, n // 2 + 1)
    tail = stats.binom.cdf(r_candidates - 1, n, 0.5)
    allowed = r_candidates[tail <= alpha / 2]
    r = int(allowed.max()) if len(allowed) else 1
    coverage = 1 - 2 * stats.binom.cdf(r - 1, n, 0.5)
    if n == 1:
        coverage = 0.0
    return float(x[r - 1]), float(x[n - r]), float(coverage)


_BOOTSTRAP_CHUNK_CELLS = 1_000_000


def summarise_values(values, level=0.95, n_boot=DEFAULT_BOOTSTRAP_SAMPLES, seed=DEFAULT_BOOTSTRAP_SEED):
    """Summarise per-patient values (e.g. years from SLE diagnosis to onset); see :class:`ValueSummary`."""
    from scipy import stats

    _check_level(level)
    x = _as_float_array(values, "values")
    n = len(x)
    if n == 0:
        raise ValueError("no values to summarise")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    mean = float(x.mean())
    q1, median, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    sd = mean_ci = boot_ci = None
    if n >= 2:
        sd = float(x.std(ddof=1))
        t = stats.t.ppf(1 - (1 - level) / 2, n - 1)
        half = t * sd / math.sqrt(n)
        mean_ci = (mean - half, mean + half)
        rng = np.random.default_rng(seed)
        # Resample in chunks: one (n_boot x n) index matrix is 800 MB for 10,000 patients. Successive draws
        # continue the same random stream, so the result does not depend on the chunk size.
        rows = max(1, _BOOTSTRAP_CHUNK_CELLS // n)
        resampled = np.concatenate([
            x[rng.integers(0, n, size=(min(rows, n_boot - start), n))].mean(axis=1)
            for start in range(0, n_boot, rows)
        ])
        low, high = np.quantile(resampled, [(1 - level) / 2, 1 - (1 - level) / 2])
        boot_ci = (float(low), float(high))
    median_low, median_high, coverage = median_interval(x, level)
    return ValueSummary(
        n=n,
        mean=mean,
        sd=sd,
        median=median,
        q1=q1,
        q3=q3,
        min=float(x.min()),
        max=float(x.max()),
        level=level,
        mean_ci=mean_ci,
        mean_ci_bootstrap=boot_ci,
        median_ci=(median_low, median_high),
        median_ci_coverage=coverage,
        n_boot=int(n_boot),
        seed=int(seed),
    )


@dataclass(frozen=True)
class StudySummary:
    """A study reduced to what pooling needs: n, mean, SD (and how the mean and SD were obtained)."""

    n: int
    mean: float
    sd: float
    source: str = "individual values"


def study_from_patients(values):
    """The patients of case reports combined into one "study" (n, mean, sample SD) to pool with series.

    Needs at least two patients: one patient has no SD and so no sampling variance.
    """
    x = _as_float_array(values, "values")
    if len(x) < 2:
        raise ValueError(f"combining patients into one study needs at least 2 values (got {len(x)})")
    return StudySummary(n=len(x), mean=float(x.mean()), sd=float(x.std(ddof=1)),
                        source=f"{len(x)} individual patients")


# --------------------------------------------------------------------------------------------------------------
# Mean and SD from median, quartiles and range
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimatedMeanSD:
    """Mean and SD estimated from a median with range (S1), with range and quartiles (S2) or with quartiles (S3).

    Scenario names follow Wan et al. 2014: S1 = {min, median, max, n}, S2 = {min, q1, median, q3, max, n},
    S3 = {q1, median, q3, n}. Both assume roughly normal data; skewed data bias them (time to onset often is).
    """

    n: float
    scenario: str
    mean: float
    sd: float
    mean_method: str
    sd_method: str

    @property
    def source(self):
        return f"estimated from {self.scenario} ({self.mean_method} mean, {self.sd_method} SD)"

    def to_dict(self):
        return {
            "n": json_number(self.n),
            "scenario": self.scenario,
            "mean": json_number(self.mean),
            "sd": json_number(self.sd),
            "mean_method": self.mean_method,
            "sd_method": self.sd_method,
        }


def _xi(n):
    # Expected range of n standard normal values (Blom's approximation), Wan et al. 2014 eq. 7-9.
    from scipy import stats

    return 2 * stats.norm.ppf((n - 0.375) / (n + 0.25))


def _eta(n):
    # Expected interquartile range of n standard normal values, Wan et al. 2014 eq. 15-16.
    from scipy import stats

    return 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))


def _given(value):
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def mean_sd_from_quantiles(n, median, min=None, max=None, q1=None, q3=None, mean_method="luo2018",
                           sd_method="wan2014"):
    """Estimate a sample's mean and SD from its median and range and/or quartiles.

    Mean: ``"luo2018"`` (optimal weights, Luo et al. 2018 eq. 7 / 15 / 11 for S1 / S2 / S3) or ``"wan2014"``
    ((a + 2m + b) / 4; (a + 2q1 + 2m + 2q3 + b) / 8; (q1 + m + q3) / 3).
    SD: ``"wan2014"`` only: (b - a) / xi(n) in S1, the average of the range and IQR estimates in S2,
    (q3 - q1) / eta(n) in S3, with xi(n) = 2 Phi^-1((n - 0.375) / (n + 0.25)) and
    eta(n) = 2 Phi^-1((0.75 n - 0.125) / (n + 0.25)).
    Needs n >= 2 (with one value neither range nor quartiles carry spread).
    """
    if mean_method not in ("luo2018", "wan2014"):
        raise ValueError(f"unknown mean_method {mean_method!r} (expected 'luo2018' or 'wan2014')")
    if sd_method != "wan2014":
        raise ValueError(f"unknown sd_method {sd_method!r} (expected 'wan2014')")
    if not _given(median):
        raise ValueError("the median is needed")
    if not _given(n) or n < 2:
        raise ValueError(f"n must be at least 2 to estimate an SD (got {n})")
    has_range = _given(min) and _given(max)
    has_quartiles = _given(q1) and _given(q3)
    present = [v for v in (min, q1, median, q3, max) if _given(v)]
    if any(later < earlier for earlier, later in zip(present, present[1:])):
        raise ValueError(f"expected min <= q1 <= median <= q3 <= max (got {present})")
    n = float(n)
    m = float(median)
    if has_range and has_quartiles:
        scenario = "S2"
        a, b, lo, hi = float(min), float(max), float(q1), float(q3)
        if mean_method == "luo2018":
            w_range = 2.2 / (2.2 + n**0.75)
            w_quartiles = 0.7 - 0.72 / n**0.55
            mean = w_range * (a + b) / 2 + w_quartiles * (lo + hi) / 2 + (1 - w_range - w_quartiles) * m
        else:
            mean = (a + 2 * lo + 2 * m + 2 * hi + b) / 8
        sd = (b - a) / (2 * _xi(n)) + (hi - lo) / (2 * _eta(n))
    elif has_range:
        scenario = "S1"
        a, b = float(min), float(max)
        if mean_method == "luo2018":
            w = 4 / (4 + n**0.75)
            mean = w * (a + b) / 2 + (1 - w) * m
        else:
            mean = (a + 2 * m + b) / 4
        sd = (b - a) / _xi(n)
    elif has_quartiles:
        scenario = "S3"
        lo, hi = float(q1), float(q3)
        if mean_method == "luo2018":
            w = 0.7 + 0.39 / n
            mean = w * (lo + hi) / 2 + (1 - w) * m
        else:
            mean = (lo + m + hi) / 3
        sd = (hi - lo) / _eta(n)
    else:
        raise ValueError("need the range (min and max) and/or the quartiles (q1 and q3) with the median")
    return EstimatedMeanSD(n=n, scenario=scenario, mean=float(mean), sd=float(sd), mean_method=mean_method,
                           sd_method=sd_method)


# --------------------------------------------------------------------------------------------------------------
# Comparison with a published figure
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedComparison:
    """Patients' values against one published figure (e.g. a mean of 9.8 or 21.5 years).

    ``difference`` = sample mean - reference with its t interval and the one-sample t test (two-sided).
    Because a handful of case reports cannot show normality, the exact Wilcoxon signed-rank test (``wilcoxon_*``;
    the statistic is the sum of the ranks of positive differences, R's V) and the exact sign test on the
    number of values above the reference are given too; both test the median rather than the mean.
    Values equal to the reference are dropped from those two tests, as R does.
    """

    n: int
    reference: float
    level: float
    mean: float
    median: float
    difference: float
    ci_lower: float | None
    ci_upper: float | None
    t_statistic: float | None
    df: int | None
    pvalue: float | None
    wilcoxon_statistic: float | None
    wilcoxon_pvalue: float | None
    wilcoxon_method: str | None
    sign_above: int
    sign_below: int
    sign_pvalue: float | None
    interpretation: str

    def to_dict(self):
        return {
            "n": int(self.n),
            "reference": json_number(self.reference),
            "level": float(self.level),
            "mean": json_number(self.mean),
            "median": json_number(self.median),
            "difference": json_number(self.difference),
            "ci_lower": json_number(self.ci_lower),
            "ci_upper": json_number(self.ci_upper),
            "t_statistic": json_number(self.t_statistic),
            "df": None if self.df is None else int(self.df),
            "pvalue": json_number(self.pvalue),
            "wilcoxon_statistic": json_number(self.wilcoxon_statistic),
            "wilcoxon_pvalue": json_number(self.wilcoxon_pvalue),
            "wilcoxon_method": self.wilcoxon_method,
            "sign_above": int(self.sign_above),
            "sign_below": int(self.sign_below),
            "sign_pvalue": json_number(self.sign_pvalue),
            "interpretation": self.interpretation,
        }


def _format_p(p):
    if p is None:
        return "not computable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def compare_with_published(values, reference, level=0.95, unit="years"):
    """Compare patients' values with a published figure; see :class:`PublishedComparison`."""
    from scipy import stats

    _check_level(level)
    x = _as_float_array(values, "values")
    reference = float(reference)
    if not math.isfinite(reference):
        raise ValueError("the reference must be a finite number")
    n = len(x)
    if n == 0:
        raise ValueError("no values to compare")
    mean = float(x.mean())
    median = float(np.median(x))
    difference = mean - reference
    ci_lower = ci_upper = t_stat = df = pvalue = None
    if n >= 2 and x.std(ddof=1) > 0:
        sd = float(x.std(ddof=1))
        se = sd / math.sqrt(n)
        df = n - 1
        t_stat = difference / se
        pvalue = float(2 * stats.t.sf(abs(t_stat), df))
        half = stats.t.ppf(1 - (1 - level) / 2, df) * se
        ci_lower, ci_upper = difference - half, difference + half

    d = x - reference
    nonzero = d[d != 0]
    above, below = int(np.sum(d > 0)), int(np.sum(d < 0))
    sign_p = float(stats.binomtest(above, above + below, 0.5).pvalue) if above + below else None
    w_stat = w_p = w_method = None
    if len(nonzero):
        ranks = stats.rankdata(np.abs(nonzero))
        w_stat = float(ranks[nonzero > 0].sum())
        # The exact null distribution assumes no tied |differences|; with ties use the normal approximation.
        w_method = "exact" if len(np.unique(np.abs(nonzero))) == len(nonzero) else "approx"
        w_p = float(stats.wilcoxon(nonzero, method=w_method).pvalue)

    level_pct = f"{100 * level:g}%"
    if n == 1:
        interpretation = (
            f"One patient ({mean:g} {unit}) against the published {reference:g} {unit}: "
            "no test is possible with a single value."
        )
    else:
        direction = "longer" if difference > 0 else "shorter" if difference < 0 else "no different"
        size = f"{abs(difference):.1f} {unit} {direction} than" if difference else "equal to"
        ci_text = (
            f" ({level_pct} CI of the difference {ci_lower:.1f} to {ci_upper:.1f})" if ci_lower is not None else ""
        )
        if pvalue is None:
            verdict = "all values are equal, so the t test is not defined"
        elif pvalue < 1 - level:
            verdict = f"a difference this large would be unlikely if the published figure held (t test {_format_p(pvalue)})"
        else:
            verdict = f"the data are compatible with the published figure (t test {_format_p(pvalue)})"
        interpretation = (
            f"The {n} patients' mean, {mean:.1f} {unit}, is {size} the published {reference:g} {unit}{ci_text}; "
            f"{verdict}. {above} of {above + below} patients lie above it "
            f"(exact sign test {_format_p(sign_p)}; Wilcoxon signed-rank {_format_p(w_p)})."
        )
        if n < 10:
            interpretation += f" With only {n} patients these tests have little power."
    return PublishedComparison(
        n=n,
        reference=reference,
        level=level,
        mean=mean,
        median=median,
        difference=difference,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        t_statistic=t_stat,
        df=df,
        pvalue=pvalue,
        wilcoxon_statistic=w_stat,
        wilcoxon_pvalue=w_p,
        wilcoxon_method=w_method,
        sign_above=above,
        sign_below=below,
        sign_pvalue=sign_p,
        interpretation=interpretation,
    )
