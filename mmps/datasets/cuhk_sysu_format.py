# Copyright (c) mmps contributors. All rights reserved.
"""Readers of CUHK-SYSU's official annotation files.

Layout of the download, relative to the data root::

    Image/SSM/*.jpg
    annotation/Images.mat                 # Img: boxes of every image
    annotation/pool.mat                   # pool: the gallery (test) images
    annotation/test/train_test/Train.mat  # Train: the training identities
    annotation/test/train_test/TestG{50,100,500,1000,2000,4000}.mat

Boxes in the files are ``x, y, w, h``; the readers return ``x1, y1, x2, y2``.
"""
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .box_checks import check_boxes, xywh_to_xyxy
from .file_checks import check_file
from .id_mapping import match_boxes
from .mat_io import load_mat, mat_cell_strings, mat_str, mat_struct_items
from .parse_cache import cached_parse

IMAGES_FILE = 'annotation/Images.mat'
POOL_FILE = 'annotation/pool.mat'
TRAIN_FILE = 'annotation/test/train_test/Train.mat'
TEST_FILE = 'annotation/test/train_test/TestG{}.mat'
GALLERY_SIZES = (50, 100, 500, 1000, 2000, 4000)
#: Version of :class:`SearchProtocol`'s arrays in the parse cache.
PROTOCOL_LAYOUT_VERSION = 1
#: Version of :class:`ImageBoxes`' arrays in the parse cache.
IMAGES_LAYOUT_VERSION = 1
#: Version and layout (see :func:`_check_layout`) of the parsed
#: ``pool.mat`` in the parse cache.
POOL_LAYOUT_VERSION = 1
POOL_LAYOUT = dict(names=('U', ('I', )))
#: Version and layout of the parsed ``Train.mat`` in the parse cache
#: (A appearances, L identities).
TRAIN_LAYOUT_VERSION = 1
TRAIN_LAYOUT = dict(
    idnames=('U', ('L', )),
    image_names=('U', ('A', )),
    records=('f', ('A', 5)))
#: Evaluation subsets papers report: name -> (file, key). Each file is laid
#: out like a TestG file (Query and Gallery per entry), for some queries.
SUBSETS = dict(
    occlusion=('annotation/test/subset/Occlusion.mat', 'Occlusion1'),
    resolution=('annotation/test/subset/Resolution.mat', 'Test_Size'))


@dataclass
class ImageBoxes:
    """The boxes of every image of ``Images.mat``.

    Attributes:
        names (list[str]): Image names, e.g. ``'s1.jpg'``.
        boxes (list[np.ndarray]): Boxes of each image, ``x1, y1, x2, y2``,
            shape (n_i, 4), without the boxes of zero or negative width or
            height.
        raw_boxes (list[np.ndarray]): The same boxes as stored,
            ``x, y, w, h``, shape (n_i, 4), used to match other files.
    """
    names: List[str]
    boxes: List[np.ndarray]
    raw_boxes: List[np.ndarray]

    #: dtype kind and shape of each array of :meth:`arrays` (sizes by
    #: name: I images, B boxes).
    LAYOUT = dict(
        names=('U', ('I', )),
        box_counts=('i', ('I', )),
        boxes=('f', ('B', 4)),
        raw_boxes=('f', ('B', 4)))

    def arrays(self) -> Dict[str, np.ndarray]:
        """Flat arrays for :mod:`mmps.datasets.parse_cache`: the names,
        the number of boxes of each image and the boxes of all images."""
        return dict(
            names=_strings(self.names),
            box_counts=np.array([len(b) for b in self.boxes], dtype=np.int64),
            boxes=np.concatenate(self.boxes + [np.zeros((0, 4))]),
            raw_boxes=np.concatenate(self.raw_boxes + [np.zeros((0, 4))]))

    @classmethod
    def check_arrays(cls, arrays: Dict[str, np.ndarray], where: str) -> None:
        """Check arrays of the layout of :meth:`arrays`.

        Args:
            arrays (dict[str, np.ndarray]): The arrays by name.
            where (str): Their origin, for errors.

        Raises:
            ValueError: If an array is missing, of another kind or shape,
                or the box counts do not fit the boxes.
        """
        _check_layout(cls.LAYOUT, arrays, where)
        counts = arrays['box_counts']
        if counts.sum() != len(arrays['boxes']) or (counts < 0).any():
            raise ValueError(f'{where}: the box counts do not fit the boxes')

    @classmethod
    def from_arrays(cls, arrays: Dict[str, np.ndarray],
                    where: str) -> 'ImageBoxes':
        """Build from :meth:`arrays`, checking them (:meth:`check_arrays`).

        Args:
            arrays (dict[str, np.ndarray]): The arrays by name.
            where (str): Their origin, for errors.

        Returns:
            :obj:`ImageBoxes`: The images and their boxes.
        """
        cls.check_arrays(arrays, where)
        starts = np.cumsum(arrays['box_counts'])[:-1]
        return cls(arrays['names'].tolist(), np.split(arrays['boxes'], starts),
                   np.split(arrays['raw_boxes'], starts))


