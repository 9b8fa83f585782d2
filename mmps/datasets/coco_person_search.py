# Copyright (c) mmps contributors. All rights reserved.
import json
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from mmps.registry import DATASETS
from mmps.structures import UNLABELED_ID
from .base_person_search_dataset import BasePersonSearchDataset
from .box_checks import check_boxes
from .file_checks import check_file
from .id_mapping import contiguous_ids


@dataclass
class CocoPersonSearchFile:
    """The content of one annotation file of the custom format.

    Attributes:
        path (str): The file.
        file_names (list[str]): Image file of each image, (I, ).
        sizes (np.ndarray): ``width, height`` of each image as declared,
            (I, 2); -1 where the file does not give it.
        cam_ids (np.ndarray): Camera of each image, (I, ); -1 where not
            given.
        box_image (np.ndarray): Image (row in ``file_names``) of each box,
            (N, ).
        boxes (np.ndarray): ``x1, y1, x2, y2``, (N, 4).
        person_ids (np.ndarray): Person id of each box, (N, ); -1
            unlabeled.
        ignore_flags (np.ndarray): 1 for boxes to ignore, (N, ).
        query_image (np.ndarray): Image of each query, (Q, ).
        query_boxes (np.ndarray): Query boxes ``x1, y1, x2, y2``, (Q, 4).
        query_person_ids (np.ndarray): Identity of each query, (Q, ).
    """
    path: str
    file_names: List[str]
    sizes: np.ndarray
    cam_ids: np.ndarray
    box_image: np.ndarray
    boxes: np.ndarray
    person_ids: np.ndarray
    ignore_flags: np.ndarray
    query_image: np.ndarray
    query_boxes: np.ndarray
    query_person_ids: np.ndarray


def _field(entry: dict, key: str, where: str, kind=None):
    """``entry[key]``, or a KeyError that names the entry.

    With ``kind``, a value of another type is a TypeError; ``bool`` is not
    taken for ``int`` (JSON's ``true`` is no identity or size).
    """
    if not isinstance(entry, dict) or key not in entry:
        raise KeyError(f'{where} has no {key!r}')
    value = entry[key]
    if kind is not None and (not isinstance(value, kind)
                             or isinstance(value, bool)):
        raise TypeError(f'{where}: {key!r} must be {kind.__name__}, got '
                        f'{value!r}')
    return value


def _optional_ints(entries: List[dict], key: str, minimum: int, what: str,
                   path: str) -> np.ndarray:
    """An optional integer field of each entry, -1 where it is missing."""
    values = np.full(len(entries), -1, dtype=np.int64)
    for i, entry in enumerate(entries):
        if key not in entry:
            continue
        value = _field(entry, key, f'{path}: {what}[{i}]', int)
        if value < minimum:
            raise ValueError(f'{path}: {what}[{i}].{key} is {value}; '
                             f'expected an integer >= {minimum}')
        values[i] = value
    return values


