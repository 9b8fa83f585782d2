# Copyright (c) mmps contributors. All rights reserved.
import itertools

import numpy as np
import pytest

from mmps.evaluation.functional import (GalleryDetections, QueryContext,
                                        QueryGroundTruth, build_query_contexts,
                                        rank_queries, seqnet_query_contexts)
from .test_search import (_random_problem, _slow_reference, candidate_scores,
                          untied_queries)


def _best_matching(weights):
    """Maximum-weight matching by trying every assignment (small graphs)."""
    k, n = weights.shape
    best, pairs = -np.inf, []
    if k <= n:
        for perm in itertools.permutations(range(n), k):
            total = sum(weights[i, perm[i]] for i in range(k))
            if total > best:
                best, pairs = total, [(i, perm[i]) for i in range(k)]
    else:
        for perm in itertools.permutations(range(k), n):
            total = sum(weights[perm[j], j] for j in range(n))
            if total > best:
                best, pairs = total, [(perm[j], j) for j in range(n)]
    return pairs


def _cbgm_embeddings(query_embeddings, det_embeddings, det_image, galleries,
                     contexts, k1):
    """SeqNet's re-scoring, one query and image at a time.

    Returns, per query, a dict image -> re-scored similarities of the
    image's detections (in detection order).
    """
    rescored = []
    for q, gallery in enumerate(galleries):
        sims = {}
        flat = []
        for image in gallery:
            dets = np.flatnonzero(det_image == image)
            if not len(dets):
                continue
            sims[image] = [
                float(det_embeddings[d] @ query_embeddings[q]) for d in dets
            ]
            flat += [(s, image) for s in sims[image]]
        top = sorted(flat, key=lambda t: t[0])[-k1:]
        for image in {image for _, image in top}:
            dets = np.flatnonzero(det_image == image)
            weights = np.array([[float(p @ det_embeddings[d]) for d in dets]
                                for p in contexts[q]])
            weights[0] = sims[image]
            pairs = _best_matching(weights)
            matched = max(weights[i, j] for i, j in pairs)
            for i, j in pairs:
                if i == 0:
                    sims[image][j] = matched
        rescored.append(sims)
    return rescored


def _unit(rng, *shape):
    x = rng.normal(size=shape)
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _contexts(rng, query_embeddings, k2):
    dim = query_embeddings.shape[1]
    counts = rng.integers(1, k2 + 1, len(query_embeddings))
    embeddings = np.zeros((len(query_embeddings), k2, dim), np.float32)
    embeddings[:, 0] = query_embeddings
    for q, count in enumerate(counts):
        embeddings[q, 1:count] = _unit(rng, count - 1, dim)
    return QueryContext(embeddings, counts)


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('k1', [3, 10])
@pytest.mark.parametrize('dense', [False, True])
def test_cbgm_matches_the_reference_loop(seed, k1, dense):
    query_embeddings, detections, galleries, gt = _random_problem(seed)
    context = _contexts(np.random.default_rng(seed), query_embeddings, 3)
    rescored = _cbgm_embeddings(query_embeddings, detections.embeddings,
                                detections.image_index, galleries, [
                                    context.embeddings[q, :context.counts[q]]
                                    for q in range(len(galleries))
                                ], k1)
    # the reference loop ranks with the re-scored similarities
    expected_ap, expected_hits = _slow_reference(
        query_embeddings,
        detections.boxes,
        detections.embeddings,
        detections.image_index,
        galleries,
        gt,
        similarities=rescored)
    scores = query_embeddings @ detections.embeddings.T if dense else None
    results = rank_queries(
        query_embeddings,
        detections,
        galleries,
        gt,
        10,
        scores,
        context,
        k1,
        chunk_size=7)
    valid = untied_queries(
        expected_ap,
        candidate_scores(query_embeddings, detections.embeddings,
                         detections.image_index, galleries, rescored))
    np.testing.assert_allclose(
        results.average_precision[valid], expected_ap[valid], atol=1e-6)
    for i, k in enumerate((1, 5, 10)):
        hits = (results.first_hit_rank >= 0) & (results.first_hit_rank < k)
        np.testing.assert_array_equal(hits[valid], expected_hits[valid, i])
    # the ten best re-scored similarities of each query, as the loop's
    for q, sims in enumerate(rescored):
        best = sorted((v for image in sims for v in sims[image]),
                      reverse=True)[:10]
        np.testing.assert_allclose(
            results.top_scores[q, :len(best)], best, atol=1e-6)
    # CBGM re-scored some of the best candidates
    plain = rank_queries(query_embeddings, detections, galleries, gt, 10)
    assert not np.allclose(plain.top_scores, results.top_scores)