@dataclass
class SearchProtocol:
    """Queries and their galleries of one ``TestG{N}.mat`` file.

    The galleries are flat: entry ``e`` (one gallery image of one query)
    belongs to query ``gallery_query[e]``, queries in file order. Every
    attribute is a numpy array, for :mod:`mmps.datasets.parse_cache`.

    Attributes:
        query_names (np.ndarray): Image of each query, str, shape (Q, ).
        query_boxes (np.ndarray): Query boxes, ``x1, y1, x2, y2``, (Q, 4).
        query_raw_boxes (np.ndarray): The same boxes as stored,
            ``x, y, w, h``, (Q, 4).
        query_person_ids (np.ndarray): Identity of each query, from its
            ``idname`` (``'p123'`` is 123), shape (Q, ).
        image_names (np.ndarray): The distinct gallery images, str, in
            order of first listing, shape (I, ).
        gallery_counts (np.ndarray): Gallery size of each query, (Q, ).
        gallery_images (np.ndarray): Image of each entry, an index into
            ``image_names``, shape (E, ).
        gallery_raw_boxes (np.ndarray): The query person's box in the image
            of each entry as stored, ``x, y, w, h``, NaN where the image
            does not hold the person (``idlocate`` empty), shape (E, 4).
    """
    query_names: np.ndarray
    query_boxes: np.ndarray
    query_raw_boxes: np.ndarray
    query_person_ids: np.ndarray
    image_names: np.ndarray
    gallery_counts: np.ndarray
    gallery_images: np.ndarray
    gallery_raw_boxes: np.ndarray

    #: dtype kind and shape of each attribute (sizes by name).
    LAYOUT = dict(
        query_names=('U', ('Q', )),
        query_boxes=('f', ('Q', 4)),
        query_raw_boxes=('f', ('Q', 4)),
        query_person_ids=('i', ('Q', )),
        image_names=('U', ('I', )),
        gallery_counts=('i', ('Q', )),
        gallery_images=('i', ('E', )),
        gallery_raw_boxes=('f', ('E', 4)))

    @property
    def gallery_query(self) -> np.ndarray:
        """Query of each gallery entry, shape (E, )."""
        return np.repeat(
            np.arange(len(self.gallery_counts)), self.gallery_counts)

    def arrays(self) -> Dict[str, np.ndarray]:
        """The attributes by name."""
        return {name: getattr(self, name) for name in self.LAYOUT}

    @classmethod
    def from_arrays(cls, arrays: Dict[str, np.ndarray],
                    where: str) -> 'SearchProtocol':
        """Build from :meth:`arrays`, checking the layout.

        Args:
            arrays (dict[str, np.ndarray]): The attributes by name.
            where (str): Their origin, for errors.

        Returns:
            :obj:`SearchProtocol`: The protocol.

        Raises:
            ValueError: If an array is missing, of another kind or shape,
                or the gallery does not fit the queries and images.
        """
        sizes = _check_layout(cls.LAYOUT, arrays, where)
        images = arrays['gallery_images']
        if arrays['gallery_counts'].sum() != len(images) or len(images) and (
                images.min() < 0 or images.max() >= sizes['I']):
            raise ValueError(f'{where}: the gallery entries do not fit the '
                             f'gallery counts and image names')
        return cls(**{name: arrays[name] for name in cls.LAYOUT})


