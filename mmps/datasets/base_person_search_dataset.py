# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets import BaseDetDataset

from .box_checks import check_boxes, clip_boxes_to_image
from .file_checks import check_dir
from .image_headers import read_image_sizes
from .validation_split import (VAL_SPLIT_DEFAULTS, choose_validation_split,
                               gallery_entries, holdout_entries, query_entries)


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
      with ``is_query=True`` and ``query_index``;
    - ``'val_gallery'`` and ``'val_query'``: the gallery and the queries
      of the validation split, a seeded subset of the training identities
      (see :mod:`mmps.datasets.validation_split`), scored like PRW's test
      (every gallery image but the query's own). The benchmarks have no
      validation set, and a checkpoint chosen on the test split is chosen
      on the test data.

    Each ``data_list`` entry holds ``img_path``, ``img_id``, ``width``,
    ``height``, ``instances`` (``bbox`` ``x1, y1, x2, y2`` in pixels,
    ``bbox_label`` 0, ``ignore_flag`` and ``person_id``) and, where the
    dataset has cameras, ``cam_id``.

    Args:
        split (str): One of :attr:`SPLITS`.
        val_split (dict, optional): ``num_ids``, ``num_distractor_images``
            (each a count, or a float fraction) and ``seed`` of the
            validation split, over :data:`VAL_SPLIT_DEFAULTS` (5% of the
            identities seen in two or more images, 5% of the other images
            as distractors, seed 0). The training split with
            ``holdout_val`` and the validation splits must agree on it.
        holdout_val (bool): ``'train'`` only: leave the validation
            identities unlabeled and number the others ``0..L-V-1``, so
            that validation measures identities never trained on.
            Defaults to False (the official training set, as the papers
            train on it).
        **kwargs: Arguments of :class:`mmdet.datasets.BaseDetDataset`.
    """

    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])
    SPLITS = ('train', 'val_gallery', 'val_query', 'gallery', 'query')
    #: Splits read from the training annotations.
    TRAINING_SPLITS = ('train', 'val_gallery', 'val_query')

    def __init__(self,
                 split: str = 'train',
                 val_split: Optional[dict] = None,
                 holdout_val: bool = False,
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split must be one of {self.SPLITS}, '
                             f'got {split!r}')
        if holdout_val and split != 'train':
            raise ValueError(f'{name}: holdout_val applies to the train '
                             f'split, not to {split!r}')
        unknown = set(val_split or {}) - set(VAL_SPLIT_DEFAULTS)
        if unknown:
            raise ValueError(f'{name}: unknown val_split keys '
                             f'{sorted(unknown)}; expected some of '
                             f'{sorted(VAL_SPLIT_DEFAULTS)}')
        self.split = split
        self.val_split = dict(VAL_SPLIT_DEFAULTS, **(val_split or {}))
        self.holdout_val = holdout_val
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
        if self.split == 'gallery':
            return self.load_gallery()
        if self.split == 'query':
            return self.load_query()
        train = self.load_train()
        if self.split == 'train' and not self.holdout_val:
            return train
        split = choose_validation_split(
            train,
            where=f'{type(self).__name__} at {self.data_root}',
            **self.val_split)
        if self.split == 'val_gallery':
            return gallery_entries(train, split)
        if self.split == 'val_query':
            return query_entries(train, split)
        train, num_person_ids = holdout_entries(train, split)
        self.set_num_person_ids(num_person_ids)
        return train

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

    def image_path(self, filename: str) -> str:
        """The path of an image file name of the annotations."""
        return osp.join(self.img_dir, filename)

    def read_image_sizes(self,
                         filenames: Sequence[str],
                         where: str,
                         declared: Optional[np.ndarray] = None) -> np.ndarray:
        """Sizes of the images from their headers, checked all at once.

        Args:
            filenames (Sequence[str]): Image file names relative to
                :attr:`img_dir`, N of them.
            where (str): The annotation file that lists them, for errors.
            declared (np.ndarray, optional): ``width, height`` given by the
                annotations, (N, 2); <= 0 where not given.

        Returns:
            np.ndarray: ``width, height`` of each image as loaded, (N, 2).

        Raises:
            ValueError: Listing every image that is missing, unreadable or
                not of its declared size.
        """
        return read_image_sizes([self.image_path(f) for f in filenames], where,
                                declared)

    def make_data_list(
            self,
            filenames: Sequence[str],
            boxes: Sequence[np.ndarray],
            person_ids: Sequence[np.ndarray],
            where: Union[str, Sequence[str]],
            image_sizes: np.ndarray,
            cam_ids: Optional[Sequence[Optional[int]]] = None,
            query_indices: Optional[Sequence[int]] = None,
            ignore_flags: Optional[Sequence[np.ndarray]] = None) -> List[dict]:
        """The ``data_list`` entries ``img_id`` 0..N-1 of a split, the boxes
        of all entries checked and clipped to their images at once.

        Args:
            filenames (Sequence[str]): Image file names relative to
                :attr:`img_dir`, N of them.
            boxes (Sequence[np.ndarray]): ``x1, y1, x2, y2`` boxes of each
                entry, (n_i, 4).
            person_ids (Sequence[np.ndarray]): Person ids of each entry's
                boxes, (n_i, ).
            where (str | Sequence[str]): Annotation file of all entries, or
                of each, for errors.
            image_sizes (np.ndarray): ``width, height`` of each image, (N,
                2), from :meth:`read_image_sizes`.
            cam_ids (Sequence[int | None], optional): Camera of each image.
            query_indices (Sequence[int], optional): Index of each query,
                for the query split.
            ignore_flags (Sequence[np.ndarray], optional): 1 for boxes to
                ignore, per entry (n_i, ).

        Returns:
            list[dict]: Per image: ``img_path``, ``img_id``, ``width``,
            ``height``, ``instances`` (per box: ``bbox`` clipped, float32
            values, ``bbox_label`` 0, ``ignore_flag``, ``person_id``), and
            ``cam_id`` when known, ``is_query`` and ``query_index`` for
            queries.

        Raises:
            ValueError: Naming the first box that is not finite or has no
                area inside its image (:func:`check_boxes`,
                :func:`clip_boxes_to_image`), with its file and image.
        """
        count = len(filenames)
        boxes = [np.asarray(b, dtype=np.float64).reshape(-1, 4) for b in boxes]
        lengths = np.array([len(b) for b in boxes], dtype=np.int64)
        flat = np.concatenate(boxes + [np.zeros((0, 4))])
        sizes = np.asarray(image_sizes, dtype=np.int64).reshape(count, 2)
        limits = np.repeat(sizes, lengths, axis=0)[:, [0, 1, 0, 1]]
        clipped = flat.clip(0, limits)
        valid = np.isfinite(flat).all(axis=1)
        for box in (flat, clipped):
            valid &= (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
        # the checks name the first bad box (the same conditions, entry by
        # entry): ``where (filename): box j ...``
        for index in np.unique(np.repeat(np.arange(count), lengths)[~valid]):
            named = (where if isinstance(where, str) else
                     where[index]) + f' ({filenames[index]})'
            width, height = (int(v) for v in sizes[index])
            clip_boxes_to_image(
                check_boxes(boxes[index], named), width, height, named)
        rows = clipped.astype(np.float32).tolist()
        ids = np.concatenate([np.asarray(p).reshape(-1) for p in person_ids] +
                             [np.zeros(0)]).astype(np.int64).tolist()
        flags = [0] * len(rows) if ignore_flags is None else np.concatenate(
            [np.asarray(f).reshape(-1)
             for f in ignore_flags] + [np.zeros(0)]).astype(np.int64).tolist()
        ends = np.cumsum(lengths).tolist()
        data_list = []
        for index, filename in enumerate(filenames):
            start, end = ends[index] - int(lengths[index]), ends[index]
            data_info = dict(
                img_path=self.image_path(filename),
                img_id=index,
                width=int(sizes[index, 0]),
                height=int(sizes[index, 1]),
                instances=[
                    dict(
                        bbox=rows[i],
                        bbox_label=0,
                        ignore_flag=flags[i],
                        person_id=ids[i]) for i in range(start, end)
                ])
            cam_id = None if cam_ids is None else cam_ids[index]
            if cam_id is not None:
                data_info['cam_id'] = cam_id
            if query_indices is not None:
                data_info.update(
                    is_query=True, query_index=query_indices[index])
            data_list.append(data_info)
        return data_list
