# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
import re
from typing import List, Tuple

import numpy as np

from mmps.registry import DATASETS
from mmps.structures import UNLABELED_ID
from .base_person_search_dataset import BasePersonSearchDataset
from .box_checks import xywh_to_xyxy
from .file_checks import check_file
from .id_mapping import contiguous_ids
from .mat_io import load_mat, mat_cell_strings

#: Keys of the box array in ``annotations/<frame>.jpg.mat``, in order.
ANNOTATION_KEYS = ('box_new', 'anno_file', 'anno_previous')


def camera_of(frame: str) -> int:
    """Camera id of a PRW frame name: the digit after ``c``.

    Args:
        frame (str): A frame name such as ``'c3s2_012345'`` or
            ``'c3s2_012345.jpg'``.

    Returns:
        int: The camera id, e.g. 3.
    """
    match = re.match(r'c(\d)', osp.basename(frame))
    if match is None:
        raise ValueError(f"PRW frame name {frame!r} does not start with "
                         f"'c<camera digit>'")
    return int(match.group(1))


def load_frame_boxes(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read one ``annotations/<frame>.jpg.mat`` file.

    Args:
        path (str): The annotation file.

    Returns:
        tuple[np.ndarray, np.ndarray]: Boxes ``x1, y1, x2, y2`` of shape
        (N, 4) (not yet clipped) and raw person ids of shape (N, ), -2 for
        an unlabeled person.
    """
    _, rows = load_mat(path, ANNOTATION_KEYS, 'PRW frame annotation')
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        return np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 5:
        raise ValueError(f'PRW frame annotation {path}: expected an N x 5 '
                         f'array [id, x, y, w, h], got shape {rows.shape}')
    return xywh_to_xyxy(rows[:, 1:]), rows[:, 0].astype(np.int64)


def load_queries(path: str) -> List[Tuple[int, np.ndarray, str]]:
    """Read ``query_info.txt``: ``pid x y w h frame`` per line.

    Windows line ends and blank lines are handled; coordinates are floats.

    Args:
        path (str): The query file.

    Returns:
        list[tuple]: ``(person_id, box x1 y1 x2 y2, frame)`` per query.
    """
    check_file(path, 'PRW query list')
    queries = []
    with open(path, encoding='utf-8', newline='') as f:
        for line_number, line in enumerate(f.read().splitlines(), 1):
            fields = line.strip().split()
            if not fields:
                continue
            if len(fields) != 6:
                raise ValueError(f'{path}:{line_number}: expected '
                                 f"'pid x y w h frame', got {line.strip()!r}")
            try:
                person_id = int(fields[0])
                box = np.array([float(v) for v in fields[1:5]])
            except ValueError as error:
                raise ValueError(f'{path}:{line_number}: {error}') from error
            queries.append((person_id, xywh_to_xyxy(box)[0], fields[5]))
    return queries


@DATASETS.register_module()
class PRWDataset(BasePersonSearchDataset):
    """PRW (Person Re-identification in the Wild), from its official files.

    `PRW <https://github.com/liangzheng06/PRW-baseline>`_ has 5704 training
    frames, 6112 gallery frames and 2057 queries from six cameras. Raw ids
    are -2 for unlabeled persons; the distinct training ids (483 values:
    1..478, 480..483 and 932) are mapped, in sorted order, to
    ``0..L-1``; test ids are kept as they are. Negative coordinates are
    clipped to the image.

    Args:
        split (str): One of :attr:`SPLITS` (see
            :class:`BasePersonSearchDataset`).
        data_root (str): The root of the download.
        data_prefix (dict): Frame folder relative to ``data_root``.
            Defaults to ``dict(img='frames/')``.
        **kwargs: Arguments of :class:`mmdet.datasets.BaseDetDataset`.
    """

    def __init__(self,
                 split: str = 'train',
                 data_prefix: dict = dict(img='frames/'),
                 **kwargs) -> None:
        super().__init__(split=split, data_prefix=data_prefix, **kwargs)

    def _frames(self, split: str) -> List[str]:
        """Frame names (without ``.jpg``) of ``frame_{split}.mat``."""
        path = osp.join(self.data_root, f'frame_{split}.mat')
        _, frames = load_mat(path, [f'img_index_{split}'],
                             f'PRW {split} frame list')
        return mat_cell_strings(frames)

    def _annotation_path(self, frame: str) -> str:
        """The annotation file of a frame."""
        return osp.join(self.data_root, 'annotations', f'{frame}.jpg.mat')

    def _image_sizes(self, frames: List[str], split: str) -> np.ndarray:
        """``width, height`` of the frames of ``frame_{split}.mat``."""
        return self.read_image_sizes([f'{frame}.jpg' for frame in frames],
                                     osp.join(self.data_root,
                                              f'frame_{split}.mat'))

    def _load_frames(self, frames: List[str]) -> list:
        """Boxes and raw ids of each frame."""
        return [load_frame_boxes(self._annotation_path(f)) for f in frames]

    def load_train(self) -> List[dict]:
        """Training frames; distinct raw ids mapped to ``0..L-1``."""
        frames = self._frames('train')
        annotations = self._load_frames(frames)
        raw_ids = np.concatenate([ids for _, ids in annotations] +
                                 [np.zeros(0, dtype=np.int64)])
        labeled_ids = np.unique(raw_ids[raw_ids >= 0])
        self.set_num_person_ids(len(labeled_ids))
        return self._entries(
            frames, annotations, self._image_sizes(frames, 'train'),
            [contiguous_ids(ids, labeled_ids) for _, ids in annotations])

    def _entries(self, frames: List[str], annotations: list, sizes: np.ndarray,
                 person_ids: List[np.ndarray]) -> List[dict]:
        """One entry per frame, with its boxes and the given ids."""
        return self.make_data_list([f'{frame}.jpg' for frame in frames],
                                   [boxes
                                    for boxes, _ in annotations], person_ids,
                                   [self._annotation_path(f) for f in frames],
                                   sizes, [camera_of(f) for f in frames])

    def load_gallery(self) -> List[dict]:
        """Test frames with their raw ids (-1 for unlabeled persons)."""
        frames = self._frames('test')
        sizes = self._image_sizes(frames, 'test')
        annotations = self._load_frames(frames)
        return self._entries(
            frames, annotations, sizes,
            [np.where(ids < 0, UNLABELED_ID, ids) for _, ids in annotations])

    def load_query(self) -> List[dict]:
        """Queries of ``query_info.txt``, each in a test frame."""
        path = osp.join(self.data_root, 'query_info.txt')
        gallery = set(self._frames('test'))
        queries = load_queries(path)
        for index, (person_id, _, frame) in enumerate(queries):
            if frame not in gallery:
                raise ValueError(f'{path}: query {index} (person '
                                 f'{person_id}) is in frame {frame!r}, '
                                 f'which is not a test frame of '
                                 f'frame_test.mat')
        sizes = self.read_image_sizes(
            [f'{frame}.jpg' for *_, frame in queries], path)
        return self.make_data_list(
            [f'{frame}.jpg'
             for *_, frame in queries], [box[None] for _, box, _ in queries],
            [np.array([person_id]) for person_id, *_ in queries],
            path,
            sizes, [camera_of(frame) for *_, frame in queries],
            query_indices=range(len(queries)))
