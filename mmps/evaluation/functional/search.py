# Copyright (c) mmps contributors. All rights reserved.
"""Vectorised person search ranking: AP and top-k of every query.

The numbers are those of the community's reference evaluation (the
``eval_search_cuhk`` / ``eval_search_prw`` functions of the OIM and SeqNet
code), computed with matrix operations instead of loops over queries,
gallery images and boxes:

- a query's candidates are the detections (score >= threshold) of the
  images of its gallery, ranked by the dot product of unit embeddings;
- in each gallery image that holds the query person, only the most similar
  detection whose IoU with the ground truth reaches
  ``min(0.5, w * h / ((w + 10) * (h + 10)))`` is a true positive;
- AP is sklearn's ``average_precision_score`` of the ranked list (tied
  scores form one threshold) times the recall rate (true positives over
  gallery images that hold the person); 0 when nothing is found;
- top-k is 1 when a true positive is among the k best-ranked candidates.

Queries whose gallery holds no image of the person (possible in the
cross-camera setting) have no AP; they are counted and left out of the
means, where the reference code would divide by zero.

With a :class:`~mmps.evaluation.functional.cbgm.QueryContext`, the
similarities are first re-scored by SeqNet's CBGM (see
:mod:`mmps.evaluation.functional.cbgm`).
"""
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence

import numpy as np

from mmps.structures import box_iou
from mmps.utils.topk import sorted_top_k
from .cbgm import QueryContext, context_rescore
from .segments import expand_segments


@dataclass
class GalleryDetections:
    """Detections of all gallery images, concatenated.

    Attributes:
        boxes (np.ndarray): ``x1, y1, x2, y2``, shape (M, 4).
        embeddings (np.ndarray): Unit embeddings, shape (M, D), float32.
        image_index (np.ndarray): Gallery image of each detection, sorted,
            shape (M, ).
        num_images (int): Number of gallery images G.
    """
    boxes: np.ndarray
    embeddings: np.ndarray
    image_index: np.ndarray
    num_images: int

    def __post_init__(self) -> None:
        counts = np.bincount(self.image_index, minlength=self.num_images)
        #: first detection and number of detections of each image, (G, )
        self.det_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.det_count = counts


@dataclass
class QueryGroundTruth:
    """Where each query person is, in the gallery images.

    Attributes:
        query_index (np.ndarray): Query of each appearance, shape (P, ).
        image_index (np.ndarray): Gallery image of each appearance, (P, ).
        boxes (np.ndarray): Ground-truth box ``x1, y1, x2, y2``, (P, 4).
    """
    query_index: np.ndarray
    image_index: np.ndarray
    boxes: np.ndarray


@dataclass
class SearchResults:
    """Per-query results.

    Attributes:
        average_precision (np.ndarray): AP of each query, NaN where its
            gallery holds no image of the person, shape (Q, ).
        first_hit_rank (np.ndarray): Rank (from 0) of the best-ranked true
            positive, ``-1`` where none was found, shape (Q, ).
        num_ground_truth (np.ndarray): Gallery images holding the person,
            shape (Q, ).
        num_true_positives (np.ndarray): True positives found, shape (Q, ).
        top_detections (np.ndarray): The best-ranked candidates (detection
            indices, -1 padded), shape (Q, T).
        top_scores (np.ndarray): Their similarities, shape (Q, T).
        top_correct (np.ndarray): Whether each is a true positive, (Q, T).
    """
    average_precision: np.ndarray
    first_hit_rank: np.ndarray
    num_ground_truth: np.ndarray
    num_true_positives: np.ndarray
    top_detections: np.ndarray
    top_scores: np.ndarray
    top_correct: np.ndarray

    def mean_ap(self) -> float:
        """mAP over the queries that have ground truth in their gallery."""
        valid = ~np.isnan(self.average_precision)
        return float(self.average_precision[valid].mean()) if valid.any() \
            else 0.0

    def top_k(self, k: int) -> float:
        """Fraction of queries (with ground truth) found within rank k."""
        valid = ~np.isnan(self.average_precision)
        if not valid.any():
            return 0.0
        hits = (self.first_hit_rank >= 0) & (self.first_hit_rank < k)
        return float(hits[valid].mean())


