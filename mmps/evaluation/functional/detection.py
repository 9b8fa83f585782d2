# Copyright (c) mmps contributors. All rights reserved.
"""Detection recall and AP of the gallery, as person search papers report.

As in the reference evaluation of the OIM/SeqNet code: a detection (score
above the threshold) and a ground-truth box are matched when their IoU
reaches 0.5 and each is the other's best overlap; recall is matches over
ground-truth boxes, AP is sklearn's average precision of the scored
detections times that recall.
"""
from typing import List, Tuple

import numpy as np

from mmps.structures import box_iou
from .segments import expand_segments


def average_precision(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """sklearn's ``average_precision_score`` for one binary ranking.

    ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds, from
    the highest; tied scores form one threshold.

    Args:
        y_true (np.ndarray): Binary labels, shape (N, ).
        y_score (np.ndarray): Scores, shape (N, ).

    Returns:
        float: The average precision; 0 when there is no positive.
    """
    y_true = np.asarray(y_true, dtype=bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    if not y_true.any():
        return 0.0
    order = np.argsort(-y_score, kind='stable')
    y_true, y_score = y_true[order], y_score[order]
    # the last index of each group of tied scores
    ends = np.flatnonzero(np.r_[y_score[1:] != y_score[:-1], True])
    true_positives = np.cumsum(y_true)[ends]
    precision = true_positives / (ends + 1)
    recall_gain = np.diff(np.r_[0, true_positives]) / y_true.sum()
    return float((recall_gain * precision).sum())


def _matched_detections(gt_boxes: List[np.ndarray],
                        det_boxes: List[np.ndarray],
                        iou_thr: float) -> np.ndarray:
    """Detections matched to a ground-truth box of their image.

    A pair matches when its IoU reaches ``iou_thr`` and each is the other's
    best overlap in the image (the first of equal overlaps, as
    ``argmax``). Every (ground truth, detection) pair of every image is
    scored at once: a loop over images would cost more than the rest of
    the scoring.

    Args:
        gt_boxes (list[np.ndarray]): Ground truth of each image, (G_i, 4).
        det_boxes (list[np.ndarray]): Detections of each image, (D_i, 4).
        iou_thr (float): The IoU a match needs.

    Returns:
        np.ndarray: Whether each detection, images concatenated, is
        matched, shape (sum D_i, ).
    """
    gt_counts = np.array([len(b) for b in gt_boxes], dtype=np.int64)
    det_counts = np.array([len(b) for b in det_boxes], dtype=np.int64)
    matched = np.zeros(det_counts.sum(), dtype=bool)
    pair_image, within = expand_segments(gt_counts * det_counts)
    if len(pair_image) == 0:
        return matched
    # pairs ground truth after ground truth within an image, as np.repeat
    # and np.tile lay them out
    gt_local = within // det_counts[pair_image]
    det_local = within % det_counts[pair_image]
    gt_index = (np.cumsum(gt_counts) - gt_counts)[pair_image] + gt_local
    det_index = (np.cumsum(det_counts) - det_counts)[pair_image] + det_local
    # only the images' own boxes: no empty array changes their dtype
    ious = box_iou(
        np.concatenate([b for b in gt_boxes if len(b)])[gt_index],
        np.concatenate(det_boxes)[det_index],
        is_aligned=True)

    def first_best(group: np.ndarray, size: int,
                   candidate: np.ndarray) -> np.ndarray:
        """Per group, the smallest candidate of the largest IoU."""
        best = np.full(size, -np.inf, dtype=ious.dtype)
        np.maximum.at(best, group, ious)
        first = np.full(size, np.iinfo(np.int64).max)
        np.minimum.at(
            first, group,
            np.where(ious == best[group], candidate,
                     np.iinfo(np.int64).max))
        return first

    best_gt = first_best(det_index, len(matched), gt_local)
    best_det = first_best(gt_index, int(gt_counts.sum()), det_local)
    pairs = (ious >= iou_thr) & (best_gt[det_index] == gt_local) & (
        best_det[gt_index] == det_local)
    matched[det_index[pairs]] = True
    return matched


def evaluate_detection(
        gt_boxes: List[np.ndarray],
        det_boxes: List[np.ndarray],
        det_scores: List[np.ndarray],
        iou_thr: float = 0.5,
        skip_images_without_gt: bool = False) -> Tuple[float, float]:
    """Recall and AP of detections over images.

    Args:
        gt_boxes (list[np.ndarray]): Ground truth of each image, (G_i, 4).
        det_boxes (list[np.ndarray]): Detections of each image, already
            thresholded, (D_i, 4).
        det_scores (list[np.ndarray]): Their scores, (D_i, ).
        iou_thr (float): IoU of a match. Defaults to 0.5.
        skip_images_without_gt (bool): Leave out images without ground
            truth, detections included, as the reference does for its
            labeled-only recall. Otherwise their detections are false
            positives. Defaults to False.

    Returns:
        tuple[float, float]: Recall and AP (AP times recall, as the
        reference computes it).
    """
    images = [(gts, dets, scores)
              for gts, dets, scores in zip(gt_boxes, det_boxes, det_scores)
              if len(gts) or not skip_images_without_gt]
    num_gt = sum(len(gts) for gts, _, _ in images)
    if num_gt == 0:
        return 0.0, 0.0
    scored = [image for image in images if len(image[1])]
    if not scored:
        return 0.0, 0.0
    y_true = _matched_detections([gts for gts, _, _ in scored],
                                 [dets for _, dets, _ in scored], iou_thr)
    recall = int(y_true.sum()) / num_gt
    return recall, average_precision(
        y_true, np.concatenate([scores for _, _, scores in scored])) * recall
