"""The score a pair of patients needs to be listed by the duplicate screen, for a review of a given size (why it
rises with the review is in ``metacalc.review.patient_duplicates``). Alone here, without numpy, so that the report
states the rule with the numbers the screen used."""

from __future__ import annotations

import math

THRESHOLD = 2.0
CALIBRATED_REPORTS = 200  # reviews up to this many reports with patients are screened at THRESHOLD


def screening_threshold(reports: int) -> float:
    """The score a pair needs to be flagged in a review of ``reports`` reports with patients: ``THRESHOLD`` up to
    ``CALIBRATED_REPORTS``, then rising by log10 of the growth, so that the prior odds of a pair, which fall as
    1 / reports, leave a flagged pair as likely one patient as at ``CALIBRATED_REPORTS`` (module docstring of
    ``metacalc.review.patient_duplicates``)."""
    if reports < 0:
        raise ValueError(f"the number of reports cannot be negative (got {reports})")
    # Rounded to hundredths: a threshold a reviewer can read and quote, the same on every machine.
    return round(THRESHOLD + max(0.0, math.log10(max(reports, 1) / CALIBRATED_REPORTS)), 2)
