# Copyright (c) mmps contributors. All rights reserved.
"""Precision and recall of a similarity threshold, and choosing one.

A search that keeps the matches whose similarity is at least ``t``
(``min_similarity``) keeps, of labelled candidates (see
:func:`mmps.evaluation.functional.label_candidates`), the true and false
ones with similarity ``>= t``. Its precision is the true share of them, its
recall the true ones over the ground truth to find (detections the
detector missed count as misses).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class PrecisionRecallCurve:
    """True and false matches kept at each threshold.

    Attributes:
        thresholds (np.ndarray): Increasing thresholds, shape (T, ).
        true_matches (np.ndarray): True candidates with similarity >= each
            threshold, shape (T, ).
        false_matches (np.ndarray): False ones, shape (T, ).
        num_positives (int): The true matches there are to find.
    """
    thresholds: np.ndarray
    true_matches: np.ndarray
    false_matches: np.ndarray
    num_positives: int

    @property
    def precision(self) -> np.ndarray:
        """True matches over kept matches; 1 where none is kept, (T, )."""
        kept = self.true_matches + self.false_matches
        return self.true_matches / np.maximum(kept, 1) + (kept == 0)

    @property
    def recall(self) -> np.ndarray:
        """True matches over the positives (NaN without positives), (T, )."""
        if self.num_positives == 0:
            return np.full(len(self.thresholds), np.nan)
        return self.true_matches / self.num_positives

    def at(self, thresholds: np.ndarray) -> 'PrecisionRecallCurve':
        """The curve at other thresholds.

        Args:
            thresholds (np.ndarray): Increasing thresholds, shape (S, ).

        Returns:
            PrecisionRecallCurve: Matches kept at each of them.
        """
        thresholds = np.asarray(thresholds, dtype=np.float64)
        # the candidates kept at t are those kept at the first curve
        # threshold >= t; past the last, none
        position = np.searchsorted(self.thresholds, thresholds, side='left')
        true_matches = np.append(self.true_matches, 0)[position]
        false_matches = np.append(self.false_matches, 0)[position]
        return PrecisionRecallCurve(thresholds, true_matches, false_matches,
                                    self.num_positives)


def precision_recall_curve(similarities: np.ndarray, labels: np.ndarray,
                           num_positives: int) -> PrecisionRecallCurve:
    """Matches kept at every distinct similarity taken as the threshold.

    Args:
        similarities (np.ndarray): Similarity of each candidate, (K, ).
        labels (np.ndarray): Whether each is a true match, bool, (K, ).
        num_positives (int): The true matches there are to find (at least
            ``labels.sum()``; more when some were not detected).

    Returns:
        PrecisionRecallCurve: At the K' distinct similarities, increasing.
    """
    similarities = np.asarray(similarities).reshape(-1)
    labels = np.asarray(labels, dtype=bool).reshape(-1)
    if similarities.shape != labels.shape:
        raise ValueError(f'{len(similarities)} similarities but '
                         f'{len(labels)} labels')
    if not np.isfinite(similarities).all():
        raise ValueError('similarities must be finite')
    if labels.sum() > num_positives:
        raise ValueError(f'{int(labels.sum())} candidates are labelled true '
                         f'but num_positives is {num_positives}')
    order = np.argsort(similarities, kind='stable')
    ordered = similarities[order]
    # counts kept at each sorted position (candidates at or after it)
    true_after = np.cumsum(labels[order][::-1])[::-1]
    count_after = np.arange(len(ordered), 0, -1)
    # a threshold keeps all candidates tied with it: the first of each run
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return PrecisionRecallCurve(
        thresholds=ordered[first].astype(np.float64),
        true_matches=true_after[first],
        false_matches=count_after[first] - true_after[first],
        num_positives=int(num_positives))


def choose_threshold(curve: PrecisionRecallCurve,
                     min_precision: Optional[float] = None,
                     max_false_matches: Optional[float] = None
                     ) -> Optional[float]:  # yapf: disable
    """The smallest threshold meeting a target.

    Precision is not monotone in the threshold; the threshold chosen for
    ``min_precision`` is the smallest curve threshold ``t`` at which the
    precision is at least the target at ``t`` *and at every higher
    threshold* that keeps a match, so that raising ``min_similarity``
    above the chosen value never falls below the target. False matches
    only decrease with the threshold: for ``max_false_matches`` it is the
    smallest threshold keeping at most that many.

    Args:
        curve (PrecisionRecallCurve): From :func:`precision_recall_curve`.
        min_precision (float, optional): Target precision in (0, 1].
        max_false_matches (float, optional): Most false matches kept.

    Returns:
        float | None: The threshold, one of the curve's (a candidate's
        similarity); None when no threshold keeping a match meets the
        target.
    """
    if (min_precision is None) == (max_false_matches is None):
        raise ValueError('give exactly one of min_precision and '
                         'max_false_matches')
    if min_precision is not None:
        if not 0 < min_precision <= 1:
            raise ValueError(f'min_precision must be in (0, 1], got '
                             f'{min_precision}')
        # the lowest precision at this threshold or any higher one
        worst_above = np.minimum.accumulate(curve.precision[::-1])[::-1]
        meets = worst_above >= min_precision
    else:
        if max_false_matches < 0:
            raise ValueError(f'max_false_matches must be >= 0, got '
                             f'{max_false_matches}')
        meets = curve.false_matches <= max_false_matches
    # a threshold that keeps no match meets every target and says nothing
    meets &= (curve.true_matches + curve.false_matches) > 0
    if not meets.any():
        return None
    return float(curve.thresholds[np.argmax(meets)])