def _is_number(value) -> bool:
    """Whether a JSON value is a number (``true`` and ``"1"`` are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _boxes(entries: List[dict], what: str, path: str) -> np.ndarray:
    """``x1, y1, x2, y2`` boxes of entries with a COCO ``bbox``."""
    boxes = np.zeros((len(entries), 4))
    for i, entry in enumerate(entries):
        bbox = _field(entry, 'bbox', f'{path}: {what}[{i}]')
        if not isinstance(bbox, list) or len(bbox) != 4 or \
                not all(_is_number(v) for v in bbox):
            raise ValueError(f'{path}: {what}[{i}].bbox must be [x, y, w, '
                             f'h], four numbers, got {bbox!r}')
        boxes[i] = bbox
    return check_boxes(
        boxes, path, layout='xywh', name_of=f'{what}[{{}}].bbox'.format)


def _image_rows(image_ids: list, known: dict, what: str,
                path: str) -> np.ndarray:
    """Rows of the images an entry list points to."""
    rows = np.array([known.get(i, -1) for i in image_ids], dtype=np.int64)
    missing = np.flatnonzero(rows < 0)
    if len(missing):
        raise ValueError(f'{path}: {what}[{missing[0]}] refers to image_id '
                         f'{image_ids[missing[0]]!r}, which is not in '
                         '"images"')
    return rows


def load_coco_person_search(path: str) -> CocoPersonSearchFile:
    """Read and check an annotation file of the custom format.

    The format is described in ``docs/custom_dataset.md``: COCO's
    ``images`` and ``annotations`` (``bbox`` as ``x, y, w, h``) with a
    ``person_id`` per annotation, and an optional ``queries`` list.

    Args:
        path (str): The JSON file.

    Returns:
        CocoPersonSearchFile: Its content as arrays.
    """
    check_file(path, 'person search annotation file')
    with open(path, encoding='utf-8') as f:
        try:
            content = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f'{path} is not valid JSON: {error}') from error
    images = _field(content, 'images', path, list)
    annotations = _field(content, 'annotations', path, list)
    queries = _field(content, 'queries', path,
                     list) if 'queries' in content else []

    image_ids = [
        _field(image, 'id', f'{path}: images[{i}]')
        for i, image in enumerate(images)
    ]
    known = {image_id: row for row, image_id in enumerate(image_ids)}
    if len(known) != len(image_ids):
        raise ValueError(f'{path}: image ids are not unique')
    file_names = [
        _field(image, 'file_name', f'{path}: images[{i}]', str)
        for i, image in enumerate(images)
    ]
    widths = _optional_ints(images, 'width', 1, 'images', path)
    heights = _optional_ints(images, 'height', 1, 'images', path)
    sizes = np.stack([widths, heights], axis=1)
    cam_ids = _optional_ints(images, 'cam_id', 0, 'images', path)

    def person_ids_of(entries, what):
        ids = [
            _field(entry, 'person_id', f'{path}: {what}[{i}]', int)
            for i, entry in enumerate(entries)
        ]
        return np.array(ids, dtype=np.int64)

    person_ids = person_ids_of(annotations, 'annotations')
    bad = np.flatnonzero(person_ids < UNLABELED_ID)
    if len(bad):
        raise ValueError(f'{path}: annotations[{bad[0]}].person_id is '
                         f'{person_ids[bad[0]]}; expected an identity >= 0 '
                         f'or {UNLABELED_ID} for an unlabeled person')
    query_person_ids = person_ids_of(queries, 'queries')
    bad = np.flatnonzero(query_person_ids < 0)
    if len(bad):
        raise ValueError(f'{path}: queries[{bad[0]}].person_id is '
                         f'{query_person_ids[bad[0]]}; a query needs its '
                         'identity (>= 0)')
    ignore_flags = np.array([
        int(bool(a.get('ignore', 0) or a.get('iscrowd', 0)))
        for a in annotations
    ],
                            dtype=np.int64)
    return CocoPersonSearchFile(
        path=path,
        file_names=file_names,
        sizes=sizes,
        cam_ids=cam_ids,
        box_image=_image_rows([a.get('image_id') for a in annotations], known,
                              'annotations', path),
        boxes=_boxes(annotations, 'annotations', path),
        person_ids=person_ids,
        ignore_flags=ignore_flags,
        query_image=_image_rows([q.get('image_id') for q in queries], known,
                                'queries', path),
        query_boxes=_boxes(queries, 'queries', path),
        query_person_ids=query_person_ids)


@DATASETS.register_module()
class CocoPersonSearchDataset(BasePersonSearchDataset):
    """A person search dataset in mmps' COCO-style custom format.

    One JSON file per split of the footage (see
    ``docs/custom_dataset.md``): COCO's ``images`` and ``annotations`` with
    a ``person_id`` per box (-1 unlabeled) and, in the test file, the
    ``queries``. The ``'train'`` split maps the distinct labeled ids, in
    sorted order, to ``0..L-1`` (``metainfo['num_person_ids'] = L``); the
    ``'gallery'`` split keeps the file's ids; the ``'query'`` split is the
    file's query list. Score it with ``PersonSearchMetric(protocol='prw')``:
    the gallery of a query is every gallery image but its own (and, with
    ``cross_camera``, only other cameras when images give ``cam_id``).

    Args:
        ann_file (str): The annotation file, relative to ``data_root``.
        split (str): One of :attr:`SPLITS` (see
            :class:`BasePersonSearchDataset`).
        data_prefix (dict): Image folder relative to ``data_root``.
            Defaults to ``dict(img='images/')``.
        **kwargs: Arguments of :class:`mmdet.datasets.BaseDetDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 split: str = 'train',
                 data_prefix: dict = dict(img='images/'),
                 **kwargs) -> None:
        super().__init__(
            ann_file=ann_file, split=split, data_prefix=data_prefix, **kwargs)

    def _read(self) -> CocoPersonSearchFile:
        """The checked content of ``ann_file``."""
        return load_coco_person_search(self.ann_file)

    def _image_sizes(self, content: CocoPersonSearchFile,
                     rows: np.ndarray) -> np.ndarray:
        """Sizes of some images from their headers, checked all at once
        against the sizes the file declares."""
        return self.read_image_sizes([content.file_names[r] for r in rows],
                                     content.path, content.sizes[rows])

    def _entries(self, content: CocoPersonSearchFile,
                 person_ids: np.ndarray) -> List[dict]:
        """One entry per image, with its boxes grouped by a stable sort."""
        order = np.argsort(content.box_image, kind='stable')
        counts = np.bincount(
            content.box_image, minlength=len(content.file_names))
        starts = np.concatenate([[0], np.cumsum(counts)])
        sizes = self._image_sizes(content, np.arange(len(content.file_names)))
        rows = range(len(content.file_names))
        boxes = [order[starts[row]:starts[row + 1]] for row in rows]
        return self.make_data_list(
            content.file_names, [content.boxes[b] for b in boxes],
            [person_ids[b] for b in boxes],
            content.path,
            sizes, [self._cam_id(content, row) for row in rows],
            ignore_flags=[content.ignore_flags[b] for b in boxes])

    @staticmethod
    def _cam_id(content: CocoPersonSearchFile, row: int) -> Optional[int]:
        cam_id = int(content.cam_ids[row])
        return cam_id if cam_id >= 0 else None

    def load_train(self) -> List[dict]:
        """Training images; labeled ids mapped to ``0..L-1``."""
        content = self._read()
        labeled = np.unique(content.person_ids[content.person_ids >= 0])
        self.set_num_person_ids(len(labeled))
        return self._entries(content,
                             contiguous_ids(content.person_ids, labeled))

    def load_gallery(self) -> List[dict]:
        """Gallery images with the file's ids."""
        content = self._read()
        return self._entries(content, content.person_ids)

    def load_query(self) -> List[dict]:
        """The queries of the file, in its order."""
        content = self._read()
        if len(content.query_person_ids) == 0:
            raise ValueError(f'{content.path} has no "queries": the query '
                             'split needs them')
        sizes = self._image_sizes(content, content.query_image)
        rows = content.query_image
        return self.make_data_list(
            [content.file_names[row] for row in rows],
            content.query_boxes[:, None],
            content.query_person_ids[:, None],
            content.path,
            sizes, [self._cam_id(content, row) for row in rows],
            query_indices=range(len(rows)))
