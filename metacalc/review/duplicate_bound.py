"""Which pairs of patients the duplicate screen looks at: per-patient caps that leave out, without
looking at them, the pairs that cannot reach the threshold (``DuplicateScorer._above_bound`` says why none
that can is left out, and ``BoundPlan`` how the blocks are chosen). Arrays in, blocks of indices out."""

from __future__ import annotations

import math
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from metacalc.review.duplicate_weights import (AGE_GAP_KNOWN, AGE_GAP_UNKNOWN, DISAGREE, MENTIONED, NO_SHARED,
                                               ONSET, SHARED_AUTHOR, WORDING, interval_cap, interval_weight)


class ScreenFacts(Protocol):
    """What the plan reads from the screen's scorer (``DuplicateScorer``), named here so that the plan does not
    import the scorer that imports it."""

    @property
    def patients(self) -> Sequence[Any]: ...

    @property
    def sd(self) -> Mapping[str, float]: ...

    @property
    def sex_count(self) -> Mapping[str, int]: ...

    @property
    def country_count(self) -> Mapping[str, int]: ...

    @property
    def drug_count(self) -> Mapping[str, int]: ...

    @property
    def treated(self) -> int: ...

    @property
    def authors(self) -> Mapping[str, Any]: ...

    def _table(self, component: str, values: list, counts: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]: ...

    def _course_cap(self, drug: str, facts: Mapping[str, Any]) -> float: ...

    def _partners_by_author(self) -> tuple[dict[int, np.ndarray], np.ndarray]: ...

    def _partners_by_wording(self) -> dict[int, np.ndarray]: ...