def iou_threshold(gt_boxes: np.ndarray) -> np.ndarray:
    """The IoU a detection needs to match a ground-truth box.

    ``min(0.5, w * h / ((w + 10) * (h + 10)))``: smaller boxes are matched
    more leniently.

    Args:
        gt_boxes (np.ndarray): ``x1, y1, x2, y2``, shape (P, 4).

    Returns:
        np.ndarray: Thresholds, shape (P, ).
    """
    w = gt_boxes[:, 2] - gt_boxes[:, 0]
    h = gt_boxes[:, 3] - gt_boxes[:, 1]
    return np.minimum(0.5, w * h / ((w + 10) * (h + 10)))


class _Candidates:
    """The ranked lists of a chunk of queries, as padded matrices.

    Row ``r`` holds the detections of the gallery images of query ``r``,
    image after image in the order of its gallery list; ``column`` gives
    where the detections of each (query, gallery image) pair begin.
    """

    def __init__(self, galleries: List[np.ndarray],
                 detections: GalleryDetections) -> None:
        pair_query = np.repeat(
            np.arange(len(galleries)), [len(g) for g in galleries])
        pair_image = np.concatenate(galleries).astype(
            np.int64) if len(galleries) else np.zeros(0, np.int64)
        pair_count = detections.det_count[pair_image]
        lengths = np.bincount(
            pair_query, weights=pair_count,
            minlength=len(galleries)).astype(np.int64)
        # column where each pair starts: running count within its query
        running = np.cumsum(pair_count) - pair_count
        query_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pair_column = running - query_start[pair_query]
        entry_pair, within = expand_segments(pair_count)
        self.rows = pair_query[entry_pair]
        self.columns = pair_column[entry_pair] + within
        self.det_index = detections.det_start[pair_image][entry_pair] + within
        self.shape = (len(galleries), int(lengths.max(initial=0)))
        self.pair_query, self.pair_image = pair_query, pair_image
        self.pair_column = pair_column

    def scores(self, query_embeddings: np.ndarray,
               detections: GalleryDetections,
               dense_scores: Optional[np.ndarray]) -> np.ndarray:
        """Similarities of the candidates, ``-inf`` in the padding.

        Args:
            query_embeddings (np.ndarray): Embeddings of the chunk's
                queries, shape (c, D).
            detections (GalleryDetections): All gallery detections.
            dense_scores (np.ndarray, optional): Precomputed similarities
                of the chunk's queries to all detections, shape (c, M).

        Returns:
            np.ndarray: Scores, shape (c, L).
        """
        scores = np.full(self.shape, -np.inf, dtype=np.float32)
        if dense_scores is not None:
            scores[self.rows, self.columns] = dense_scores[self.rows,
                                                           self.det_index]
        elif len(self.rows):
            gathered = detections.embeddings[self.det_index]
            similarities = np.empty(
                len(self.rows), np.result_type(query_embeddings, gathered))
            # the rows of a query are one run: its embedding is broadcast
            # along them, not copied once per candidate
            ends = np.searchsorted(self.rows, np.arange(1, self.shape[0] + 1))
            start = 0
            for query, end in enumerate(ends.tolist()):
                similarities[start:end] = np.einsum(
                    'nd,nd->n',
                    np.broadcast_to(query_embeddings[query],
                                    (end - start, gathered.shape[1])),
                    gathered[start:end])
                start = end
            scores[self.rows, self.columns] = similarities
        return scores


