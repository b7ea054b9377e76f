"""The report's "Changes since version NAME": the change log of the results worded as the report words its
numbers (the summary's sentences for the main estimates, a short form for the sensitivity variants)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metacalc.render.sentences import mean_sentence, proportion_sentence
from metacalc.review.document import ChangeLog
from metacalc.review.results import ProportionGroup, TimeGroup
from metacalc.review.words import level_label, num, pct, span


def estimate_text(group: Mapping[str, Any] | None, kind: str, level: float) -> str:
    """A main group's estimate as the summary of findings says it; 'absent' when the group is not in the run."""
    if group is None:
        return "absent"
    if kind == "proportion":
        return proportion_sentence(ProportionGroup.from_dict(group, detail=False), level, with_method=False)
    return mean_sentence(TimeGroup.from_dict(group, detail=False).summary, level)


def headline_text(headline: Mapping[str, Any] | None, kind: str, level: float) -> str:
    """A variant's headline numbers in a line: '3/5 (60.0%, 95% CI 14.7% to 94.7%)', 'median 11.0 years; mean ...'."""
    if headline is None:
        return "absent"
    if kind == "proportion":
        text = f"{headline.get('events')}/{headline.get('total')}"
        if headline.get("estimate") is None:
            return f"{text} (not pooled)"
        if headline.get("lower_bound"):
            return f"{text} (≥ {pct(headline['estimate'])})"
        return f"{text} ({pct(headline['estimate'])}, {level_label(level)} " \
               f"{span(headline.get('ci_lower'), headline.get('ci_upper'), pct)})"
    parts = [f"n = {headline.get('n')}"]
    if headline.get("median") is not None:
        parts.append(f"median {num(headline['median'])} years")
    if headline.get("mean") is not None:
        parts.append(f"mean {num(headline['mean'])}")
    return "; ".join(parts)


def change_view(changes: ChangeLog, level: float) -> dict[str, Any]:
    """What the template shows: the log itself, and its estimates and variants worded before and after."""
    estimates = [{"change": e, "before": estimate_text(e.before, e.kind, level),
                  "after": estimate_text(e.after, e.kind, level)} for e in changes.estimates]
    variants = [{"change": v, "before": headline_text(v.before, v.kind, level),
                 "after": headline_text(v.after, v.kind, level)} for v in changes.variants]
    prisma = [c for c in changes.prisma if c.before != c.after]
    moved = [e for e, change in zip(estimates, changes.estimates) if change.changed]
    return {"log": changes, "estimates": estimates, "moved": moved,
            "variants": variants, "prisma_changed": prisma}
