# Copyright (c) mmps contributors. All rights reserved.
"""The galleries and ground truth of each query under each protocol."""
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from mmps.datasets.cuhk_sysu_format import (SUBSETS, TEST_FILE, SearchProtocol,
                                            load_protocol, load_subset)
from ..functional import QueryGroundTruth

#: Gallery size that means "every gallery image but the query's own".
FULL_SET = -1


@dataclass
class SearchSetting:
    """One way of searching: a gallery and ground truth per query.

    Attributes:
        name (str): Name in the metric keys, e.g. ``'g100'``, ``'full'``,
            ``'all'``, ``'cross_camera'``.
        galleries (list[np.ndarray]): Gallery image indices of each query
            of the setting.
        ground_truth (QueryGroundTruth): Appearances of the query persons
            (``query_index`` counts the setting's queries).
        query_indices (np.ndarray, optional): The queries of the setting
            among all queries, for a subset; None for all.
    """
    name: str
    galleries: List[np.ndarray]
    ground_truth: QueryGroundTruth
    query_indices: Optional[np.ndarray] = None

    def is_large(self, num_images: int) -> bool:
        """Whether one matrix product of all queries and detections pays.

        Gathering the candidates' embeddings costs memory traffic per
        candidate; past a thirty-second of the gallery per query, the
        matrix product (shared by all large settings) is faster.
        """
        mean_size = np.mean([len(g) for g in self.galleries])
        return mean_size * 32 > num_images


def _names(records: List[dict]) -> np.ndarray:
    return np.array([osp.basename(r['img_path']) for r in records])


def _all_but_own(gallery: List[dict], queries: List[dict],
                 same_camera_too: bool) -> List[np.ndarray]:
    """Per query, every gallery image but its own (and its camera's)."""
    paths = np.array([g['img_path'] for g in gallery])
    cams = np.array([g['cam_id'] for g in gallery])
    galleries = []
    for query in queries:
        keep = paths != query['img_path']
        if not same_camera_too:
            keep &= cams != query['cam_id']
        galleries.append(np.flatnonzero(keep))
    return galleries


def _lookup(names: np.ndarray, wanted: np.ndarray, where: str) -> np.ndarray:
    """Index of each wanted image name among the gallery names."""
    order = np.argsort(names)
    positions = np.searchsorted(names[order], wanted).clip(0, len(names) - 1)
    found = names[order][positions] == wanted
    if not found.all():
        raise ValueError(
            f'{where} lists gallery image '
            f'{str(wanted[~found][0])!r}, which has no prediction: '
            f'evaluate on the whole gallery')
    return order[positions]


def _listed_setting(name: str, protocol: SearchProtocol, names: np.ndarray,
                    where: str) -> SearchSetting:
    """A setting whose galleries and ground truth a protocol file lists."""
    # each distinct image is looked up once
    flat = _lookup(names, protocol.image_names, where)[protocol.gallery_images]
    listed = np.split(flat, np.cumsum(protocol.gallery_counts)[:-1])
    raw = protocol.gallery_raw_boxes
    present = ~np.isnan(raw[:, 0])
    # the reference truncates the ground truth to integers first
    raw = np.trunc(raw[present])
    boxes = np.concatenate([raw[:, :2], raw[:, :2] + raw[:, 2:]], 1)
    ground_truth = QueryGroundTruth(
        query_index=protocol.gallery_query[present],
        image_index=flat[present],
        boxes=boxes)
    return SearchSetting(name, listed, ground_truth)


def _check_queries(protocol: SearchProtocol, query_names: np.ndarray,
                   where: str) -> None:
    """Raise if the protocol's queries are not the predicted ones."""
    if len(protocol.query_names) != len(query_names):
        raise ValueError(f'{where} has {len(protocol.query_names)} '
                         f'queries, the predictions {len(query_names)}')
    mismatch = np.flatnonzero(np.array(protocol.query_names) != query_names)
    if len(mismatch):
        q = int(mismatch[0])
        raise ValueError(f'query {q} is image {query_names[q]!r} in the '
                         f'predictions but {protocol.query_names[q]!r} '
                         f'in {where}')


def _subset_query_indices(subset: SearchProtocol, full: SearchProtocol,
                          where: str) -> np.ndarray:
    """Positions of a subset's queries (image and box) in the full list."""
    keys = {
        (name, tuple(box)): q
        for q, (name, box) in enumerate(
            zip(full.query_names, full.query_raw_boxes.tolist()))
    }
    indices = [
        keys.get((name, tuple(box)), -1) for name, box in zip(
            subset.query_names, subset.query_raw_boxes.tolist())
    ]
    missing = [i for i, q in enumerate(indices) if q < 0]
    if missing:
        i = missing[0]
        raise ValueError(f'{where}: query {i} ({subset.query_names[i]}, '
                         f'box {subset.query_raw_boxes[i].tolist()}) is not '
                         f'a query of {TEST_FILE.format(50)}')
    return np.asarray(indices, dtype=np.int64)


