# Copyright (c) mmps contributors. All rights reserved.
import math
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from mmps.structures import NORM_TOLERANCE
from .index_storage import META_FILE, read_index, write_index
from .search_backends import ExactBackend, SearchBackend, build_backend


def _check_finite(name: str, values: np.ndarray, first_row: int) -> None:
    """Raise a ValueError naming the first row of ``values`` not finite.

    Args:
        name (str): What the values are, for the message.
        values (np.ndarray): Rows of values, (R, ) or (R, C).
        first_row (int): The number of the first row in the index.
    """
    finite = np.isfinite(values)
    finite = finite if finite.ndim == 1 else finite.all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        shown_values = np.atleast_1d(values[row])
        shown = ', '.join(f'{v:g}' for v in shown_values[:4])
        raise ValueError(
            f'{name} of box {first_row + row} are not finite: [{shown}'
            f'{", ..." if len(shown_values) > 4 else ""}] '
            f'({int((~np.isfinite(shown_values)).sum())} not finite)')


class SearchMatch(NamedTuple):
    """One gallery detection returned for a query: what, where and when.

    Attributes:
        image_path (str): The gallery image; for a video frame its key
            (:func:`~mmps.apis.media.frame_key`).
        bbox (np.ndarray): The detection, (4, ) ``x1, y1, x2, y2`` in the
            image's pixels.
        score (float): Its detection (person) score.
        similarity (float): What the matches are ranked by: the cosine
            similarity of its embedding to the query's, times its score
            with Confidence Weighted Similarity (``cws=True``).
        image_index (int): Index of the image in the gallery index.
        box_index (int): Index of the detection in the gallery index.
        source (str): The image file, or the video the frame is from.
        frame (int): The frame number in the video, ``-1`` for an image.
        timestamp (float): Seconds from the start of the video, NaN for an
            image.
        camera (str): The camera, ``''`` if unknown.
    """
    image_path: str
    bbox: np.ndarray
    score: float
    similarity: float
    image_index: int
    box_index: int
    source: str = ''
    frame: int = -1
    timestamp: float = math.nan
    camera: str = ''


