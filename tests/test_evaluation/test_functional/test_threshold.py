# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest

from mmps.evaluation.functional import choose_threshold, precision_recall_curve

# six candidates, one tie; 5 positives: one was never detected
SIMILARITIES = [0.9, 0.8, 0.8, 0.7, 0.6, 0.5]
LABELS = [True, False, True, True, False, True]


def test_hand_computed_curve():
    curve = precision_recall_curve(SIMILARITIES, LABELS, 5)
    np.testing.assert_allclose(curve.thresholds, [0.5, 0.6, 0.7, 0.8, 0.9])
    np.testing.assert_array_equal(curve.true_matches, [4, 3, 3, 2, 1])
    np.testing.assert_array_equal(curve.false_matches, [2, 2, 1, 1, 0])
    np.testing.assert_allclose(curve.precision,
                               [4 / 6, 3 / 5, 3 / 4, 2 / 3, 1])
    np.testing.assert_allclose(curve.recall, [0.8, 0.6, 0.6, 0.4, 0.2])


@pytest.mark.parametrize(
    'target, expected',
    [
        (0.6, 0.5),
        # 0.5 keeps 4/6 >= 0.65, but raising it to 0.6 gives 3/5: the
        # chosen threshold must hold the target above it too
        (0.65, 0.7),
        (0.7, 0.9),
        (1.0, 0.9),
    ])
def test_hand_computed_precision_choice(target, expected):
    curve = precision_recall_curve(SIMILARITIES, LABELS, 5)
    assert choose_threshold(
        curve, min_precision=target) == pytest.approx(expected)


@pytest.mark.parametrize('most, expected', [(0, 0.9), (1, 0.7), (1.5, 0.7),
                                            (2, 0.5)])
def test_hand_computed_false_match_choice(most, expected):
    curve = precision_recall_curve(SIMILARITIES, LABELS, 5)
    assert choose_threshold(
        curve, max_false_matches=most) == pytest.approx(expected)


def test_unreachable_target_gives_none():
    curve = precision_recall_curve([0.9, 0.5], [False, True], 1)
    assert choose_threshold(curve, min_precision=0.6) is None
    assert choose_threshold(curve, max_false_matches=0) is None
    empty = precision_recall_curve(np.zeros(0), np.zeros(0, bool), 3)
    assert choose_threshold(empty, min_precision=0.5) is None


def test_curve_at_other_thresholds():
    curve = precision_recall_curve(SIMILARITIES, LABELS, 5)
    at = curve.at([0.0, 0.75, 0.8, 0.95])
    np.testing.assert_array_equal(at.true_matches, [4, 2, 2, 0])
    np.testing.assert_array_equal(at.false_matches, [2, 1, 1, 0])
    # nothing kept: precision 1 by convention, recall 0
    np.testing.assert_allclose(at.precision, [4 / 6, 2 / 3, 2 / 3, 1])
    np.testing.assert_allclose(at.recall, [0.8, 0.4, 0.4, 0])


def _slow_choice(similarities, labels, target):
    """Try thresholds from the smallest; keep the first whose precision
    holds at it and every higher one."""
    thresholds = sorted(set(similarities))
    for i, t in enumerate(thresholds):
        fine = True
        for higher in thresholds[i:]:
            kept = [lab for s, lab in zip(similarities, labels) if s >= higher]
            if sum(kept) / len(kept) < target:
                fine = False
                break
        if fine:
            return t
    return None


@pytest.mark.parametrize('seed', range(5))
def test_matches_slow_loop(seed):
    rng = np.random.default_rng(seed)
    # rounded: many ties; positives more similar on average
    labels = rng.random(300) < 0.3
    similarities = np.round(
        rng.normal(np.where(labels, 0.6, 0.3), 0.2).astype(np.float32), 2)
    num_positives = int(labels.sum()) + 7
    curve = precision_recall_curve(similarities, labels, num_positives)
    for i, t in enumerate(curve.thresholds):
        kept = similarities >= t
        assert curve.true_matches[i] == (kept & labels).sum()
        assert curve.false_matches[i] == (kept & ~labels).sum()
    assert len(curve.thresholds) == len(set(similarities.tolist()))
    for target in (0.5, 0.7, 0.9):
        expected = _slow_choice(similarities.tolist(), labels.tolist(), target)
        assert choose_threshold(curve, min_precision=target) == expected
    for most in (0, 3, 20):
        expected = min(
            t for t in set(similarities.tolist())
            if (~labels & (similarities >= t)).sum() <= most)
        assert choose_threshold(curve, max_false_matches=most) == expected


def test_bad_input():
    with pytest.raises(ValueError, match='3 similarities but 2 labels'):
        precision_recall_curve([0.1, 0.2, 0.3], [True, False], 1)
    with pytest.raises(
            ValueError,
            match='2 candidates are labelled true '
            'but num_positives is 1'):
        precision_recall_curve([0.1, 0.2], [True, True], 1)
    with pytest.raises(ValueError, match='finite'):
        precision_recall_curve([np.nan], [True], 1)
    curve = precision_recall_curve([0.1], [True], 1)
    with pytest.raises(ValueError, match='exactly one'):
        choose_threshold(curve)
    with pytest.raises(ValueError, match=r'in \(0, 1\]'):
        choose_threshold(curve, min_precision=1.5)