def _check_layout(layout: Dict[str, tuple], arrays: Dict[str, np.ndarray],
                  where: str) -> Dict[str, int]:
    """Check arrays against a layout of dtype kinds and named shapes.

    Args:
        layout (dict[str, tuple]): Per array, its dtype kind and its shape
            with named sizes, e.g. ``('f', ('B', 4))``.
        arrays (dict[str, np.ndarray]): The arrays by name.
        where (str): Their origin, for errors.

    Returns:
        dict[str, int]: The value of each named size.

    Raises:
        ValueError: If an array is missing, of another kind or shape.
    """
    sizes = {}
    for name, (kind, shape) in layout.items():
        array = arrays.get(name)
        if array is None or array.dtype.kind != kind or \
                array.ndim != len(shape):
            raise ValueError(f'{where}: {name} must be a {len(shape)}-d '
                             f'array of kind {kind!r}')
        for size, dim in zip(array.shape, shape):
            if sizes.setdefault(dim, size) != size:
                raise ValueError(f'{where}: {name} has shape {array.shape}, '
                                 f'expected {shape} with {dim} = '
                                 f'{sizes[dim]}')
    return sizes


def _box_rows(struct_items: np.ndarray, field: str) -> np.ndarray:
    """Stack a 4-number field of struct records into an (n, 4) array."""
    if len(struct_items) == 0:
        return np.zeros((0, 4))
    return np.stack([
        np.asarray(item[field], dtype=np.float64).reshape(4)
        for item in struct_items
    ])


def _match_key(image_index: np.ndarray, raw_boxes: np.ndarray) -> np.ndarray:
    """Integer rows ``(image, x, y, w, h)`` that identify a box.

    Coordinates are truncated to integers as the reference code does before
    it compares boxes of two files.
    """
    return np.concatenate([image_index[:, None],
                           raw_boxes.astype(np.int64)],
                          axis=1)


def is_sizeless(raw_boxes: np.ndarray) -> np.ndarray:
    """Which ``x, y, w, h`` boxes have a zero or negative width or height.

    ``Images.mat`` holds such boxes; the reference code drops them.

    Args:
        raw_boxes (np.ndarray): Boxes as stored, (N, 4).

    Returns:
        np.ndarray: (N, ) bool.
    """
    return (raw_boxes[:, 2] <= 0) | (raw_boxes[:, 3] <= 0)


def _person_id(idname: str, where: str) -> int:
    """The number of an identity name such as ``'p123'``."""
    match = re.fullmatch(r'p?(\d+)', idname.strip())
    if match is None:
        raise ValueError(f'{where}: identity name {idname!r} is not of the '
                         f"form 'p<number>'")
    return int(match.group(1))


def load_images(data_root: str, cache_dir: Optional[str] = None) -> ImageBoxes:
    """Read ``annotation/Images.mat``, once.

    The parsed (and checked) boxes are cached
    (:mod:`mmps.datasets.parse_cache`): a later read of the unchanged file
    loads them instead of parsing it.

    Args:
        data_root (str): The CUHK-SYSU root.
        cache_dir (str, optional): The cache folder (see
            :func:`mmps.datasets.parse_cache.cache_dir_of`).

    Returns:
        :obj:`ImageBoxes`: Names and boxes of all images; boxes of zero
        (or negative) width or height are dropped, as in the reference code.

    Raises:
        ValueError: If a box is not finite.
    """
    path = osp.join(data_root, IMAGES_FILE)
    check_file(path, 'CUHK-SYSU image annotation')
    arrays = cached_parse(
        path,
        lambda: parse_images_file(path).arrays(),
        f'image_boxes/{IMAGES_LAYOUT_VERSION}',
        lambda arrays: ImageBoxes.check_arrays(arrays, path),
        cache_dir=cache_dir)
    return ImageBoxes.from_arrays(arrays, path)


def parse_images_file(path: str) -> ImageBoxes:
    """Parse ``Images.mat``; see :func:`load_images`.

    Args:
        path (str): The ``Images.mat`` file.

    Returns:
        :obj:`ImageBoxes`: Names and boxes of all images.
    """
    _, images = load_mat(path, ['Img'], 'CUHK-SYSU image annotation')
    names, boxes, raw_boxes = [], [], []
    for record in mat_struct_items(images):
        name = mat_str(record['imname'])
        raw = _box_rows(mat_struct_items(record['box']), 'idlocate')
        # NaN sizes are kept, for check_boxes to refuse them
        kept = np.flatnonzero(~is_sizeless(raw))
        raw = raw[kept]
        names.append(name)
        raw_boxes.append(raw)
        boxes.append(
            check_boxes(
                raw,
                f'{path} ({name})',
                layout='xywh',
                name_of=lambda i, kept=kept: f'box {kept[i]}'))
    return ImageBoxes(names, boxes, raw_boxes)


