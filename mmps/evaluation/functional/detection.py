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


def _iou_blocks(gt_boxes: List[np.ndarray],
                det_boxes: List[np.ndarray]) -> List[np.ndarray]:
    """IoU of every ground truth with every detection, image by image.

    One call of mmdet's ``bbox_overlaps`` for all the images' pairs: a call
    per image would cost more than the rest of the scoring.

    Args:
        gt_boxes (list[np.ndarray]): Ground truth of each image, (G_i, 4).
        det_boxes (list[np.ndarray]): Detections of each image, (D_i, 4).

    Returns:
        list[np.ndarray]: IoUs of each image, shape (G_i, D_i).
    """
    shapes = [(len(gts), len(dets)) for gts, dets in zip(gt_boxes, det_boxes)]
    if not shapes:
        return []
    ious = box_iou(
        np.concatenate([
            np.repeat(gts, len(dets), axis=0)
            for gts, dets in zip(gt_boxes, det_boxes)
        ]),
        np.concatenate([
            np.tile(dets, (len(gts), 1))
            for gts, dets in zip(gt_boxes, det_boxes)
        ]),
        is_aligned=True)
    ends = np.cumsum([rows * cols for rows, cols in shapes])
    return [
        ious[end - rows * cols:end].reshape(rows, cols)
        for end, (rows, cols) in zip(ends, shapes)
    ]


def mutual_best_matches(ious: np.ndarray, iou_thr: float) -> np.ndarray:
    """Pairs that overlap enough and are each other's best overlap.

    Args:
        ious (np.ndarray): IoU of ground truth (rows) and detections
            (columns), shape (G, D), both non-empty.
        iou_thr (float): The IoU a match needs.

    Returns:
        np.ndarray: Whether each detection is matched, shape (D, ).
    """
    best_gt = ious.argmax(0)
    best_det = ious.argmax(1)
    gt_index = np.arange(ious.shape[0])[:, None]
    det_index = np.arange(ious.shape[1])[None, :]
    matched = (ious >= iou_thr) & (gt_index == best_gt[None, :]) & (
        det_index == best_det[:, None])
    return matched.any(0)


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
    ious = iter(
        _iou_blocks([gts for gts, _, _ in scored if len(gts)],
                    [dets for gts, dets, _ in scored if len(gts)]))
    y_true = [
        mutual_best_matches(next(ious), iou_thr) if len(gts) else np.zeros(
            len(dets), dtype=bool) for gts, dets, _ in scored
    ]
    recall = int(sum(matched.sum() for matched in y_true)) / num_gt
    return recall, average_precision(
        np.concatenate(y_true),
        np.concatenate([scores for _, _, scores in scored])) * recall
