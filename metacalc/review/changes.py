"""What changed since the latest named version of the review (``metacalc release``): reports and patients added
or removed, PRISMA counts before and after, every main estimate before and after, the sensitivity variants'
headline numbers that moved, and the conclusions that changed.

The comparison is made on the release's summary (``metacalc.review.release.summary``) and the same summary of
this run, by ids and names, so that a release made by an earlier version of metacalc still compares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from metacalc.review.document import (
    ChangeLog,
    ConclusionChange,
    CountChange,
    EstimateChange,
    Labelled,
    ReviewResults,
    VariantChange,
)
from metacalc.review.release import inputs_digest, summary
from metacalc.review.results import Headline
from metacalc.review.words import p_value

SIGNIFICANCE = 0.05  # the level a comparison "crosses" (what a reader of the report takes as a conclusion)


def _headline(group: Mapping[str, Any] | None, kind: str) -> dict[str, Any] | None:
    return None if group is None else Headline.of_group(group, "proportion" if kind == "proportion" else "time").to_dict()


def _row(group: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if group is None else dict(group)


def _added_removed(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]], key: str
                   ) -> tuple[tuple[Labelled, ...], tuple[Labelled, ...]]:
    old, new = {r[key]: r["label"] for r in before}, {r[key]: r["label"] for r in after}
    added = tuple(Labelled(i, new[i]) for i in sorted(set(new) - set(old), key=lambda i: (new[i], i)))
    removed = tuple(Labelled(i, old[i]) for i in sorted(set(old) - set(new), key=lambda i: (old[i], i)))
    return added, removed


def _prisma(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> tuple[CountChange, ...]:
    old = {b["box"]: b for b in before}
    new = {b["box"]: b for b in after}
    order = [b["box"] for b in after] + [b["box"] for b in before if b["box"] not in new]
    return tuple(CountChange(box, (new.get(box) or old[box])["label"], old[box]["n"] if box in old else None,
                             new[box]["n"] if box in new else None) for box in order)


def _by_id(items: Sequence[Mapping[str, Any]], key: str) -> dict[str, Mapping[str, Any]]:
    return {item[key]: item for item in items}


def _estimates(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> tuple[EstimateChange, ...]:
    old = _by_id(before, "id")
    out = []
    for analysis in list(after) + [a for a in before if a["id"] not in _by_id(after, "id")]:
        previous = _by_id(old.get(analysis["id"], {}).get("groups", []), "group")
        current = _by_id(analysis["groups"], "group") if analysis in after else {}
        kind = analysis["kind"]
        for group in list(current) + [g for g in previous if g not in current]:
            then, now = previous.get(group), current.get(group)
            out.append(EstimateChange(analysis["id"], analysis["title"], kind, group, _row(then), _row(now),
                                      _headline(then, kind) != _headline(now, kind)))
    return tuple(out)


def _variants(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> tuple[VariantChange, ...]:
    def rows(analyses):
        return {(a["id"], v["id"], r["group"]): (a, v, r["variant"]) for a in analyses for v in a["sensitivity"]
                for r in v["rows"]}

    old, new = rows(before), rows(after)
    out = []
    for key in list(new) + [k for k in old if k not in new]:
        analysis, variant, _ = new.get(key) or old[key]
        then, now = (old.get(key) or (None, None, None))[2], (new.get(key) or (None, None, None))[2]
        if then != now:
            out.append(VariantChange(analysis["id"], analysis["title"], analysis["kind"], variant["label"], key[2],
                                     then, now))
    return tuple(out)


def _comparisons(analyses: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], tuple[Mapping, Mapping]]:
    """(analysis, group, reference, measure) -> (the comparison, its group's summary) of every time analysis."""
    out: dict[tuple[str, ...], tuple[Mapping, Mapping]] = {}
    for analysis in analyses:
        if analysis["kind"] != "time":
            continue
        for group in analysis["groups"]:
            for comparison in group.get("comparisons", ()):
                reference = comparison["reference"]
                key = (analysis["id"], group["group"], f"{reference['label']} ({reference['aggregate_id']})",
                       comparison["measure"])
                out[key] = (comparison, group.get("summary") or {})
    return out


def _includes(comparison: Mapping[str, Any], summary_: Mapping[str, Any]) -> tuple[str, bool] | None:
    """Whether the interval the report shows includes the published figure: the difference's interval (includes
    0), else the median's or the mean's interval (includes the figure); None without an interval."""
    reference = comparison["reference"].get("mean")
    if comparison.get("ci_lower") is not None and comparison.get("ci_upper") is not None:
        return "the interval of the difference", comparison["ci_lower"] <= 0 <= comparison["ci_upper"]
    for name, key in (("the median's interval", "median_ci"), ("the mean's interval", "mean_ci")):
        interval = summary_.get(key)
        if reference is not None and interval and None not in interval:
            return name, interval[0] <= reference <= interval[1]
    return None


def _conclusions(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
                 ) -> tuple[ConclusionChange, ...]:
    old, new = _comparisons(before), _comparisons(after)
    out = []
    for key in new:
        if key not in old:
            continue
        (then, then_summary), (now, now_summary) = old[key], new[key]
        analysis, group, reference, measure = key
        p_then, p_now = then.get("pvalue"), now.get("pvalue")
        if p_then is not None and p_now is not None and (p_then < SIGNIFICANCE) != (p_now < SIGNIFICANCE):
            out.append(ConclusionChange(analysis, group, f"compared with {reference} ({measure}): the difference "
                                        f"{'became' if p_now < SIGNIFICANCE else 'is no longer'} significant at the "
                                        "5% level", p_value(p_then), p_value(p_now)))
        inside_then, inside_now = _includes(then, then_summary), _includes(now, now_summary)
        if inside_then and inside_now and inside_then[1] != inside_now[1]:
            value = then["reference"].get("mean")
            out.append(ConclusionChange(
                analysis, group, f"{inside_now[0]} {'now includes' if inside_now[1] else 'no longer includes'} "
                f"the published figure of {reference} ({measure}, {value:g} years)",
                "includes it" if inside_then[1] else "excludes it", "includes it" if inside_now[1] else "excludes it"))
    return tuple(out)


def changes_since(release: Mapping[str, Any] | None, results: ReviewResults,
                  files: Mapping[str, str] | None = None) -> ChangeLog:
    """This run against the latest named version ``release`` (None: there is none). ``files`` are the digests of
    this run's input files, when known, to say whether the inputs are the release's."""
    if release is None:
        return ChangeLog(None)
    now = summary(results)
    reports_added, reports_removed = _added_removed(release["reports"], now["reports"], "study_id")
    patients_added, patients_removed = _added_removed(release["patients"], now["patients"], "patient_id")
    same = files is not None and inputs_digest(files) == release["inputs"]["sha256"]
    return ChangeLog(
        version=release["name"], label=release.get("label"),
        reports_added=reports_added, reports_removed=reports_removed,
        patients_added=patients_added, patients_removed=patients_removed,
        prisma=_prisma(release["prisma"], now["prisma"]),
        estimates=_estimates(release["analyses"], now["analyses"]),
        variants=_variants(release["analyses"], now["analyses"]),
        conclusions=_conclusions(release["analyses"], now["analyses"]), same_inputs=same)