class GalleryIndex:
    """Detections and embeddings of a gallery, computed once, searched often.

    Detections of all images are stored flat: row ``i`` of ``bboxes``,
    ``scores`` and ``embeddings`` belongs to image ``image_index[i]``. An
    image is a still image or a frame of a video; ``sources``, ``frames``,
    ``timestamps`` and ``cameras`` say where and when it was taken.
    :meth:`save` writes a folder with one ``.npy`` file per array and
    ``index.json``, which :meth:`load` can open memory-mapped; see
    ``docs/gallery_index_format.md``.

    Args:
        image_paths (Sequence[str]): The gallery images, N of them, unique:
            a path, or for a video frame :func:`~mmps.apis.media.frame_key`.
        image_shapes (np.ndarray): ``(height, width)`` of each, (N, 2).
        bboxes (np.ndarray): Detections ``x1, y1, x2, y2``, (M, 4).
        scores (np.ndarray): Detection scores, (M, ).
        embeddings (np.ndarray): Unit-norm embeddings, (M, D).
        image_index (np.ndarray): Image of each detection, (M, ), in
            ``[0, N)``.
        fingerprint (str): Identifies the model that computed the
            embeddings; an index is only searched with that model.
        skipped (dict[str, str], optional): Files that could not be read,
            with the reason.
        sources (Sequence[str], optional): The file of each image: itself,
            or the video of a frame. Defaults to ``image_paths``.
        frames (np.ndarray, optional): Frame number of each image in its
            video, (N, ), ``-1`` for a still image. Defaults to all -1.
        timestamps (np.ndarray, optional): Seconds from the start of the
            video, (N, ), NaN for a still image (or an unknown time).
            Defaults to all NaN.
        cameras (Sequence[str], optional): Camera of each image, ``''`` if
            unknown. Defaults to all ``''``.
    """

    def __init__(self,
                 image_paths: Sequence[str],
                 image_shapes: np.ndarray,
                 bboxes: np.ndarray,
                 scores: np.ndarray,
                 embeddings: np.ndarray,
                 image_index: np.ndarray,
                 fingerprint: str,
                 skipped: Optional[Dict[str, str]] = None,
                 sources: Optional[Sequence[str]] = None,
                 frames: Optional[np.ndarray] = None,
                 timestamps: Optional[np.ndarray] = None,
                 cameras: Optional[Sequence[str]] = None) -> None:
        self._assign(image_paths, image_shapes, bboxes, scores, embeddings,
                     image_index, fingerprint, skipped, sources, frames,
                     timestamps, cameras)
        self._check()

    def _assign(self, image_paths, image_shapes, bboxes, scores, embeddings,
                image_index, fingerprint, skipped, sources, frames, timestamps,
                cameras) -> None:
        """Set the fields from the arguments of ``__init__``, unchecked.

        Arrays of the right dtype (e.g. memory-mapped ones) are not copied.
        """
        self.image_paths = [str(path) for path in image_paths]
        num_images = len(self.image_paths)
        self.image_shapes = np.asarray(
            image_shapes, dtype=np.int64).reshape(-1, 2)
        self.bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(scores, dtype=np.float32).reshape(-1)
        self.embeddings = np.asarray(embeddings, dtype=np.float32)
        self.image_index = np.asarray(image_index, dtype=np.int64).reshape(-1)
        self.fingerprint = str(fingerprint)
        self.skipped = dict(skipped or {})
        self.sources = self._strings(
            'sources', self.image_paths if sources is None else sources)
        self.cameras = self._strings(
            'cameras', [''] * num_images if cameras is None else cameras)
        self.frames = np.asarray(
            np.full(num_images, -1) if frames is None else frames,
            dtype=np.int64).reshape(-1)
        self.timestamps = np.asarray(
            np.full(num_images, np.nan) if timestamps is None else timestamps,
            dtype=np.float64).reshape(-1)
        #: SHA-256 of ``embeddings.npy`` once saved or loaded (version 2)
        self.embeddings_sha256: Optional[str] = None
        self._backends: Dict[str, SearchBackend] = {}

    @staticmethod
    def _strings(name: str, values: Sequence[str]) -> List[str]:
        """``values`` as a list, if they are all strings."""
        values = list(values)
        wrong = [v for v in values if not isinstance(v, str)]
        if wrong:
            raise ValueError(f'{name} must be strings, got {wrong[0]!r:.80}')
        return values

    def _check(self, embedding_values: bool = True) -> None:
        """Raise a ValueError if the arrays do not fit together.

        Args:
            embedding_values (bool): Check that the embeddings are finite
                and unit-norm, which reads them all. Defaults to True.
        """
        num_images, num_boxes = len(self.image_paths), len(self.bboxes)
        for name in ('image_shapes', 'sources', 'frames', 'timestamps',
                     'cameras'):
            if len(getattr(self, name)) != num_images:
                raise ValueError(f'{len(getattr(self, name))} {name} for '
                                 f'{num_images} images')
        if self.embeddings.ndim != 2:
            raise ValueError('embeddings must be (num_boxes, dim), got shape '
                             f'{self.embeddings.shape}')
        for name in ('scores', 'embeddings', 'image_index'):
            if len(getattr(self, name)) != num_boxes:
                raise ValueError(f'{len(getattr(self, name))} {name} for '
                                 f'{num_boxes} boxes')
        if num_boxes and (self.image_index.min() < 0
                          or self.image_index.max() >= num_images):
            raise ValueError('image_index must lie in [0, '
                             f'{num_images}), got values in '
                             f'[{self.image_index.min()}, '
                             f'{self.image_index.max()}]')
        for name, wrong, expected in (
            ('image_shapes', (self.image_shapes <= 0).any(axis=1),
             'a positive height and width'),
            ('frames', self.frames < -1, 'a frame number >= 0, or -1 for a '
             'still image'), ('timestamps', np.isinf(self.timestamps),
                              'seconds (finite), or NaN for a still image')):
            if wrong.any():
                row = int(np.flatnonzero(wrong)[0])
                raise ValueError(
                    f'image {self.image_paths[row]} has the {name[:-1]} '
                    f'{getattr(self, name)[row].tolist()}; expected '
                    f'{expected}')
        for name in ('bboxes', 'scores'):
            _check_finite(name, getattr(self, name), 0)
        if embedding_values:
            self._check_embeddings()
        duplicates = len(self.image_paths) - len(set(self.image_paths))
        if duplicates:
            raise ValueError(f'{duplicates} image paths appear twice')

    def _check_embeddings(self, chunk_size: int = 65536) -> None:
        """Raise a ValueError unless every embedding is finite and unit-norm.

        Read ``chunk_size`` rows at a time, so that the check of a big (or
        memory-mapped) index needs no full-size temporary array.
        """
        for start in range(0, len(self.embeddings), chunk_size):
            chunk = self.embeddings[start:start + chunk_size]
            _check_finite('embeddings', chunk, start)
            deviation = np.abs(np.linalg.norm(chunk, axis=1) - 1)
            if (deviation > NORM_TOLERANCE).any():
                row = int(np.argmax(deviation))
                raise ValueError(
                    f'embedding of box {start + row} has the norm '
                    f'{np.linalg.norm(chunk[row]):.6g}; embeddings must be '
                    f'unit-norm (within {NORM_TOLERANCE})')

    @classmethod
    def empty(cls, embedding_dim: int, fingerprint: str) -> 'GalleryIndex':
        """An index without images, to be grown with :meth:`append`."""
        return cls([], np.zeros((0, 2)), np.zeros((0, 4)), np.zeros(0),
                   np.zeros((0, embedding_dim)), np.zeros(0), fingerprint)

    @property
    def embedding_dim(self) -> int:
        """Length D of the embeddings."""
        return self.embeddings.shape[1]

    @property
    def num_images(self) -> int:
        """Number of gallery images."""
        return len(self.image_paths)

    def __len__(self) -> int:
        """Number of detections."""
        return len(self.bboxes)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_images={self.num_images}, '
                f'num_boxes={len(self)}, embedding_dim={self.embedding_dim}, '
                f'skipped={len(self.skipped)})')

    def append(self, other: 'GalleryIndex') -> 'GalleryIndex':
        """The index of both galleries; ``self`` and ``other`` are kept.

        The result is a new index in memory: its arrays are copies (a
        memory-mapped index is read whole); save it to write a new folder,
        or over the old one, whose files are then all rewritten.

        Raises:
            ValueError: If ``other`` was computed by another model, or
                holds an image that ``self`` holds already.
        """
        if other.fingerprint != self.fingerprint or \
                other.embedding_dim != self.embedding_dim:
            raise ValueError(
                'cannot append an index computed by another model '
                f'(fingerprint {other.fingerprint[:12]}, dim '
                f'{other.embedding_dim}) to one of fingerprint '
                f'{self.fingerprint[:12]}, dim {self.embedding_dim}')
        common = set(self.image_paths) & set(other.image_paths)
        if common:
            raise ValueError(f'{len(common)} images are in both indexes, '
                             f'e.g. {sorted(common)[0]}')
        skipped = {**self.skipped, **other.skipped}
        return GalleryIndex(
            self.image_paths + other.image_paths,
            np.concatenate([self.image_shapes, other.image_shapes]),
            np.concatenate([self.bboxes, other.bboxes]),
            np.concatenate([self.scores, other.scores]),
            np.concatenate([self.embeddings, other.embeddings]),
            np.concatenate(
                [self.image_index, other.image_index + self.num_images]),
            self.fingerprint,
            skipped,
            sources=self.sources + other.sources,
            frames=np.concatenate([self.frames, other.frames]),
            timestamps=np.concatenate([self.timestamps, other.timestamps]),
            cameras=self.cameras + other.cameras)

    def search(
        self,
        query_embeddings: np.ndarray,
        top_k: int = 10,
        score_thr: float = 0.5,
        cws: bool = False,
        min_similarity: Optional[float] = None,
        backend: Union[str,
                       SearchBackend] = 'exact') -> List[List[SearchMatch]]:
        """Rank the detections of the gallery for each query.

        Args:
            query_embeddings (np.ndarray): Unit-norm query embeddings,
                (Q, D) or (D, ).
            top_k (int): Matches kept per query. Defaults to 10.
            score_thr (float): Minimum detection score. Defaults to 0.5.
            cws (bool): Confidence Weighted Similarity (NAE, SeqNet): rank
                by similarity times detection score. Defaults to False.
            min_similarity (float, optional): Minimum of what the matches
                are ranked by (``SearchMatch.similarity``): a query may get
                fewer than ``top_k`` matches, or none. Defaults to None
                (no minimum).
            backend (str | SearchBackend): ``'exact'`` (every detection is
                scored), ``'faiss'`` (approximate, built on first use and
                kept by this index) or a backend object. Defaults to
                ``'exact'``.

        Returns:
            list[list[SearchMatch]]: Per query, its matches by decreasing
            similarity (fewer than ``top_k`` if fewer detections pass
            ``score_thr`` and ``min_similarity``).
        """
        top_indices, top_sims = self.rank(
            query_embeddings,
            top_k,
            score_thr,
            cws,
            min_similarity=min_similarity,
            backend=backend)
        return [[
            self._match(int(i), float(sim)) for i, sim in zip(indices, sims)
            if i >= 0
        ] for indices, sims in zip(top_indices, top_sims)]

    def _match(self, box: int, similarity: float) -> SearchMatch:
        """The :class:`SearchMatch` of detection ``box``."""
        image = int(self.image_index[box])
        return SearchMatch(self.image_paths[image], np.array(self.bboxes[box]),
                           float(self.scores[box]), similarity, image, box,
                           self.sources[image], int(self.frames[image]),
                           float(self.timestamps[image]), self.cameras[image])

    def rank(
        self,
        query_embeddings: np.ndarray,
        top_k: int = 10,
        score_thr: float = 0.5,
        cws: bool = False,
        chunk_size: Optional[int] = None,
        min_similarity: Optional[float] = None,
        backend: Union[str, SearchBackend] = 'exact'
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Indices and similarities of the ``top_k`` detections per query.

        Args:
            query_embeddings (np.ndarray): (Q, D) or (D, ).
            top_k (int): Matches kept per query.
            score_thr (float): Minimum detection score.
            cws (bool): Weight each similarity by the detection's score.
            chunk_size (int, optional): Gallery rows the exact backend
                scores at once (see :class:`ExactBackend`); only with
                ``backend='exact'``. Defaults to 65536.
            min_similarity (float, optional): Minimum ranked similarity.
            backend (str | SearchBackend): See :meth:`search`.

        Returns:
            tuple[np.ndarray, np.ndarray]: Detection indices (Q, top_k),
            ``-1`` where the gallery has fewer matches, and their
            similarities (Q, top_k), ``-inf`` there.
        """
        queries = np.asarray(query_embeddings, dtype=np.float32)
        queries = queries.reshape(-1, queries.shape[-1])
        if queries.shape[1] != self.embedding_dim:
            raise ValueError(f'query embeddings have {queries.shape[1]} '
                             f'dims; the index has {self.embedding_dim}')
        if top_k < 1:
            raise ValueError(f'top_k must be positive, got {top_k}')
        if chunk_size is not None:
            if backend != 'exact':
                raise ValueError('chunk_size is a parameter of the exact '
                                 f'backend, not of {backend!r}')
            backend = ExactBackend(chunk_size)
        elif isinstance(backend, str):
            if backend not in self._backends:
                self._backends[backend] = build_backend(backend)
            backend = self._backends[backend]
        return backend.rank(self, queries, top_k, score_thr, cws,
                            min_similarity)

    def paths_outside(self, folder: str) -> List[str]:
        """The files (images and videos) that do not lie inside ``folder``.

        Paths are compared as normalised absolute paths (``..`` resolved
        by name, links not followed), so ``folder/../x.jpg`` and
        ``/etc/passwd`` lie outside ``folder``.

        Args:
            folder (str): The folder the index is expected to cover.

        Returns:
            list[str]: The ``sources`` outside, each once, in the order of
            the index.
        """
        root = osp.abspath(folder)
        return [
            path for path in dict.fromkeys(self.sources)
            if osp.commonpath([root, osp.abspath(path)]) != root
        ]

    def save(self, path: str) -> None:
        """Write the index to the folder ``path`` (created if missing).

        Format version 2: one ``.npy`` file per array, then ``index.json``
        (see :func:`~mmps.apis.index_storage.write_index`). Each file is
        written to a temporary file in the folder and renamed over the old
        one, so an interrupted save never leaves a truncated file;
        ``index.json`` holds the size and SHA-256 of each array file, so a
        save interrupted before it is renamed is refused by :meth:`load`.
        Arrays are written in blocks: a memory-mapped index is not read
        whole. Saving over the folder an index was loaded from with
        ``mmap=True`` is safe: the old files stay mapped until unused.
        """
        arrays = {
            name: getattr(self, name)
            for name in ('bboxes', 'scores', 'embeddings', 'image_index',
                         'image_shapes', 'frames', 'timestamps')
        }
        meta = dict(
            fingerprint=self.fingerprint,
            embedding_dim=self.embedding_dim,
            num_boxes=len(self),
            num_images=self.num_images,
            image_paths=self.image_paths,
            sources=self.sources,
            cameras=self.cameras,
            skipped=self.skipped)
        files = write_index(path, arrays, meta)
        self.embeddings_sha256 = files['embeddings']['sha256']

    @classmethod
    def load(cls,
             path: str,
             mmap: bool = False,
             verify: Optional[bool] = None) -> 'GalleryIndex':
        """Read an index written by :meth:`save`, checking every field.

        Args:
            path (str): The index folder.
            mmap (bool): Open the arrays of a version 2 index memory-mapped
                and read-only: loading reads only ``index.json``, the small
                arrays and the ends of each file; the embeddings are read
                when searched. Version 1 (``arrays.npz``) is always read
                whole. Defaults to False.
            verify (bool, optional): Read every byte: compare each file's
                SHA-256 with ``index.json`` and check that every embedding
                is finite and unit-norm. Without, the sizes, headers and
                the SHA-256 of the first and last MiB of each file are
                compared, which catches an interrupted save or a swapped
                file but not an edit inside a big file. Defaults to
                ``not mmap``.

        Raises:
            FileNotFoundError: If a file of the index is missing.
            ValueError: If the files are not a valid index: not JSON or
                not readable arrays, a field missing or of the wrong type,
                arrays of the wrong dtype or shape, not finite, embeddings
                not of unit norm, an array file not the one ``index.json``
                was saved with. The error names the file.
        """
        verify = not mmap if verify is None else verify
        meta, arrays = read_index(path, mmap, verify)
        index = cls.__new__(cls)
        try:
            index._assign(meta['image_paths'], arrays['image_shapes'],
                          arrays['bboxes'], arrays['scores'],
                          arrays['embeddings'], arrays['image_index'],
                          meta['fingerprint'], meta['skipped'],
                          meta.get('sources'), arrays.get('frames'),
                          arrays.get('timestamps'), meta.get('cameras'))
            # version 1 was read whole: check it whole
            index._check(
                embedding_values=verify or meta['format_version'] == 1)
        except ValueError as error:
            raise ValueError(f'{path} is not a valid gallery index: '
                             f'{error}') from error
        if meta['format_version'] > 1:
            index.embeddings_sha256 = meta['files']['embeddings']['sha256']
        meta_file = osp.join(path, META_FILE)
        for key, value in (('num_boxes', len(index)), ('embedding_dim',
                                                       index.embedding_dim)):
            if meta[key] != value:
                raise ValueError(f'{meta_file} says {key} {meta[key]}, '
                                 f'the arrays hold {value}')
        return index
