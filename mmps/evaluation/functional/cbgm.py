# Copyright (c) mmps contributors. All rights reserved.
"""Context Bipartite Graph Matching (CBGM), a re-scoring at test time.

From SeqNet (Li and Miao, AAAI 2021), as its reference evaluation computes
it: for each query, the gallery images of its ``k1`` most similar
detections are re-scored. In each of them, the query's context (the query
person, then the ``k2 - 1`` most confident other persons detected in the
query image) and the image's detections form a bipartite graph weighted by
embedding similarity; a maximum-weight matching is found, and if the query
person is matched to a detection, that detection's similarity becomes the
largest similarity among the matched pairs. Other detections keep theirs.

Two rules give the context persons. mmps' (``context='gallery'``) takes
them from the gallery predictions of the query image (the query image is a
test image on CUHK-SYSU and PRW), leaving out the detections that overlap
the query box (as SeqNet's NMS of the query box, score 1, with the
detections does); it needs no extra model pass. SeqNet's
(``context='seqnet'``, :func:`seqnet_query_contexts`) runs the query image
through the model once more with the query box forced among its
detections, which mmps' SeqNet does with ``test_cfg.rcnn.query_context``;
the two differ where a detection suppressed in gallery mode by one that
the query box suppresses comes back. A query whose image has no other
person has the query alone as context, and CBGM leaves its scores as they
are. SeqNet's reference applies CBGM to the protocol's gallery only
(TestG50 for CUHK-SYSU's full set, a TODO there); mmps to the whole gallery
searched.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from mmps.structures import box_iou
from mmps.utils.topk import sorted_top_k


@dataclass
class QueryContext:
    """The persons around each query, in its own image.

    Attributes:
        embeddings (np.ndarray): Unit embeddings of the context persons,
            the query itself first, zero-padded, shape (Q, K, D).
        counts (np.ndarray): Context persons of each query (at least 1,
            the query), shape (Q, ).
    """
    embeddings: np.ndarray
    counts: np.ndarray

    def take(self, indices: np.ndarray) -> 'QueryContext':
        """The contexts of some queries, in the order of ``indices``."""
        return QueryContext(self.embeddings[indices], self.counts[indices])


def _query_box_ious(
        query_boxes: np.ndarray,
        image_boxes: List[Optional[np.ndarray]]) -> List[np.ndarray]:
    """IoU of each query box with the boxes of its image.

    One call of mmdet's ``bbox_overlaps`` for all queries: a call per query
    would cost more than the rest of the context building.

    Args:
        query_boxes (np.ndarray): The query boxes, shape (Q, 4).
        image_boxes (list[np.ndarray | None]): For each query, the boxes
            of its image, (N_q, 4), or None when there are none.

    Returns:
        list[np.ndarray]: IoUs of each query, shape (N_q, ).
    """
    image_boxes = [
        np.zeros((0, 4), query_boxes.dtype) if boxes is None else boxes
        for boxes in image_boxes
    ]
    counts = [len(boxes) for boxes in image_boxes]
    if not sum(counts):
        return [np.zeros(0) for _ in counts]
    ious = box_iou(
        np.repeat(query_boxes, counts, axis=0),
        np.concatenate(image_boxes),
        is_aligned=True)
    return np.split(ious, np.cumsum(counts)[:-1])


def _contexts(query_embeddings: np.ndarray,
              other_embeddings: List[Optional[np.ndarray]],
              num_persons: int) -> QueryContext:
    """Each query first, then the first other persons of its image.

    Args:
        query_embeddings (np.ndarray): Unit embeddings of the query boxes,
            shape (Q, D).
        other_embeddings (list[np.ndarray | None]): For each query, the
            embeddings of the other persons of its image in the order they
            join the context, (N_q, D), or None for none.
        num_persons (int): Context size ``k2``, the query included: the
            first ``k2 - 1`` others are kept.

    Returns:
        QueryContext: The contexts.
    """
    num_queries, dim = query_embeddings.shape
    embeddings = np.zeros((num_queries, num_persons, dim), np.float32)
    embeddings[:, 0] = query_embeddings
    counts = np.ones(num_queries, dtype=np.int64)
    for q, others in enumerate(other_embeddings):
        if others is None:
            continue
        others = others[:num_persons - 1]
        embeddings[q, 1:1 + len(others)] = others
        counts[q] = 1 + len(others)
    return QueryContext(embeddings, counts)


def build_query_contexts(query_embeddings: np.ndarray, query_boxes: np.ndarray,
                         image_detections: List[Optional[Tuple[np.ndarray,
                                                               np.ndarray,
                                                               np.ndarray]]],
                         num_persons: int, overlap_iou: float) -> QueryContext:
    """The context of each query: itself, then its image's other persons.

    Args:
        query_embeddings (np.ndarray): Unit embeddings of the query boxes,
            shape (Q, D).
        query_boxes (np.ndarray): The query boxes, ``x1, y1, x2, y2``,
            shape (Q, 4).
        image_detections (list[tuple | None]): For each query, the
            ``(boxes (N, 4), scores (N, ), embeddings (N, D))`` detected in
            its image, or None when the image was not searched.
        num_persons (int): Context size ``k2``, the query included.
        overlap_iou (float): Detections whose IoU with the query box
            reaches this are the query person itself and left out.

    Returns:
        QueryContext: The contexts.
    """
    ious = _query_box_ious(query_boxes, [
        found[0] if found is not None else None for found in image_detections
    ])
    others = []
    for q, found in enumerate(image_detections):
        if found is None:
            others.append(None)
            continue
        _, scores, feats = found
        kept = np.flatnonzero(ious[q] < overlap_iou)
        others.append(feats[kept[np.argsort(-scores[kept], kind='stable')]])
    return _contexts(query_embeddings, others, num_persons)


def seqnet_query_contexts(query_embeddings: np.ndarray,
                          query_boxes: np.ndarray,
                          image_persons: List[Tuple[np.ndarray, np.ndarray]],
                          num_persons: int,
                          same_box_iou: float = 0.99) -> QueryContext:
    """The context of each query by SeqNet's rule.

    SeqNet searches the query image in gallery mode with the query box
    forced among the detections (score 1, before NMS) and takes the first
    ``k2`` persons found: the query, then the most confident others. mmps'
    SeqNet gives those persons in each query's ``context_instances``
    (``test_cfg.rcnn.query_context=True``), the query box among them.

    Args:
        query_embeddings (np.ndarray): Unit embeddings of the query boxes,
            shape (Q, D).
        query_boxes (np.ndarray): The query boxes, shape (Q, 4).
        image_persons (list[tuple]): For each query, the ``(boxes (K, 4),
            embeddings (K, D))`` of its image's persons, by decreasing
            score, the query box among them.
        num_persons (int): Context size ``k2``, the query included.
        same_box_iou (float): A person whose box overlaps the query box
            this much is the query itself (the forced box comes back
            rescaled, so not bit for bit). Defaults to 0.99.

    Returns:
        QueryContext: The contexts.
    """
    ious = _query_box_ious(query_boxes, [boxes for boxes, _ in image_persons])
    others = [
        feats[ious[q] < same_box_iou]
        for q, (_, feats) in enumerate(image_persons)
    ]
    return _contexts(query_embeddings, others, num_persons)


def context_rescore(scores: np.ndarray, candidate_dets: np.ndarray,
                    det_embeddings: np.ndarray, det_images: np.ndarray,
                    context: QueryContext, top_k: int) -> None:
    """Re-score the candidates of a chunk of queries with CBGM, in place.

    One small assignment problem is solved per query and re-scored image
    (at most ``top_k`` per query), with ``scipy``'s Hungarian solver.

    Args:
        scores (np.ndarray): Similarities of each query's candidates,
            ``-inf`` in the padding, shape (c, L). Modified in place.
        candidate_dets (np.ndarray): Detection index of each candidate, -1
            in the padding, shape (c, L).
        det_embeddings (np.ndarray): Unit embeddings of all gallery
            detections, shape (M, D).
        det_images (np.ndarray): Gallery image of each detection, (M, ).
        context (QueryContext): The chunk's query contexts.
        top_k (int): ``k1``: the images of this many most similar
            candidates are re-scored.
    """
    keep = min(top_k, scores.shape[1])
    if not keep:
        return
    top, _ = sorted_top_k(scores, keep)
    candidate_images = np.where(candidate_dets >= 0,
                                det_images[candidate_dets], -1)
    top_images = np.take_along_axis(candidate_images, top, 1)
    for r in range(len(scores)):
        people = context.embeddings[r, :context.counts[r]]
        for image in np.unique(top_images[r][top_images[r] >= 0]):
            columns = np.flatnonzero(candidate_images[r] == image)
            weights = people @ det_embeddings[candidate_dets[r, columns]].T
            # the query's own row: exactly the scores being ranked
            weights[0] = scores[r, columns]
            rows, cols = linear_sum_assignment(weights, maximize=True)
            if len(rows) and rows[0] == 0:
                scores[r, columns[cols[0]]] = weights[rows, cols].max()