def _true_positives(candidates: _Candidates, scores: np.ndarray,
                    detections: GalleryDetections, gt_query: np.ndarray,
                    gt_image: np.ndarray, gt_boxes: np.ndarray) -> tuple:
    """The true positive of each ground-truth appearance of a chunk.

    Args:
        candidates (_Candidates): The chunk's ranked lists.
        scores (np.ndarray): Their scores, shape (c, L).
        detections (GalleryDetections): All gallery detections.
        gt_query (np.ndarray): Query (in the chunk) of each appearance.
        gt_image (np.ndarray): Its gallery image.
        gt_boxes (np.ndarray): Its box, shape (P, 4).

    Returns:
        tuple[np.ndarray, np.ndarray]: Row and column of each true positive
        in the candidate matrices.
    """
    # locate each appearance's (query, image) pair in the candidate lists
    pair_key = candidates.pair_query * detections.num_images + \
        candidates.pair_image
    gt_key = gt_query * detections.num_images + gt_image
    order = np.argsort(pair_key, kind='stable')
    position = order[np.searchsorted(pair_key[order], gt_key)]
    start = candidates.pair_column[position]
    count = detections.det_count[gt_image]
    entry_gt, within = expand_segments(count)
    row = gt_query[entry_gt]
    column = start[entry_gt] + within
    det = detections.det_start[gt_image][entry_gt] + within
    ious = box_iou(detections.boxes[det], gt_boxes[entry_gt], is_aligned=True)
    matched = ious >= iou_threshold(gt_boxes)[entry_gt]
    entry_scores = np.where(matched, scores[row, column], -np.inf)
    # the most similar matching detection of each appearance
    by_score = np.lexsort((-entry_scores, entry_gt))
    first = np.ones(len(by_score), dtype=bool)
    first[1:] = entry_gt[by_score][1:] != entry_gt[by_score][:-1]
    best = by_score[first]
    best = best[matched[best]]
    return row[best], column[best]


def _in_galleries(ground_truth: QueryGroundTruth,
                  galleries: Sequence[np.ndarray],
                  num_images: int) -> QueryGroundTruth:
    """The appearances that lie in their query's gallery.

    Args:
        ground_truth (QueryGroundTruth): Appearances of the query persons.
        galleries (Sequence[np.ndarray]): Gallery image indices of each
            query.
        num_images (int): Number of gallery images G.

    Returns:
        QueryGroundTruth: The appearances in their query's gallery.
    """
    membership = np.concatenate([
        q * num_images + np.asarray(g, dtype=np.int64)
        for q, g in enumerate(galleries)
    ]) if len(galleries) else np.zeros(0, np.int64)
    gt_key = ground_truth.query_index * num_images + ground_truth.image_index
    in_gallery = np.isin(gt_key, membership)
    return QueryGroundTruth(ground_truth.query_index[in_gallery],
                            ground_truth.image_index[in_gallery],
                            ground_truth.boxes[in_gallery])


@dataclass
class _ScoredChunk:
    """The scored and labelled candidates of queries ``begin:end``.

    Attributes:
        begin (int): First query of the chunk.
        end (int): End (exclusive) of its queries.
        candidates (_Candidates): The chunk's ranked lists.
        scores (np.ndarray): Their similarities, ``-inf`` in the padding,
            shape (c, L).
        dense_det (np.ndarray): Detection of each entry, -1 in the
            padding, shape (c, L).
        tp_row (np.ndarray): Row of each true positive, shape (T, ).
        tp_col (np.ndarray): Its column, shape (T, ).
    """
    begin: int
    end: int
    candidates: _Candidates
    scores: np.ndarray
    dense_det: np.ndarray
    tp_row: np.ndarray
    tp_col: np.ndarray


def _scored_chunks(query_embeddings: np.ndarray, detections: GalleryDetections,
                   galleries: Sequence[np.ndarray],
                   ground_truth: QueryGroundTruth,
                   dense_scores: Optional[np.ndarray],
                   context: Optional[QueryContext], context_top_k: int,
                   chunk_size: int) -> Iterator[_ScoredChunk]:
    """Score the candidates of the queries chunk by chunk and find the true
    positives, as :func:`rank_queries` describes its arguments.

    Args:
        ground_truth (QueryGroundTruth): The appearances in their query's
            gallery (:func:`_in_galleries`).

    Yields:
        _ScoredChunk: Each chunk of queries.
    """
    num_queries = len(query_embeddings)
    for begin in range(0, num_queries, chunk_size):
        end = min(begin + chunk_size, num_queries)
        candidates = _Candidates(list(galleries[begin:end]), detections)
        scores = candidates.scores(
            query_embeddings[begin:end], detections,
            None if dense_scores is None else dense_scores[begin:end])
        dense_det = np.full(scores.shape, -1, dtype=np.int64)
        dense_det[candidates.rows, candidates.columns] = candidates.det_index
        if context is not None:
            context_rescore(scores, dense_det, detections.embeddings,
                            detections.image_index,
                            context.take(np.arange(begin, end)), context_top_k)
        in_chunk = (ground_truth.query_index >= begin) & (
            ground_truth.query_index < end)
        tp_row, tp_col = _true_positives(
            candidates, scores, detections,
            ground_truth.query_index[in_chunk] - begin,
            ground_truth.image_index[in_chunk], ground_truth.boxes[in_chunk])
        yield _ScoredChunk(begin, end, candidates, scores, dense_det, tp_row,
                           tp_col)