def load_pool(data_root: str, cache_dir: Optional[str] = None) -> List[str]:
    """Read ``annotation/pool.mat``, once: the names of the gallery images.

    Args:
        data_root (str): The CUHK-SYSU root.
        cache_dir (str, optional): The cache folder (see
            :func:`mmps.datasets.parse_cache.cache_dir_of`).

    Returns:
        list[str]: The gallery image names, in file order.
    """
    path = osp.join(data_root, POOL_FILE)
    check_file(path, 'CUHK-SYSU gallery pool')
    arrays = cached_parse(
        path,
        lambda: dict(names=_strings(parse_pool_file(path))),
        f'pool/{POOL_LAYOUT_VERSION}',
        lambda arrays: _check_layout(POOL_LAYOUT, arrays, path),
        cache_dir=cache_dir)
    return arrays['names'].tolist()


def parse_pool_file(path: str) -> List[str]:
    """Parse ``pool.mat``; see :func:`load_pool`."""
    _, pool = load_mat(path, ['pool'], 'CUHK-SYSU gallery pool')
    return mat_cell_strings(pool)


def load_train_appearances(
    data_root: str,
    cache_dir: Optional[str] = None
) -> Tuple[List[str], List[str], np.ndarray]:
    """Read ``Train.mat``, once: every appearance of every training identity.

    Args:
        data_root (str): The CUHK-SYSU root.
        cache_dir (str, optional): The cache folder (see
            :func:`mmps.datasets.parse_cache.cache_dir_of`).

    Returns:
        tuple: ``idnames`` (list[str], one per identity, in file order),
        ``image_names`` (list[str], one per appearance) and ``records``
        (np.ndarray of shape (A, 5): identity index, then the box
        ``x, y, w, h`` as stored).
    """
    path = osp.join(data_root, TRAIN_FILE)
    check_file(path, 'CUHK-SYSU training identities')

    def parse() -> Dict[str, np.ndarray]:
        idnames, image_names, records = parse_train_file(path)
        return dict(
            idnames=_strings(idnames),
            image_names=_strings(image_names),
            records=records)

    arrays = cached_parse(
        path, parse, f'train/{TRAIN_LAYOUT_VERSION}',
        lambda arrays: _check_layout(TRAIN_LAYOUT, arrays, path), cache_dir)
    return (arrays['idnames'].tolist(), arrays['image_names'].tolist(),
            arrays['records'])


def parse_train_file(path: str) -> Tuple[List[str], List[str], np.ndarray]:
    """Parse ``Train.mat``; see :func:`load_train_appearances`."""
    _, train = load_mat(path, ['Train'], 'CUHK-SYSU training identities')
    idnames, image_names, records = [], [], []
    for index, cell in enumerate(np.asarray(train, dtype=object).flat):
        identity = mat_struct_items(cell)[0]
        idnames.append(mat_str(identity['idname']))
        scenes = mat_struct_items(identity['scene'])
        image_names.extend(mat_str(scene['imname']) for scene in scenes)
        boxes = _box_rows(scenes, 'idlocate')
        records.append(
            np.concatenate([np.full((len(boxes), 1), index), boxes], axis=1))
    records = np.concatenate(records) if records else np.zeros((0, 5))
    return idnames, image_names, records


