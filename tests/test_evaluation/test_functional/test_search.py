# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from mmps.evaluation.functional import (GalleryDetections, QueryGroundTruth,
                                        average_precision, label_candidates,
                                        rank_queries)
from mmps.testing import near_tie_rows


def _slow_reference(query_embeddings,
                    det_boxes,
                    det_embeddings,
                    det_image,
                    galleries,
                    gt,
                    topk=(1, 5, 10),
                    similarities=None):
    """The protocol as the issue states it, one query and box at a time.

    ``similarities``, per query a dict image -> similarities of its
    detections, replaces the dot products where given.
    """
    aps, hits = [], []
    for q, gallery in enumerate(galleries):
        y_true, y_score = [], []
        count_gt = count_tp = 0
        for image in gallery:
            gt_rows = [
                r for r in range(len(gt.query_index))
                if gt.query_index[r] == q and gt.image_index[r] == image
            ]
            dets = [d for d in range(len(det_image)) if det_image[d] == image]
            sims = [
                float(det_embeddings[d] @ query_embeddings[q]) for d in dets
            ]
            if similarities is not None and image in similarities[q]:
                sims = list(similarities[q][image])
            labels = [0] * len(dets)
            if gt_rows:
                count_gt += 1
                box = gt.boxes[gt_rows[0]]
                w, h = box[2] - box[0], box[3] - box[1]
                thr = min(0.5, w * h / ((w + 10) * (h + 10)))
                for j in sorted(range(len(dets)), key=lambda j: -sims[j]):
                    d = det_boxes[dets[j]]
                    iw = max(0, min(d[2], box[2]) - max(d[0], box[0]))
                    ih = max(0, min(d[3], box[3]) - max(d[1], box[1]))
                    inter = iw * ih
                    union = (d[2] - d[0]) * (d[3] - d[1]) + w * h - inter
                    if inter / union >= thr:
                        labels[j] = 1
                        count_tp += 1
                        break
            y_true += labels
            y_score += sims
        if count_gt == 0:
            aps.append(np.nan)
            hits.append([0] * len(topk))
            continue
        ap = 0.0 if count_tp == 0 else average_precision_score(
            y_true, y_score) * count_tp / count_gt
        aps.append(ap)
        order = np.argsort(y_score)[::-1]
        ranked = np.asarray(y_true)[order]
        hits.append([min(1, ranked[:k].sum()) for k in topk])
    return np.array(aps), np.array(hits)


def candidate_scores(query_embeddings,
                     det_embeddings,
                     det_image,
                     galleries,
                     similarities=None):
    """Each query's similarities to its gallery's detections, in float64,
    ``-inf`` elsewhere (``similarities`` as in :func:`_slow_reference`)."""
    scores = np.full((len(galleries), len(det_image)), -np.inf)
    for q, gallery in enumerate(galleries):
        for image in gallery:
            dets = np.flatnonzero(det_image == image)
            if similarities is not None and image in similarities[q]:
                scores[q, dets] = similarities[q][image]
            else:
                scores[q, dets] = det_embeddings[dets].astype(
                    np.float64) @ query_embeddings[q].astype(np.float64)
    return scores


def untied_queries(expected_ap, scores):
    """Queries with ground truth whose candidates hold no near-tie: the
    fast path (float32, another summation order) must rank them exactly as
    the reference; a near-tie may rank either way."""
    valid = ~np.isnan(expected_ap) & ~near_tie_rows(scores)
    assert valid.sum() >= 0.8 * (~np.isnan(expected_ap)).sum()
    return valid