def cuhk_sysu_settings(
    gallery: List[dict],
    queries: List[dict],
    data_root: str,
    gallery_sizes: Sequence[int],
    subsets: Sequence[str] = ()
) -> List[SearchSetting]:
    """Settings of the CUHK-SYSU protocol: gallery sizes, then subsets.

    Args:
        gallery (list[dict]): Gallery records.
        queries (list[dict]): Query records, by query index.
        data_root (str): The CUHK-SYSU root.
        gallery_sizes (Sequence[int]): Sizes; -1 is the full set.
        subsets (Sequence[str]): Keys of :data:`SUBSETS` (the occlusion
            and low-resolution queries, with their own galleries).

    Returns:
        list[SearchSetting]: The settings.
    """
    names = _names(gallery)
    query_names = _names(queries)
    settings = []
    for size in gallery_sizes:
        # the full set takes its ground truth from TestG50, as the
        # reference does; every TestG file lists all images of the person
        protocol = load_protocol(data_root, 50 if size == FULL_SET else size)
        where = osp.join(data_root,
                         TEST_FILE.format(50 if size == FULL_SET else size))
        _check_queries(protocol, query_names, where)
        setting = _listed_setting(f'g{size}', protocol, names, where)
        if size == FULL_SET:
            setting = SearchSetting('full',
                                    _all_but_own(gallery, queries,
                                                 True), setting.ground_truth)
        settings.append(setting)
    if subsets:
        full = load_protocol(data_root, 50)
        _check_queries(full, query_names,
                       osp.join(data_root, TEST_FILE.format(50)))
    for name in subsets:
        subset = load_subset(data_root, name)
        where = osp.join(data_root, SUBSETS[name][0])
        setting = _listed_setting(name, subset, names, where)
        setting.query_indices = _subset_query_indices(subset, full, where)
        settings.append(setting)
    return settings


def prw_settings(gallery: List[dict], queries: List[dict],
                 cross_camera: bool) -> List[SearchSetting]:
    """Settings of the PRW protocol: all cameras, then other cameras only.

    The query person's ground truth in a frame is its box with the query's
    id (the first, should a frame name it twice).

    Args:
        gallery (list[dict]): Gallery records with ``gt_person_ids``.
        queries (list[dict]): Query records, by query index.
        cross_camera (bool): Add the cross-camera setting.

    Returns:
        list[SearchSetting]: The settings.
    """
    gt_image = np.repeat(
        np.arange(len(gallery)), [len(g['gt_person_ids']) for g in gallery])
    gt_ids = np.concatenate([g['gt_person_ids'] for g in gallery])
    gt_boxes = np.concatenate([g['gt_bboxes'] for g in gallery])
    paths = np.array([g['img_path'] for g in gallery])
    query_rows, image_rows, box_rows = [], [], []
    for q, query in enumerate(queries):
        if len(query['gt_person_ids']) == 0:
            raise ValueError(f'query {q} ({query["img_path"]}) has no '
                             f'person id: PRW queries need their identity')
        rows = np.flatnonzero((gt_ids == query['gt_person_ids'][0])
                              & (paths[gt_image] != query['img_path']))
        # one appearance per frame
        _, first = np.unique(gt_image[rows], return_index=True)
        rows = rows[first]
        query_rows.append(np.full(len(rows), q))
        image_rows.append(gt_image[rows])
        box_rows.append(gt_boxes[rows])
    ground_truth = QueryGroundTruth(
        np.concatenate(query_rows), np.concatenate(image_rows),
        np.concatenate(box_rows).astype(np.float64))
    settings = [
        SearchSetting('all', _all_but_own(gallery, queries, True),
                      ground_truth)
    ]
    if cross_camera:
        settings.append(
            SearchSetting('cross_camera', _all_but_own(gallery, queries,
                                                       False), ground_truth))
    return settings


def build_settings(protocol: str,
                   gallery: List[dict],
                   queries: List[dict],
                   data_root: Optional[str],
                   gallery_sizes: Sequence[int],
                   cross_camera: bool,
                   subsets: Sequence[str] = ()
                   ) -> List[SearchSetting]:  # yapf: disable
    """The settings of a protocol (see :class:`PersonSearchMetric`)."""
    if protocol == 'cuhk_sysu':
        return cuhk_sysu_settings(gallery, queries, data_root, gallery_sizes,
                                  subsets)
    return prw_settings(gallery, queries, cross_camera)