def assign_person_ids(images: ImageBoxes, image_names: List[str],
                      raw_boxes: np.ndarray, person_ids: np.ndarray,
                      where: str) -> List[np.ndarray]:
    """Person id of every box of ``Images.mat`` from appearances elsewhere.

    Boxes are matched by image and equal integer coordinates, in one
    vectorised lookup. An appearance that matches no box raises: an identity
    is never dropped silently.

    Args:
        images (:obj:`ImageBoxes`): All images and boxes.
        image_names (list[str]): Image of each appearance.
        raw_boxes (np.ndarray): Box of each appearance, ``x, y, w, h``,
            shape (A, 4).
        person_ids (np.ndarray): Identity of each appearance, shape (A, ).
        where (str): The file of the appearances, for errors.

    Returns:
        list[np.ndarray]: Per image, the person id of each box, -1 where no
        appearance names it.
    """
    image_index = {name: i for i, name in enumerate(images.names)}
    unknown = [name for name in image_names if name not in image_index]
    if unknown:
        raise ValueError(f'{where}: {len(unknown)} appearances are in images '
                         f'missing from {IMAGES_FILE}, e.g. {unknown[0]!r}')
    counts = [len(b) for b in images.raw_boxes]
    key_images = np.repeat(np.arange(len(counts)), counts)
    keys = _match_key(key_images, np.concatenate(images.raw_boxes))
    queries = _match_key(
        np.array([image_index[n] for n in image_names], dtype=np.int64),
        np.asarray(raw_boxes).reshape(-1, 4))
    found = match_boxes(keys, queries)
    raw_boxes = np.asarray(raw_boxes).reshape(-1, 4)
    # a labeled box without area (or with NaN) matches no box of
    # Images.mat: it is the box that is wrong, not the labeling
    broken = np.flatnonzero((found < 0) & (is_sizeless(raw_boxes)
                                           | ~np.isfinite(raw_boxes).all(1)))
    if len(broken):
        first = int(broken[0])
        raise ValueError(
            f'{where}: person {int(person_ids[first])} in '
            f'{image_names[first]!r} has the box x, y, w, h = '
            f'{raw_boxes[first].tolist()}, which is not finite or has no '
            f'area (expected w > 0 and h > 0; {IMAGES_FILE} drops such '
            f'boxes); {len(broken)} labeled boxes are so')
    if (found < 0).any():
        first = int(np.flatnonzero(found < 0)[0])
        raise ValueError(
            f'{where}: {int((found < 0).sum())} appearances match no box of '
            f'{IMAGES_FILE}, e.g. person {int(person_ids[first])} in '
            f'{image_names[first]!r} at x, y, w, h = '
            f'{raw_boxes[first].tolist()}')
    flat_ids = np.full(len(keys), -1, dtype=np.int64)
    flat_ids[found] = person_ids
    return np.split(flat_ids, np.cumsum(counts)[:-1])


def load_protocol(data_root: str, gallery_size: int) -> SearchProtocol:
    """Read the queries and galleries of ``TestG{gallery_size}.mat``.

    Args:
        data_root (str): The CUHK-SYSU root.
        gallery_size (int): One of 50, 100, 500, 1000, 2000, 4000.

    Returns:
        :obj:`SearchProtocol`: The 2900 queries and their galleries.
    """
    if gallery_size not in GALLERY_SIZES:
        raise ValueError(f'CUHK-SYSU gallery size must be one of '
                         f'{GALLERY_SIZES}, got {gallery_size}')
    return load_protocol_file(
        osp.join(data_root, TEST_FILE.format(gallery_size)),
        f'TestG{gallery_size}', 'CUHK-SYSU test protocol')


def load_subset(data_root: str, name: str) -> SearchProtocol:
    """Read an evaluation subset (``'occlusion'`` or ``'resolution'``).

    Args:
        data_root (str): The CUHK-SYSU root.
        name (str): A key of :data:`SUBSETS`.

    Returns:
        :obj:`SearchProtocol`: The subset's queries and their galleries.
    """
    if name not in SUBSETS:
        raise ValueError(f'CUHK-SYSU subset must be one of '
                         f'{tuple(SUBSETS)}, got {name!r}')
    file, key = SUBSETS[name]
    return load_protocol_file(
        osp.join(data_root, file), key, f'CUHK-SYSU {name} subset')