class BoundPlan:
    """What the screen's bound reads, as arrays over the patients, and which blocks of pairs it looks at
    (``DuplicateScorer._above_bound`` says why no pair that can reach the threshold is left out).

    Two caps per patient, each the most its terms other than sex and country could add with anyone: ``any_cap``
    for every pair (every drug the patient names counted at the most it could weigh if shared), and
    ``common_cap`` for pairs of treated patients sharing only drugs of a given common set (the other drugs
    weigh "named by one report only", which is negative). A pair is looked at only if, for both patients,
    the sex and country weight of their two groups plus the cap reach the threshold."""

    BLOCK_COST = 5000  # a block of pairs costs about this many pairs' time whatever its size (its numpy calls)

    def __init__(self, scorer: ScreenFacts, threshold: float):
        patients = scorer.patients
        n = len(patients)
        self.threshold = threshold
        self.sd = scorer.sd
        self.age, self.onset = np.array([p.age for p in patients]), np.array([p.onset for p in patients])
        self.presented = np.array([p.presented for p in patients])
        self.published = np.array([p.published for p in patients])
        self.study = np.unique(np.array([p.study_id for p in patients], dtype=object), return_inverse=True)[1]
        self.sex, self.sex_table = scorer._table("sex", [p.sex for p in patients], scorer.sex_count)
        self.country, self.country_table = scorer._table("country", [p.country for p in patients],
                                                         scorer.country_count)
        drugs = {d: k for k, d in enumerate(sorted(scorer.drug_count))}
        self.names = np.zeros((n, len(drugs)), bool)
        course_cap = np.zeros((n, len(drugs)))
        for k, p in enumerate(patients):
            for drug, facts in p.drugs.items():
                self.names[k, drugs[drug]] = True
                course_cap[k, drugs[drug]] = scorer._course_cap(drug, facts)
        total = scorer.treated - 2
        count = np.array([scorer.drug_count[d] for d in drugs], float)
        both = np.where(count >= 2, np.log10((total + 2) / np.maximum(count - 1, 1)), 0.0)
        one = np.log10((1 - MENTIONED) / (1 - MENTIONED * count / (total + 2)))
        self.treated = np.asarray(self.names.any(axis=1), bool)
        self.named = self.names.astype(float)
        self.one_sum = self.named @ one
        # per drug named by row i and by j: both named, minus the two "named by one only" in one_sum
        self.row_weights = self.named * (both - 2 * one) + course_cap
        self.authors, self.author_cap = scorer._partners_by_author()
        self.wording = scorer._partners_by_wording()
        same, different = WORDING[-1]
        self.word_cap = math.log10(same / different)
        # Two reports with authors but none in common, two patients with quotes but no passage of their own in
        # common: the score's negative weights, exact for every pair but the partners (which get the caps).
        self.no_author = math.log10((1 - SHARED_AUTHOR) / NO_SHARED)
        self.no_passage = math.log10(WORDING[0][0] / WORDING[0][1])
        self.has_authors = np.array([bool(scorer.authors.get(p.study_id)) for p in patients])
        self.has_text = np.array([bool(p.text) for p in patients])
        # The age and onset weights cost most to compute (normal probabilities); a pair gets them only if the
        # rest of its bound plus the most they can add (interval_cap; 0 for a blank) reaches the threshold.
        self.age_cap = np.where(np.isnan(self.age), 0.0, interval_cap(self.sd["age"], DISAGREE["age"],
                                                                      AGE_GAP_KNOWN, AGE_GAP_UNKNOWN))
        self.onset_cap = np.where(np.isnan(self.onset), 0.0, interval_cap(
            self.sd["years to onset"], DISAGREE["years to onset"], ONSET, ONSET, max_span=0))
        # The caps. Shared author or passage: at most the patient's best gain (0 without a partner: "none in
        # common" and a blank weigh at most 0). Drugs, for a pair of treated patients: the shared ones weigh
        # "both name it" plus at most the patient's dose and response cap; the patient's others weigh "named by
        # one report only"; the partner's others, negative, are left out. An untreated patient's pairs: none.
        wording_cap = np.array([self.word_cap if k in self.wording else 0.0 for k in range(n)])
        self.other_cap = self.age_cap + self.onset_cap + self.author_cap + wording_cap
        self.gain_if_shared = self.named * np.maximum(0.0, both + course_cap - one)
        self.any_cap = self.other_cap + self.one_sum + self.gain_if_shared.sum(axis=1)
        # a group is one sex and one country (blank included): a pair's sex and country weigh exactly the
        # table's value for its two groups
        countries = self.country_table.shape[0]
        self.group = self.sex * countries + self.country
        self.group_table = (self.sex_table[:, None, :, None] + self.country_table[None, :, None, :]).reshape(
            self.sex_table.shape[0] * countries, -1)
        self.order = self.group.astype(np.int64) * n + np.arange(n)  # pairs in one set: column after row

    def common_cap(self, common) -> np.ndarray:
        """Each patient's cap for pairs of treated patients that share no drug outside ``common`` (a mask)."""
        return self.other_cap + self.one_sum + self.gain_if_shared[:, common].sum(axis=1)

    def blocks(self, common):
        """(rows, columns, ordered) blocks holding every pair that can reach the threshold: the pairs sharing a
        drug outside ``common`` among its patients; the pairs of treated patients sharing none; the pairs of
        an untreated patient (rows) with anyone."""
        for drug in np.flatnonzero(~common):
            yield from self._within(np.flatnonzero(self.names[:, drug]), self.any_cap)
        yield from self._within(np.flatnonzero(self.treated), self.common_cap(common))
        untreated = np.flatnonzero(~self.treated)
        if len(untreated):
            yield from self._against(untreated, np.arange(len(self.treated)), self.other_cap)

    def _within(self, members, cap):
        """The pairs among ``members``, a block per group of rows against the same and later groups."""
        groups = self.group[members]
        for group in np.unique(groups):
            block = self._block(members[groups == group], members[groups >= group], group, cap)
            if block is not None:
                yield (*block, True)

    def _against(self, rows, cols, cap):
        groups = self.group[rows]
        for group in np.unique(groups):
            block = self._block(rows[groups == group], cols, group, cap)
            if block is not None:
                yield (*block, False)

    def _block(self, rows, cols, group, cap):
        """The rows (all of ``group``) and columns that can reach the threshold together, or None."""
        need = self.threshold - self.group_table[group, self.group[cols]] - 1e-9
        reaching = cap[cols] >= need
        if not reaching.any():
            return None
        cols = cols[reaching]
        rows = rows[cap[rows] >= need[reaching].min()]
        return (rows, cols) if len(rows) else None

    def common_drugs(self, common: int | None = None) -> np.ndarray:
        """Which drugs are looked at together (a mask): the ``common`` ones whose patients hold the most pairs
        to look at, or by default the number of them that leaves the fewest pairs to look at in all."""
        drugs = self.names.shape[1]
        alone = [self._cost(self._within(np.flatnonzero(self.names[:, d]), self.any_cap)) for d in range(drugs)]
        costly = sorted(range(drugs), key=lambda d: (-alone[d], d))
        mask = np.zeros(drugs, bool)
        if common is not None:
            mask[costly[:common]] = True
            return mask
        treated = np.flatnonzero(self.treated)
        best, best_count, worse = math.inf, 0, 0
        for count in range(drugs + 1):
            mask[:] = False
            mask[costly[:count]] = True
            cost = sum(alone[d] for d in costly[count:]) + self._cost(self._within(treated, self.common_cap(mask)))
            if cost < best:
                best, best_count, worse = cost, count, 0
            else:
                worse += 1
                if worse >= 4:  # the cost falls, then rises: past its lowest point
                    break
        mask[:] = False
        mask[costly[:best_count]] = True
        return mask

    def _cost(self, blocks) -> int:
        return sum(len(rows) * len(cols) + self.BLOCK_COST for rows, cols, _ in blocks)

    def interval_terms(self, left, right):
        """The age and years-to-onset weights of the pairs (left[k], right[k]), as ``score`` gives them (the same
        either way round: a negative gap mirrors a positive one)."""
        gap = np.where(np.isnan(self.presented[left]) | np.isnan(self.presented[right]),
                       self.published[right] - self.published[left], self.presented[right] - self.presented[left])
        out = interval_weight(self.age[right] - self.age[left], gap, ~np.isnan(gap), self.sd["age"],
                              DISAGREE["age"], AGE_GAP_KNOWN, AGE_GAP_UNKNOWN)
        return out + interval_weight(self.onset[right] - self.onset[left], 0.0, True, self.sd["years to onset"],
                                     DISAGREE["years to onset"], ONSET, ONSET)
