# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmdet.datasets import BaseDetDataset

from .utils import (check_dir, clip_boxes_to_image, make_instances,
                    read_image_size)


class BasePersonSearchDataset(BaseDetDataset):
    """Base class of person search datasets.

    A dataset is one split of a benchmark:

    - ``'train'``: scene images with all person boxes; ``person_id`` is the
      training identity ``0..L-1``, or -1 for an unlabeled person. The
      number of identities ``L`` is ``metainfo['num_person_ids']``, which
      sizes the OIM lookup table;
    - ``'gallery'``: the test scene images with all person boxes;
      ``person_id`` is the dataset's own identity, or -1;
    - ``'query'``: one entry per query, the image and the query box only,
      with ``is_query=True`` and ``query_index``.

    Each ``data_list`` entry holds ``img_path``, ``img_id``, ``width``,
    ``height``, ``instances`` (``bbox`` ``x1, y1, x2, y2`` in pixels,
    ``bbox_label`` 0, ``ignore_flag`` and ``person_id``) and, where the
    dataset has cameras, ``cam_id``.

    Args:
        split (str): ``'train'``, ``'gallery'`` or ``'query'``.
        **kwargs: Arguments of :class:`mmdet.datasets.BaseDetDataset`.
    """

    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])
    SPLITS = ('train', 'gallery', 'query')

    def __init__(self, split: str = 'train', **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{self.SPLITS}, got {split!r}')
        self.split = split
        super().__init__(**kwargs)

    @property
    def img_dir(self) -> str:
        """The folder of the images (``data_root`` joined with the prefix)."""
        return self.data_prefix.get('img', '') or self.data_root

    def load_data_list(self) -> List[dict]:
        """Load the entries of the split.

        Returns:
            list[dict]: The data list.
        """
        check_dir(self.data_root, f'{type(self).__name__} data_root')
        loader = dict(
            train=self.load_train,
            gallery=self.load_gallery,
            query=self.load_query)[self.split]
        return loader()

    def load_train(self) -> List[dict]:
        """Entries of the training split; sets ``num_person_ids``."""
        raise NotImplementedError

    def load_gallery(self) -> List[dict]:
        """Entries of the gallery split."""
        raise NotImplementedError

    def load_query(self) -> List[dict]:
        """Entries of the query split."""
        raise NotImplementedError

    def set_num_person_ids(self, num_person_ids: int) -> None:
        """Record the number of training identities in the metainfo."""
        self._metainfo['num_person_ids'] = int(num_person_ids)

    def make_data_info(self,
                       img_id: int,
                       filename: str,
                       boxes: np.ndarray,
                       person_ids: np.ndarray,
                       where: str,
                       cam_id: Optional[int] = None,
                       query_index: Optional[int] = None,
                       image_size: Optional[Tuple[int, int]] = None,
                       ignore_flags: Optional[np.ndarray] = None) -> dict:
        """One ``data_list`` entry; boxes are checked against the image.

        Args:
            img_id (int): Index of the entry.
            filename (str): Image file name relative to :attr:`img_dir`.
            boxes (np.ndarray): ``x1, y1, x2, y2`` boxes, shape (N, 4).
            person_ids (np.ndarray): Person id of each box, shape (N, ).
            where (str): Annotation file of the boxes, for errors.
            cam_id (int, optional): Camera of the image.
            query_index (int, optional): Index of the query, for the query
                split.
            image_size (tuple[int, int], optional): ``(width, height)`` of
                the image where the annotation gives it; read from the
                image's header otherwise.
            ignore_flags (np.ndarray, optional): 1 for boxes to ignore,
                shape (N, ).

        Returns:
            dict: The entry.
        """
        img_path = osp.join(self.img_dir, filename)
        width, height = image_size or read_image_size(img_path)
        boxes = clip_boxes_to_image(
            np.asarray(boxes).reshape(-1, 4), width, height,
            f'{where} ({filename})')
        data_info = dict(
            img_path=img_path,
            img_id=img_id,
            width=width,
            height=height,
            instances=make_instances(boxes, person_ids, ignore_flags))
        if cam_id is not None:
            data_info['cam_id'] = cam_id
        if query_index is not None:
            data_info.update(is_query=True, query_index=query_index)
        return data_info
