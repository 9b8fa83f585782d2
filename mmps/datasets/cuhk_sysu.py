# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
from typing import List

import numpy as np

from mmps.registry import DATASETS
from .base_person_search_dataset import BasePersonSearchDataset
from .cuhk_sysu_format import (IMAGES_FILE, TEST_FILE, TRAIN_FILE,
                               assign_person_ids, load_images, load_pool,
                               load_protocol, load_train_appearances,
                               protocol_appearances)


@DATASETS.register_module()
class CUHKSYSUDataset(BasePersonSearchDataset):
    """CUHK-SYSU person search dataset, read from its official files.

    `CUHK-SYSU <http://www.ee.cuhk.edu.hk/~xgwang/PS/dataset.html>`_ has
    18184 images: 11206 training images (all images minus the gallery pool)
    with 55272 boxes of which those of the 5532 ``Train.mat`` identities are
    labeled, and 6978 gallery images with 40871 boxes. The 2900 queries are
    those of ``TestG50.mat`` (the same, in the same order, in every
    ``TestG{N}.mat``). Gallery boxes of a query person get its identity
    from the ``TestG`` file; all others are unlabeled (-1).

    The metainfo's ``protocol_root`` is ``data_root``: the test metric
    (:class:`mmps.evaluation.PersonSearchMetric`) reads the ``TestG{N}.mat``
    files of the data that was tested, without a second setting.

    Args:
        split (str): One of :attr:`SPLITS` (see
            :class:`BasePersonSearchDataset`).
        data_root (str): The root of the download (holding ``Image/SSM``
            and ``annotation``).
        data_prefix (dict): Image folder relative to ``data_root``.
            Defaults to ``dict(img='Image/SSM/')``.
        **kwargs: Arguments of :class:`mmdet.datasets.BaseDetDataset`.
    """

    def __init__(self,
                 split: str = 'train',
                 data_prefix: dict = dict(img='Image/SSM/'),
                 **kwargs) -> None:
        super().__init__(split=split, data_prefix=data_prefix, **kwargs)
        self._metainfo['protocol_root'] = self.data_root

    def load_train(self) -> List[dict]:
        """Training images: all images minus the pool, with identities."""
        images = load_images(self.data_root)
        idnames, image_names, records = load_train_appearances(self.data_root)
        person_ids = assign_person_ids(images, image_names, records[:, 1:],
                                       records[:, 0].astype(np.int64),
                                       osp.join(self.data_root, TRAIN_FILE))
        self.set_num_person_ids(len(idnames))
        gallery = set(load_pool(self.data_root))
        rows = [
            i for i, name in enumerate(images.names) if name not in gallery
        ]
        where = osp.join(self.data_root, IMAGES_FILE)
        sizes = self.read_image_sizes([images.names[i] for i in rows], where)
        return self.make_data_list([images.names[i] for i in rows],
                                   [images.boxes[i] for i in rows],
                                   [person_ids[i] for i in rows], where, sizes)

    def load_gallery(self) -> List[dict]:
        """Pool images; query persons labeled from ``TestG50.mat``."""
        images = load_images(self.data_root)
        protocol = load_protocol(self.data_root, 50)
        image_names, raw_boxes, ids = protocol_appearances(protocol)
        person_ids = assign_person_ids(
            images, image_names, raw_boxes, ids,
            osp.join(self.data_root, TEST_FILE.format(50)))
        image_index = {name: i for i, name in enumerate(images.names)}
        where = osp.join(self.data_root, IMAGES_FILE)
        pool = load_pool(self.data_root)
        for name in pool:
            if name not in image_index:
                raise ValueError(f'gallery image {name!r} of the pool is '
                                 f'missing from {where}')
        sizes = self.read_image_sizes(pool, where)
        rows = [image_index[name] for name in pool]
        return self.make_data_list(pool, [images.boxes[i] for i in rows],
                                   [person_ids[i] for i in rows], where, sizes)

    def load_query(self) -> List[dict]:
        """The 2900 queries of ``TestG50.mat``, each in a gallery image."""
        protocol = load_protocol(self.data_root, 50)
        path = osp.join(self.data_root, TEST_FILE.format(50))
        query_names = protocol.query_names.tolist()
        gallery = set(load_pool(self.data_root))
        for index, name in enumerate(query_names):
            if name not in gallery:
                raise ValueError(f'{path}: query {index} is in image '
                                 f'{name!r}, which is not a gallery image '
                                 f'of the pool')
        sizes = self.read_image_sizes(query_names, path)
        return self.make_data_list(
            query_names,
            protocol.query_boxes[:, None],
            protocol.query_person_ids[:, None],
            path,
            sizes,
            query_indices=range(len(query_names)))