def load_protocol_file(path: str,
                       key: str,
                       what: str,
                       cache_dir: Optional[str] = None) -> SearchProtocol:
    """Read a struct array of ``Query`` / ``Gallery`` entries, once.

    The parsed arrays are cached (:mod:`mmps.datasets.parse_cache`): a
    later read of the unchanged file loads them instead of parsing it.

    Args:
        path (str): The ``.mat`` file.
        key (str): Its variable, e.g. ``'TestG100'``.
        what (str): What the file is, for errors.
        cache_dir (str, optional): The cache folder (see
            :func:`mmps.datasets.parse_cache.cache_dir_of`).

    Returns:
        :obj:`SearchProtocol`: The queries and their galleries.
    """
    check_file(path, what)
    arrays = cached_parse(
        path,
        lambda: parse_protocol_file(path, key, what).arrays(),
        f'search_protocol/{key}/{PROTOCOL_LAYOUT_VERSION}',
        lambda arrays: SearchProtocol.from_arrays(arrays, path),
        cache_dir=cache_dir)
    return SearchProtocol.from_arrays(arrays, path)


def parse_protocol_file(path: str, key: str, what: str) -> SearchProtocol:
    """Parse a struct array of ``Query`` / ``Gallery`` entries.

    Args:
        path (str): The ``.mat`` file.
        key (str): Its variable, e.g. ``'TestG100'``.
        what (str): What the file is, for errors.

    Returns:
        :obj:`SearchProtocol`: The queries and their galleries.
    """
    _, protocol = load_mat(path, [key], what)
    fields = getattr(getattr(protocol, 'dtype', None), 'names', None) or ()
    if not {'Query', 'Gallery'} <= set(fields):
        raise ValueError(f'{what} {path}: {key!r} must be a struct array '
                         f'with fields Query and Gallery, got fields '
                         f'{list(fields)}')
    query_names, query_boxes, query_ids = [], [], []
    gallery_counts, gallery_images, gallery_raw_boxes = [], [], []
    image_index: Dict[str, int] = {}
    for index, item in enumerate(mat_struct_items(protocol)):
        query = mat_struct_items(item['Query'])[0]
        query_names.append(mat_str(query['imname']))
        query_boxes.append(
            np.asarray(query['idlocate'], dtype=np.float64).reshape(4))
        query_ids.append(
            _person_id(mat_str(query['idname']), f'{path} query {index}'))
        gallery = mat_struct_items(item['Gallery'])
        gallery_counts.append(len(gallery))
        gallery_images.extend(
            image_index.setdefault(mat_str(g['imname']), len(image_index))
            for g in gallery)
        boxes = np.full((len(gallery), 4), np.nan)
        for i, entry in enumerate(gallery):
            located = np.asarray(entry['idlocate'], dtype=np.float64)
            if located.size == 4:
                boxes[i] = located.reshape(4)
        gallery_raw_boxes.append(boxes)
    query_raw_boxes = np.asarray(query_boxes).reshape(-1, 4)
    return SearchProtocol(
        query_names=_strings(query_names),
        query_boxes=xywh_to_xyxy(query_raw_boxes),
        query_raw_boxes=query_raw_boxes,
        query_person_ids=np.asarray(query_ids, dtype=np.int64),
        image_names=_strings(list(image_index)),
        gallery_counts=np.asarray(gallery_counts, dtype=np.int64),
        gallery_images=np.asarray(gallery_images, dtype=np.int64),
        gallery_raw_boxes=np.concatenate(gallery_raw_boxes +
                                         [np.zeros((0, 4))]))


def _strings(values: List[str]) -> np.ndarray:
    """A numpy array of str (kind ``'U'``, even when empty)."""
    return np.array(values, dtype=str).reshape(-1)


def protocol_appearances(
        protocol: SearchProtocol) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """The labeled appearances of a protocol: queries and gallery boxes.

    Args:
        protocol (:obj:`SearchProtocol`): Any gallery size (each holds every
            gallery image of each query person).

    Returns:
        tuple: ``image_names`` (list[str]), ``raw_boxes`` (np.ndarray of
        shape (A, 4), ``x, y, w, h``) and ``person_ids`` (np.ndarray of
        shape (A, )).
    """
    present = ~np.isnan(protocol.gallery_raw_boxes[:, 0])
    names = np.concatenate([
        protocol.query_names,
        protocol.image_names[protocol.gallery_images[present]]
    ])
    boxes = np.concatenate(
        [protocol.query_raw_boxes, protocol.gallery_raw_boxes[present]])
    ids = np.concatenate([
        protocol.query_person_ids,
        protocol.query_person_ids[protocol.gallery_query[present]]
    ])
    return names.tolist(), boxes, ids