def rank_queries(query_embeddings: np.ndarray,
                 detections: GalleryDetections,
                 galleries: Sequence[np.ndarray],
                 ground_truth: QueryGroundTruth,
                 top: int = 10,
                 dense_scores: Optional[np.ndarray] = None,
                 context: Optional[QueryContext] = None,
                 context_top_k: int = 10,
                 chunk_size: int = 32) -> SearchResults:
    """AP and rank of the first hit of every query.

    Args:
        query_embeddings (np.ndarray): Unit embeddings, shape (Q, D).
        detections (GalleryDetections): Thresholded gallery detections.
        galleries (Sequence[np.ndarray]): Gallery image indices of each
            query (without duplicates).
        ground_truth (QueryGroundTruth): Appearances of the query persons;
            those outside a query's gallery are ignored.
        top (int): How many best candidates to keep per query.
            Defaults to 10.
        dense_scores (np.ndarray, optional): ``query_embeddings @
            detections.embeddings.T`` when already computed, shape (Q, M);
            worth it when galleries are large.
        context (QueryContext, optional): The persons around each query in
            its own image; when given, the scores are re-ranked with CBGM
            (:mod:`mmps.evaluation.functional.cbgm`) before scoring.
        context_top_k (int): CBGM's ``k1``: the images of this many most
            similar detections of a query are re-scored. Defaults to 10.
        chunk_size (int): Queries scored together: small enough for the
            gathered candidate embeddings to stay in the CPU cache
            (measured best at 16-32). Defaults to 32.

    Returns:
        SearchResults: The per-query results.
    """
    num_queries = len(query_embeddings)
    ap = np.zeros(num_queries)
    first_hit = np.full(num_queries, -1, dtype=np.int64)
    num_tp = np.zeros(num_queries, dtype=np.int64)
    top_det = np.full((num_queries, top), -1, dtype=np.int64)
    top_score = np.full((num_queries, top), -np.inf, dtype=np.float32)
    top_correct = np.zeros((num_queries, top), dtype=bool)
    ground_truth = _in_galleries(ground_truth, galleries,
                                 detections.num_images)
    num_gt = np.bincount(ground_truth.query_index, minlength=num_queries)

    for chunk in _scored_chunks(query_embeddings, detections, galleries,
                                ground_truth, dense_scores, context,
                                context_top_k, chunk_size):
        begin, end, scores = chunk.begin, chunk.end, chunk.scores
        dense_det, tp_row, tp_col = chunk.dense_det, chunk.tp_row, chunk.tp_col
        is_tp = np.zeros(scores.shape, dtype=bool)
        is_tp[tp_row, tp_col] = True
        tp_scores = scores[tp_row, tp_col]
        row_scores = scores[tp_row]
        # sklearn's AP: precision at the last candidate tied with each TP
        at_least = row_scores >= tp_scores[:, None]
        precision = (at_least & is_tp[tp_row]).sum(1) / at_least.sum(1)
        rank = (row_scores > tp_scores[:, None]).sum(1)
        rows = np.arange(end - begin)
        num_tp[begin:end] = np.bincount(tp_row, minlength=end - begin)
        with np.errstate(invalid='ignore', divide='ignore'):
            ap[begin:end] = np.bincount(
                tp_row, weights=precision,
                minlength=end - begin) / num_gt[begin:end]
        best = np.full(end - begin, np.iinfo(np.int64).max)
        np.minimum.at(best, tp_row, rank)
        found = best < np.iinfo(np.int64).max
        first_hit[begin:end][found] = best[found]

        keep = min(top, scores.shape[1])
        if keep:
            columns, top_score[begin:end, :keep] = sorted_top_k(scores, keep)
            top_det[begin:end, :keep] = dense_det[rows[:, None], columns]
            top_correct[begin:end, :keep] = is_tp[rows[:, None], columns]
    ap[num_gt == 0] = np.nan
    return SearchResults(ap, first_hit, num_gt, num_tp, top_det, top_score,
                         top_correct)