def _random_problem(seed, num_queries=30, num_images=40, dim=8):
    rng = np.random.default_rng(seed)
    det_counts = rng.integers(0, 5, num_images)
    det_image = np.repeat(np.arange(num_images), det_counts)
    xy = rng.uniform(0, 80, (len(det_image), 2))
    wh = rng.uniform(5, 40, (len(det_image), 2))
    det_boxes = np.concatenate([xy, xy + wh], 1)
    emb = rng.normal(size=(len(det_image), dim))
    det_embeddings = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(
        np.float32)
    queries = rng.normal(size=(num_queries, dim))
    query_embeddings = (queries /
                        np.linalg.norm(queries, axis=1, keepdims=True)).astype(
                            np.float32)
    galleries = [
        np.sort(rng.choice(num_images, rng.integers(5, 25), replace=False))
        for _ in range(num_queries)
    ]
    rows = []
    for q, gallery in enumerate(galleries):
        # the person is in a few images; mostly near a detection
        for image in rng.choice(gallery, rng.integers(0, 4), replace=False):
            dets = np.flatnonzero(det_image == image)
            if len(dets) and rng.random() < 0.8:
                box = det_boxes[rng.choice(dets)] + rng.normal(0, 3, 4)
            else:
                box = np.r_[rng.uniform(0, 80, 2), 0, 0]
                box[2:] = box[:2] + rng.uniform(3, 40, 2)
            rows.append((q, image, box))
    # some appearances outside the gallery are ignored
    rows.append(
        (0, int(np.setdiff1d(np.arange(num_images),
                             galleries[0])[0]), np.array([0., 0., 20., 40.])))
    gt = QueryGroundTruth(
        np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
        np.array([r[2] for r in rows]))
    detections = GalleryDetections(det_boxes, det_embeddings, det_image,
                                   num_images)
    return query_embeddings, detections, galleries, gt


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('dense', [False, True])
@pytest.mark.parametrize('chunk', [7, 32])
def test_fast_path_matches_slow_reference(seed, dense, chunk):
    query_embeddings, detections, galleries, gt = _random_problem(seed)
    expected_ap, expected_hits = _slow_reference(query_embeddings,
                                                 detections.boxes,
                                                 detections.embeddings,
                                                 detections.image_index,
                                                 galleries, gt)
    scores = query_embeddings @ detections.embeddings.T if dense else None
    results = rank_queries(
        query_embeddings,
        detections,
        galleries,
        gt,
        top=10,
        dense_scores=scores,
        chunk_size=chunk)
    valid = untied_queries(
        expected_ap,
        candidate_scores(query_embeddings, detections.embeddings,
                         detections.image_index, galleries))
    assert valid.sum() > 10 and (expected_ap[valid] > 0).sum() > 3
    np.testing.assert_allclose(
        results.average_precision[valid], expected_ap[valid], atol=1e-6)
    assert np.isnan(results.average_precision[np.isnan(expected_ap)]).all()
    for i, k in enumerate((1, 5, 10)):
        hits = (results.first_hit_rank >= 0) & (results.first_hit_rank < k)
        np.testing.assert_array_equal(hits[valid], expected_hits[valid, i])
    if valid.sum() == (~np.isnan(expected_ap)).sum():
        assert results.mean_ap() == pytest.approx(
            expected_ap[valid].mean(), abs=1e-6)


def _slow_labels(query_embeddings, detections, galleries, gt):
    """Per query, detection -> (similarity, label), one pair at a time: in
    each image, the most similar detection matching the ground truth is
    true."""
    pairs = []
    for q, gallery in enumerate(galleries):
        labelled = {}
        for image in gallery:
            boxes = [
                gt.boxes[r] for r in range(len(gt.query_index))
                if gt.query_index[r] == q and gt.image_index[r] == image
            ]
            best, best_sim = None, -np.inf
            for d in np.flatnonzero(detections.image_index == image):
                sim = float(detections.embeddings[d] @ query_embeddings[q])
                labelled[d] = [sim, False]
                if not boxes:
                    continue
                box, det = boxes[0], detections.boxes[d]
                w, h = box[2] - box[0], box[3] - box[1]
                iw = max(0, min(det[2], box[2]) - max(det[0], box[0]))
                ih = max(0, min(det[3], box[3]) - max(det[1], box[1]))
                union = (det[2] - det[0]) * (det[3] - det[1]) + w * h - iw * ih
                if iw * ih / union >= min(0.5, w * h / ((w + 10) * (h + 10))) \
                        and sim > best_sim:
                    best, best_sim = d, sim
            if best is not None:
                labelled[best][1] = True
        pairs.append(labelled)
    return pairs


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('dense', [False, True])
def test_label_candidates_match_slow_labels(seed, dense):
    query_embeddings, detections, galleries, gt = _random_problem(seed)
    expected = _slow_labels(query_embeddings, detections, galleries, gt)
    scores = query_embeddings @ detections.embeddings.T if dense else None
    found = label_candidates(
        query_embeddings,
        detections,
        galleries,
        gt,
        dense_scores=scores,
        chunk_size=7)
    assert len(found.similarities) == sum(len(p) for p in expected)
    assert found.is_true.sum() > 10
    for q, d, sim, label in zip(found.query_index, found.det_index,
                                found.similarities, found.is_true):
        assert sim == pytest.approx(expected[q][d][0], abs=1e-5)
        assert label == expected[q][d][1]
    results = rank_queries(query_embeddings, detections, galleries, gt)
    np.testing.assert_array_equal(found.num_ground_truth,
                                  results.num_ground_truth)
    np.testing.assert_array_equal(
        np.bincount(
            found.query_index[found.is_true], minlength=len(galleries)),
        results.num_true_positives)
    np.testing.assert_array_equal(found.gallery_sizes,
                                  [len(g) for g in galleries])


