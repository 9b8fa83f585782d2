# Copyright (c) mmps contributors. All rights reserved.
"""Records: what the person-search metric keeps of each predicted sample.

A record is a dict of numpy arrays per image (gallery) or per query, made
by :func:`make_record` from a model's data sample or read from a
predictions file (:mod:`mmps.evaluation.predictions_io`); the metric, the
offline scoring and the threshold calibration all split, check and
threshold records with the functions here.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from mmps.structures import NORM_TOLERANCE
from ..functional import GalleryDetections

#: The arrays of a record and their shapes: ``N`` (the record's boxes) and
#: ``G`` (its ground-truth boxes) are sizes within a record, ``D`` (the
#: embedding size) is shared by all records.
RECORD_ARRAYS = OrderedDict(
    bboxes=('N', 4),
    scores=('N', ),
    embeddings=('N', 'D'),
    gt_bboxes=('G', 4),
    gt_person_ids=('G', ))
#: The persons of a query's image by SeqNet's CBGM rule (a query record
#: holds all three or none; ``K`` persons, the query box among them).
QUERY_CONTEXT_ARRAYS = OrderedDict(
    context_bboxes=('K', 4),
    context_scores=('K', ),
    context_embeddings=('K', 'D'))
#: The ground-truth arrays of a record (the rest are predictions).
GROUND_TRUTH_KEYS = ('gt_bboxes', 'gt_person_ids')
#: Arrays that hold integers (the others hold finite real numbers).
INTEGER_ARRAYS = ('gt_person_ids', )


def _to_numpy(value, dtype) -> np.ndarray:
    """A tensor, box structure or array as a numpy array of ``dtype``."""
    if hasattr(value, 'tensor'):  # mmdet box structures
        value = value.tensor
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def make_record(data_sample: dict) -> dict:
    """What the metric keeps of one predicted sample (numpy, on the CPU).

    The arrays keep the shapes the model gave them, for
    :func:`check_records` to judge; only missing ground truth becomes empty
    arrays.

    Args:
        data_sample (dict): A data sample, as a dict, with
            ``pred_instances`` (``bboxes``, ``scores``, ``embeddings``),
            ``gt_instances`` (``bboxes``, ``person_ids``) and the metainfo
            keys ``img_path``, ``is_query``, ``query_index``, ``cam_id``;
            queries may have ``context_instances`` (SeqNet's CBGM context,
            kept as :data:`QUERY_CONTEXT_ARRAYS`).

    Returns:
        dict: The record: the fields of ``tools/test.py --out`` files (see
        :mod:`mmps.evaluation.predictions_io`) and the ground truth,
        :data:`GROUND_TRUTH_KEYS`.
    """
    pred = data_sample['pred_instances']
    gt = data_sample.get('gt_instances', {})
    record = dict(
        img_path=data_sample['img_path'],
        is_query=bool(data_sample.get('is_query', False)),
        query_index=int(data_sample.get('query_index', -1)),
        cam_id=int(data_sample.get('cam_id', -1)),
        bboxes=_to_numpy(pred['bboxes'], np.float32),
        scores=_to_numpy(pred['scores'], np.float32),
        embeddings=_to_numpy(pred['embeddings'], np.float32),
        gt_bboxes=_to_numpy(gt.get('bboxes', np.zeros((0, 4))), np.float32),
        gt_person_ids=_to_numpy(gt.get('person_ids', np.zeros(0)), np.int64))
    context = data_sample.get('context_instances')
    if context is not None:
        record.update(
            context_bboxes=_to_numpy(context['bboxes'], np.float32),
            context_scores=_to_numpy(context['scores'], np.float32),
            context_embeddings=_to_numpy(context['embeddings'], np.float32))
    return record


def split_records(results: List[dict]) -> Tuple[List[dict], List[dict]]:
    """Gallery records (one per image) and query records (by index).

    Distributed collection may repeat a sample; repeats are dropped.
    """
    gallery: Dict[str, dict] = OrderedDict()
    queries: Dict[int, dict] = {}
    for record in results:
        if record['is_query']:
            queries.setdefault(record['query_index'], record)
        else:
            gallery.setdefault(record['img_path'], record)
    return list(gallery.values()), [queries[i] for i in sorted(queries)]


def check_records(gallery: List[dict], queries: List[dict]) -> None:
    """Raise a clear error for records that cannot be scored.

    Checked: gallery and queries are there, queries are numbered
    ``0..Q-1``, and every array of :data:`RECORD_ARRAYS` (and of
    :data:`QUERY_CONTEXT_ARRAYS` where a record has them) is a numpy array of
    its shape (one score and one embedding per box, one id per ground-truth
    box, one embedding size for all), holds finite real numbers (integers
    for :data:`INTEGER_ARRAYS`), and embeddings have unit L2 norm. A query
    record holds exactly one box (the query) and its embedding.

    Args:
        gallery (list[dict]): Gallery records (see :func:`make_record`).
        queries (list[dict]): Query records, in ``query_index`` order.

    Raises:
        ValueError: Naming the record (image, query index) and the field.
    """
    if not gallery:
        raise ValueError('no gallery predictions to search: the test data '
                         'must hold the gallery images')
    if not queries:
        raise ValueError('no query predictions: the test data must hold '
                         'the queries (is_query=True)')
    indices = [q['query_index'] for q in queries]
    if indices != list(range(len(queries))):
        missing = sorted(set(range(max(indices) + 1)) - set(indices))
        raise ValueError(f'{len(queries)} query predictions must have '
                         f'query_index 0..{len(queries) - 1}, got '
                         f'{indices[:10]}; missing query_index '
                         f'{missing[:10]}')
    if _all_arrays_valid(gallery + queries, len(gallery)):
        return
    # a problem somewhere: record by record, to name the first
    embedding_size: Dict[str, tuple] = {}
    for record in gallery + queries:
        where = record['img_path'] + (f' (query {record["query_index"]})'
                                      if record['is_query'] else '')
        sizes = dict(embedding_size)
        for name, shape in RECORD_ARRAYS.items():
            _check_array(record.get(name), name, shape, sizes, where)
        if any(name in record for name in QUERY_CONTEXT_ARRAYS):
            for name, shape in QUERY_CONTEXT_ARRAYS.items():
                _check_array(record.get(name), name, shape, sizes, where)
        embedding_size.setdefault(
            'D', (sizes['D'][0], f'the embeddings of {where}'))
        if record['is_query'] and sizes['N'][0] != 1:
            raise ValueError(f'{where}: a query record holds exactly one box '
                             f'and one embedding, got {sizes["N"][0]}')
        for name in ('embeddings', 'context_embeddings'):
            if name not in record:
                continue
            norms = np.linalg.norm(record[name], axis=1)
            if len(norms) and np.abs(norms - 1).max() > NORM_TOLERANCE:
                raise ValueError(f'{where}: {name} must have unit L2 norm, '
                                 f'got norms in [{norms.min():.4f}, '
                                 f'{norms.max():.4f}]')


def _all_arrays_valid(records: List[dict], num_gallery: int) -> bool:
    """Whether the arrays of all records pass :func:`check_records`, decided
    with a few operations on all records' arrays at once.

    Conservative: True only when the record-by-record checks pass (the
    norms are held to a slightly tighter tolerance); False sends the
    records to them, to name the problem.

    Args:
        records (list[dict]): Gallery records, then query records.
        num_gallery (int): How many gallery records lead.

    Returns:
        bool: Whether every array is valid.
    """
    with_context = [
        r for r in records if any(name in r for name in QUERY_CONTEXT_ARRAYS)
    ]
    embedding_sizes = []
    for group, layout in [(records, RECORD_ARRAYS),
                          (with_context, QUERY_CONTEXT_ARRAYS)]:
        if not group:
            continue
        per_record: Dict[str, np.ndarray] = {}
        for name, shape in layout.items():
            shapes = _shapes_if_valid([r.get(name) for r in group], name,
                                      len(shape))
            if shapes is None:
                return False
            for dim, sizes in zip(shape, shapes.T):
                if isinstance(dim, int):
                    if (sizes != dim).any():
                        return False
                elif dim == 'D':
                    embedding_sizes.append(sizes)
                elif (per_record.setdefault(dim, sizes) != sizes).any():
                    return False
        if 'N' in per_record and (per_record['N'][num_gallery:] != 1).any():
            return False
    return len(np.unique(np.concatenate(embedding_sizes))) == 1


def _shapes_if_valid(arrays: list, name: str,
                     ndim: int) -> Optional[np.ndarray]:
    """The shapes of one field's arrays, all records at once, if each is a
    numpy array of the field's kind and rank with finite values (and unit
    rows for embeddings, within 99% of the tolerance); else None.

    Args:
        arrays (list): The field's value in each record.
        name (str): The field.
        ndim (int): Its rank.

    Returns:
        np.ndarray, optional: Shape of each array, (R, ndim).
    """
    if not all(type(a) is np.ndarray for a in arrays):
        return None
    kinds = 'iu' if name in INTEGER_ARRAYS else 'fiu'
    if any(dtype.kind not in kinds for dtype in {a.dtype for a in arrays}):
        return None
    if any(a.ndim != ndim for a in arrays):
        return None
    shapes = np.array([a.shape for a in arrays], dtype=np.int64)
    if (shapes[:, 1:] != shapes[:1, 1:]).any():  # or no concatenation
        return None
    values = np.concatenate(arrays)
    if not np.isfinite(values).all():
        return None
    if name.endswith('embeddings') and len(values):
        norms = np.linalg.norm(values, axis=1)
        if np.abs(norms - 1).max() > NORM_TOLERANCE * 0.99:
            return None
    return shapes


def _check_array(array, name: str, shape: Tuple, sizes: Dict[str, tuple],
                 where: str) -> None:
    """Check one array of a record; add its sizes to ``sizes``.

    Args:
        array: The record's value.
        name (str): Its field.
        shape (tuple): Its shape: integers, or names of sizes.
        sizes (dict[str, tuple]): Sizes known so far, each with the array
            it comes from; the array's are added.
        where (str): The record, for the errors.
    """
    expected = f'({", ".join(map(str, shape))}{"," * (len(shape) == 1)})'
    if array is None:
        raise ValueError(f'{where}: lacks {name}, shape {expected}')
    if not isinstance(array, np.ndarray):
        raise ValueError(f'{where}: {name} must be a numpy array of shape '
                         f'{expected}, got {type(array).__name__}')
    integers = name in INTEGER_ARRAYS
    if array.dtype.kind not in ('iu' if integers else 'fiu'):
        raise ValueError(f'{where}: {name} must hold '
                         f'{"integers" if integers else "real numbers"}, '
                         f'got {array.dtype}')
    if array.ndim != len(shape) or any(
            isinstance(dim, int) and size != dim
            for size, dim in zip(array.shape, shape)):
        raise ValueError(f'{where}: {name} must have shape {expected}, got '
                         f'{array.shape}')
    for size, dim in zip(array.shape, shape):
        if isinstance(dim, str):
            known, source = sizes.setdefault(dim, (size, name))
            if size != known:
                raise ValueError(f'{where}: {name} has shape {array.shape}, '
                                 f'expected {expected} with {dim} = {known} '
                                 f'as in {source}')
    if not np.isfinite(array).all():
        raise ValueError(f'{where}: {name} contain NaN or inf')


def threshold_detections(
        gallery: List[dict],
        score_thr: float,
        cws: bool = False) -> Tuple[GalleryDetections, List[np.ndarray]]:
    """Concatenate the detections of the gallery above the threshold.

    Args:
        gallery (list[dict]): Gallery records.
        score_thr (float): Detections scored below this are dropped.
        cws (bool): Multiply each embedding by its detection score
            (Confidence Weighted Similarity), so that every similarity
            computed from them is weighted. Defaults to False.

    Returns:
        tuple: The :class:`GalleryDetections` and, per image, the indices
        of the detections kept.
    """
    kept = [np.flatnonzero(g['scores'] >= score_thr) for g in gallery]
    dim = gallery[0]['embeddings'].shape[1]
    embeddings = np.concatenate(
        [g['embeddings'][k] for g, k in zip(gallery, kept)] +
        [np.zeros((0, dim), np.float32)]).astype(np.float32)
    if cws:
        embeddings *= np.concatenate(
            [g['scores'][k] for g, k in zip(gallery, kept)] +
            [np.zeros(0, np.float32)]).astype(np.float32)[:, None]
    return GalleryDetections(
        boxes=np.concatenate([g['bboxes'][k] for g, k in zip(gallery, kept)] +
                             [np.zeros((0, 4), np.float32)]),
        embeddings=embeddings,
        image_index=np.repeat(np.arange(len(gallery)), [len(k) for k in kept]),
        num_images=len(gallery)), kept