@dataclass
class LabelledCandidates:
    """Every candidate of every query, with its similarity and label.

    A candidate is a (query, detection) pair: a detection of an image of
    the query's gallery. It is true when :func:`rank_queries` counts it as
    a true positive: the most similar of the detections matching the query
    person's ground-truth box in that image (IoU rule of
    :func:`iou_threshold`); every other candidate is false.

    Attributes:
        query_index (np.ndarray): Query of each candidate, shape (K, ).
        det_index (np.ndarray): Its detection, shape (K, ).
        similarities (np.ndarray): Its similarity, float32, shape (K, ).
        is_true (np.ndarray): Whether it is a true match, bool, (K, ).
        num_ground_truth (np.ndarray): Gallery images holding each query's
            person, shape (Q, ): the true matches there are to find.
        gallery_sizes (np.ndarray): Images in each query's gallery, (Q, ).
    """
    query_index: np.ndarray
    det_index: np.ndarray
    similarities: np.ndarray
    is_true: np.ndarray
    num_ground_truth: np.ndarray
    gallery_sizes: np.ndarray


def label_candidates(query_embeddings: np.ndarray,
                     detections: GalleryDetections,
                     galleries: Sequence[np.ndarray],
                     ground_truth: QueryGroundTruth,
                     dense_scores: Optional[np.ndarray] = None,
                     chunk_size: int = 32) -> LabelledCandidates:
    """All candidates of every query, labelled as :func:`rank_queries`
    labels them.

    Args:
        query_embeddings (np.ndarray): Unit embeddings, shape (Q, D).
        detections (GalleryDetections): Thresholded gallery detections
            (score-weighted embeddings for CWS).
        galleries (Sequence[np.ndarray]): Gallery image indices of each
            query (without duplicates).
        ground_truth (QueryGroundTruth): Appearances of the query persons;
            those outside a query's gallery are ignored.
        dense_scores (np.ndarray, optional): ``query_embeddings @
            detections.embeddings.T`` when already computed, shape (Q, M).
        chunk_size (int): Queries scored together. Defaults to 32.

    Returns:
        LabelledCandidates: The K candidates, query after query.
    """
    ground_truth = _in_galleries(ground_truth, galleries,
                                 detections.num_images)
    parts = dict(
        query_index=[np.zeros(0, np.int64)],
        det_index=[np.zeros(0, np.int64)],
        similarities=[np.zeros(0, np.float32)],
        is_true=[np.zeros(0, bool)])
    for chunk in _scored_chunks(query_embeddings, detections, galleries,
                                ground_truth, dense_scores, None, 0,
                                chunk_size):
        rows, columns = chunk.candidates.rows, chunk.candidates.columns
        is_tp = np.zeros(chunk.scores.shape, dtype=bool)
        is_tp[chunk.tp_row, chunk.tp_col] = True
        parts['query_index'].append(rows + chunk.begin)
        parts['det_index'].append(chunk.candidates.det_index)
        parts['similarities'].append(chunk.scores[rows, columns])
        parts['is_true'].append(is_tp[rows, columns])
    return LabelledCandidates(
        **{
            name: np.concatenate(arrays)
            for name, arrays in parts.items()
        },
        num_ground_truth=np.bincount(
            ground_truth.query_index, minlength=len(query_embeddings)),
        gallery_sizes=np.array([len(g) for g in galleries], dtype=np.int64))