def _one_image_problem(det_boxes, sims, gt_boxes, extra_images=0):
    """One query; image 0 holds the person; sims set the ranking."""
    det_boxes = np.asarray(det_boxes, dtype=np.float64)
    sims = np.asarray(sims, dtype=np.float64)
    # 2-d embeddings at the angle that gives each similarity
    angles = np.arccos(np.clip(sims, -1, 1))
    det_embeddings = np.stack([np.cos(angles), np.sin(angles)],
                              1).astype(np.float32)
    det_image = np.zeros(len(det_boxes), dtype=np.int64)
    if extra_images:
        det_image[-extra_images:] = np.arange(1, extra_images + 1)
    detections = GalleryDetections(det_boxes, det_embeddings, det_image,
                                   1 + extra_images)
    gt = QueryGroundTruth(
        np.zeros(len(gt_boxes), np.int64), np.arange(len(gt_boxes)),
        np.asarray(gt_boxes, dtype=np.float64))
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    return rank_queries(query, detections, [np.arange(1 + extra_images)], gt)


GT = [10, 10, 60, 110]  # 50 x 100


def test_found_at_rank_one():
    results = _one_image_problem([GT, [100, 10, 150, 110]], [0.9, 0.2], [GT])
    assert results.average_precision[0] == pytest.approx(1.0)
    assert results.first_hit_rank[0] == 0 and results.top_k(1) == 1.0


def test_found_at_rank_three():
    # two better-ranked wrong detections in other images
    results = _one_image_problem([GT, [0, 0, 5, 5], [0, 0, 5, 5]],
                                 [0.5, 0.9, 0.8], [GT],
                                 extra_images=2)
    assert results.average_precision[0] == pytest.approx(1 / 3)
    assert results.first_hit_rank[0] == 2
    assert (results.top_k(1), results.top_k(5)) == (0.0, 1.0)


def test_not_detected_counts_in_recall():
    # the person is in two images; only the first has a matching detection
    results = _one_image_problem([GT, [200, 0, 210, 20]], [0.9, 0.95],
                                 [GT, [0, 0, 50, 100]],
                                 extra_images=1)
    # ranked: wrong (0.95), right (0.9): AP 1/2, recall 1/2
    assert results.average_precision[0] == pytest.approx(0.25)
    assert results.num_ground_truth[0] == 2
    assert results.num_true_positives[0] == 1


def test_only_the_most_similar_matching_detection_counts():
    shifted = [12, 12, 62, 112]
    results = _one_image_problem([GT, shifted], [0.6, 0.8], [GT])
    # both overlap the ground truth; only the more similar one is a hit,
    # the other is a false positive ranked second
    assert results.top_correct[0].tolist()[:2] == [True, False]
    assert results.average_precision[0] == pytest.approx(1.0)
    results = _one_image_problem([GT, shifted, [300, 0, 310, 9]],
                                 [0.6, 0.5, 0.7], [GT])
    assert results.average_precision[0] == pytest.approx(0.5)


def test_small_boxes_need_less_overlap():
    # 10 x 10: threshold min(0.5, 100 / (20 * 20)) = 0.25
    tiny = [0, 0, 10, 10]
    shifted_tiny = [5, 0, 15, 10]  # IoU 50 / 150 = 1/3
    assert _one_image_problem([shifted_tiny], [0.9],
                              [tiny]).average_precision[0] == 1.0
    # 60 x 100: threshold 0.5; the same IoU of 1/3 misses
    big = [0, 0, 60, 100]
    shifted_big = [30, 0, 90, 100]  # IoU 3000 / 9000 = 1/3
    assert _one_image_problem([shifted_big], [0.9],
                              [big]).average_precision[0] == 0.0
    # 20 x 30: 600 / (30 * 40) = 0.5 exactly; IoU 200 / 600 misses
    assert _one_image_problem([[0, 0, 10, 20]], [0.9],
                              [[0, 0, 20, 30]]).average_precision[0] == 0.0