def test_cbgm_by_hand():
    """Query q, context person p; an image with detections d1, d2.

    q.d1 = 0.6, q.d2 = 0.5, p.d1 = 0.7, p.d2 = 0: the best matching is
    q-d2, p-d1 (1.2 > 0.6), so d2 (the person) rises to max(0.5, 0.7).
    """
    q = np.array([1, 0, 0, 0], np.float32)
    d1 = np.array([0.6, 0.8, 0, 0], np.float32)
    d2 = np.array([0.5, 0, np.sqrt(0.75), 0], np.float32)
    p = np.array([0, 0.875, 0, np.sqrt(1 - 0.875**2)], np.float32)
    detections = GalleryDetections(
        boxes=np.array([[0, 0, 20, 40], [30, 0, 50, 40]], np.float32),
        embeddings=np.stack([d1, d2]),
        image_index=np.array([0, 0]),
        num_images=1)
    gt = QueryGroundTruth(
        np.array([0]), np.array([0]), np.array([[30, 0, 50, 40]], np.float32))
    plain = rank_queries(q[None], detections, [np.array([0])], gt)
    assert plain.first_hit_rank[0] == 1
    assert plain.average_precision[0] == pytest.approx(0.5)
    context = QueryContext(np.stack([q, p])[None], np.array([2]))
    matched = rank_queries(
        q[None], detections, [np.array([0])], gt, context=context)
    assert matched.first_hit_rank[0] == 0
    assert matched.average_precision[0] == pytest.approx(1.0)
    assert matched.top_scores[0, :2] == pytest.approx([0.7, 0.6], abs=1e-5)
    # the query alone as context changes nothing
    alone = QueryContext(np.stack([q, p])[None], np.array([1]))
    unchanged = rank_queries(
        q[None], detections, [np.array([0])], gt, context=alone)
    assert unchanged.first_hit_rank[0] == 1


def test_build_query_contexts():
    rng = np.random.default_rng(0)
    query = _unit(rng, 2, 4)
    feats = _unit(rng, 4, 4)
    boxes = np.array(
        [[0, 0, 10, 20], [1, 0, 11, 20], [50, 0, 60, 20], [80, 0, 90, 20]],
        np.float32)
    scores = np.array([0.99, 0.6, 0.7, 0.9], np.float32)
    context = build_query_contexts(
        query,
        np.array([[0, 0, 10, 20], [0, 0, 10, 20]], np.float32),
        [(boxes, scores, feats), None],
        num_persons=3,
        overlap_iou=0.4)
    # query 0: itself, then the non-overlapping detections by score (3, 2);
    # detection 1 overlaps the query box (IoU 0.82), 0 is the query itself
    assert context.counts.tolist() == [3, 1]
    np.testing.assert_array_equal(context.embeddings[0],
                                  np.stack([query[0], feats[3], feats[2]]))
    np.testing.assert_array_equal(context.embeddings[1, 0], query[1])
    assert not context.embeddings[1, 1:].any()


def test_seqnet_query_contexts():
    rng = np.random.default_rng(1)
    query = _unit(rng, 3, 4)
    feats = _unit(rng, 4, 4)
    # by decreasing score: another person, the query box come back
    # rescaled (IoU 0.995 > 0.99), two more persons
    boxes = np.array(
        [[50, 0, 60, 20], [0, 0, 10, 20.05], [80, 0, 90, 20], [20, 0, 30, 20]],
        np.float32)
    query_boxes = np.array([[0, 0, 10, 20]] * 3, np.float32)
    persons = [(boxes, feats), (boxes[:0], feats[:0]),
               (boxes[1:2], feats[1:2])]
    context = seqnet_query_contexts(query, query_boxes, persons, 3)
    # query 0: itself, then the first two others in their order (0, 2);
    # query 1: no persons; query 2: only itself found
    assert context.counts.tolist() == [3, 1, 1]
    np.testing.assert_array_equal(context.embeddings[0],
                                  np.stack([query[0], feats[0], feats[2]]))
    np.testing.assert_array_equal(context.embeddings[1:, 0], query[1:])
    assert not context.embeddings[1:, 1:].any()
    alone = seqnet_query_contexts(query, query_boxes, persons, 1)
    assert alone.counts.tolist() == [1, 1, 1]
    np.testing.assert_array_equal(alone.embeddings[:, 0], query)