def test_average_precision_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y_true = rng.random(50) < 0.3
        y_score = rng.integers(0, 8, 50).astype(float)  # many ties
        if not y_true.any():
            continue
        assert average_precision(y_true, y_score) == pytest.approx(
            average_precision_score(y_true, y_score), abs=1e-12)


@pytest.mark.parametrize('dense', [False, True])
def test_chunk_without_ground_truth(dense):
    """A chunk of queries none of which has its person in its gallery
    (PRW's cross-camera setting has such queries) is scored like the slow
    reference: no AP for them, the other chunks unchanged."""
    query_embeddings, detections, galleries, gt = _random_problem(0)
    chunk = 7
    keep = gt.query_index >= chunk
    gt = QueryGroundTruth(gt.query_index[keep], gt.image_index[keep],
                          gt.boxes[keep])
    expected_ap, expected_hits = _slow_reference(query_embeddings,
                                                 detections.boxes,
                                                 detections.embeddings,
                                                 detections.image_index,
                                                 galleries, gt)
    assert np.isnan(expected_ap[:chunk]).all()
    results = rank_queries(
        query_embeddings,
        detections,
        galleries,
        gt,
        dense_scores=query_embeddings @ detections.embeddings.T
        if dense else None,
        chunk_size=chunk)
    assert np.isnan(results.average_precision[:chunk]).all()
    assert (results.first_hit_rank[:chunk] == -1).all()
    assert (results.num_ground_truth[:chunk] == 0).all()
    # the chunk's ranked lists are still kept
    assert (results.top_detections[:chunk, 0] >= 0).all()
    valid = untied_queries(
        expected_ap,
        candidate_scores(query_embeddings, detections.embeddings,
                         detections.image_index, galleries))
    assert valid.sum() > 10
    np.testing.assert_allclose(
        results.average_precision[valid], expected_ap[valid], atol=1e-6)
    hits = (results.first_hit_rank >= 0) & (results.first_hit_rank < 1)
    np.testing.assert_array_equal(hits[valid], expected_hits[valid, 0])


def test_no_ground_truth_and_empty_galleries():
    """No appearance at all, and a chunk whose galleries hold no image:
    every query has no AP, nothing is found, nothing crashes."""
    query_embeddings, detections, galleries, _ = _random_problem(1)
    galleries = [np.zeros(0, np.int64)] * 3 + list(galleries[3:])
    empty = QueryGroundTruth(
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)))
    results = rank_queries(
        query_embeddings, detections, galleries, empty, chunk_size=3)
    assert np.isnan(results.average_precision).all()
    assert (results.first_hit_rank == -1).all()
    assert (results.top_detections[:3] == -1).all()
    assert (results.top_detections[3:, 0] >= 0).all()
    assert results.mean_ap() == 0.0 and results.top_k(1) == 0.0


def test_label_candidates_one_true_match_per_appearance():
    # two boxes on the person: only the more similar is true; a stranger
    # more similar than both is false; image 1 does not show the person
    sims = np.array([0.5, 0.9, 0.95, 0.7])
    angles = np.arccos(sims)
    embeddings = np.stack([np.cos(angles), np.sin(angles)],
                          1).astype(np.float32)
    detections = GalleryDetections(
        np.array([GT, [12, 10, 62, 110], [100, 10, 150, 110], GT],
                 dtype=np.float64), embeddings, np.array([0, 0, 0, 1]), 2)
    gt = QueryGroundTruth(np.array([0]), np.array([0]), np.array([GT], float))
    found = label_candidates(
        np.array([[1.0, 0.0]], np.float32), detections, [np.arange(2)], gt)
    np.testing.assert_array_equal(found.det_index, [0, 1, 2, 3])
    np.testing.assert_allclose(found.similarities, sims, atol=1e-6)
    np.testing.assert_array_equal(found.is_true, [False, True, False, False])
    np.testing.assert_array_equal(found.num_ground_truth, [1])
