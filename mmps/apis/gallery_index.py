# Copyright (c) mmps contributors. All rights reserved.
import hashlib
import json
import os.path as osp
import zipfile
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from mmps.utils.atomic_write import atomic_write
from mmps.utils.topk import sorted_top_k

#: Version of the on-disk layout written by :meth:`GalleryIndex.save`.
INDEX_FORMAT_VERSION = 1
#: Names of the two files of a saved index, inside its folder.
ARRAYS_FILE = 'arrays.npz'
META_FILE = 'index.json'
#: The arrays of ``arrays.npz`` with their dtype kind and number of dims.
ARRAY_KINDS = dict(
    bboxes=('f', 2),
    scores=('f', 1),
    embeddings=('f', 2),
    image_index=('iu', 1),
    image_shapes=('iu', 2))
#: The fields of ``index.json`` with their JSON types.
META_FIELDS = dict(
    format_version=int,
    fingerprint=str,
    embedding_dim=int,
    num_boxes=int,
    image_paths=list,
    skipped=dict)
#: Largest accepted deviation of an embedding's norm from 1.
NORM_TOLERANCE = 1e-3


class SearchMatch(NamedTuple):
    """One gallery detection returned for a query.

    Attributes:
        image_path (str): The gallery image.
        bbox (np.ndarray): The detection, (4, ) ``x1, y1, x2, y2`` in the
            image's pixels.
        score (float): Its detection (person) score.
        similarity (float): What the matches are ranked by: the cosine
            similarity of its embedding to the query's, times its score
            with Confidence Weighted Similarity (``cws=True``).
        image_index (int): Index of the image in the gallery index.
        box_index (int): Index of the detection in the gallery index.
    """
    image_path: str
    bbox: np.ndarray
    score: float
    similarity: float
    image_index: int
    box_index: int


class GalleryIndex:
    """Detections and embeddings of a gallery, computed once, searched often.

    Detections of all images are stored flat: row ``i`` of ``bboxes``,
    ``scores`` and ``embeddings`` belongs to image ``image_index[i]``.
    :meth:`save` writes a folder with ``arrays.npz`` (the arrays) and
    ``index.json`` (image paths and shapes, the model fingerprint and the
    files that could not be read); see ``docs/gallery_index_format.md``.

    Args:
        image_paths (Sequence[str]): The gallery images, N of them.
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
    """

    def __init__(self,
                 image_paths: Sequence[str],
                 image_shapes: np.ndarray,
                 bboxes: np.ndarray,
                 scores: np.ndarray,
                 embeddings: np.ndarray,
                 image_index: np.ndarray,
                 fingerprint: str,
                 skipped: Optional[Dict[str, str]] = None) -> None:
        self.image_paths = [str(path) for path in image_paths]
        self.image_shapes = np.asarray(
            image_shapes, dtype=np.int64).reshape(-1, 2)
        self.bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(scores, dtype=np.float32).reshape(-1)
        self.embeddings = np.asarray(embeddings, dtype=np.float32)
        self.image_index = np.asarray(image_index, dtype=np.int64).reshape(-1)
        self.fingerprint = str(fingerprint)
        self.skipped = dict(skipped or {})
        self._check()

    def _check(self) -> None:
        """Raise a ValueError if the arrays do not fit together."""
        num_images, num_boxes = len(self.image_paths), len(self.bboxes)
        if len(self.image_shapes) != num_images:
            raise ValueError(f'{len(self.image_shapes)} image shapes for '
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
        if (self.image_shapes <= 0).any():
            row = int(np.flatnonzero((self.image_shapes <= 0).any(1))[0])
            raise ValueError(f'image {self.image_paths[row]} has the shape '
                             f'{self.image_shapes[row].tolist()}; expected '
                             'a positive height and width')
        for name in ('bboxes', 'scores', 'embeddings'):
            finite = np.isfinite(getattr(self, name))
            finite = finite if finite.ndim == 1 else finite.all(axis=1)
            if not finite.all():
                row = int(np.flatnonzero(~finite)[0])
                values = np.atleast_1d(getattr(self, name)[row])
                shown = ', '.join(f'{v:g}' for v in values[:4])
                raise ValueError(
                    f'{name} of box {row} are not finite: [{shown}'
                    f'{", ..." if len(values) > 4 else ""}] '
                    f'({int((~np.isfinite(values)).sum())} not finite)')
        deviation = np.abs(np.linalg.norm(self.embeddings, axis=1) - 1)
        if (deviation > NORM_TOLERANCE).any():
            row = int(np.argmax(deviation))
            raise ValueError(
                f'embedding of box {row} has the norm '
                f'{np.linalg.norm(self.embeddings[row]):.6g}; embeddings '
                f'must be unit-norm (within {NORM_TOLERANCE})')
        duplicates = len(self.image_paths) - len(set(self.image_paths))
        if duplicates:
            raise ValueError(f'{duplicates} image paths appear twice')

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
            self.fingerprint, skipped)

    def search(self,
               query_embeddings: np.ndarray,
               top_k: int = 10,
               score_thr: float = 0.5,
               cws: bool = False) -> List[List[SearchMatch]]:
        """Rank the detections of the gallery for each query.

        One matrix product gives the similarities of all queries to all
        detections; detections scored under ``score_thr`` are left out and
        a partial sort picks the ``top_k`` best of each query.

        Args:
            query_embeddings (np.ndarray): Unit-norm query embeddings,
                (Q, D) or (D, ).
            top_k (int): Matches kept per query. Defaults to 10.
            score_thr (float): Minimum detection score. Defaults to 0.5.
            cws (bool): Confidence Weighted Similarity (NAE, SeqNet): rank
                by similarity times detection score. Defaults to False.

        Returns:
            list[list[SearchMatch]]: Per query, its matches by decreasing
            similarity (fewer than ``top_k`` if the gallery has fewer
            detections above ``score_thr``).
        """
        top_indices, top_sims = self.rank(query_embeddings, top_k, score_thr,
                                          cws)
        return [[
            SearchMatch(self.image_paths[self.image_index[i]],
                        self.bboxes[i].copy(), float(self.scores[i]),
                        float(sim), int(self.image_index[i]), int(i))
            for i, sim in zip(indices, sims) if i >= 0
        ] for indices, sims in zip(top_indices, top_sims)]

    def rank(self,
             query_embeddings: np.ndarray,
             top_k: int = 10,
             score_thr: float = 0.5,
             cws: bool = False,
             chunk_size: int = 256) -> tuple:
        """Indices and similarities of the ``top_k`` detections per query.

        Args:
            query_embeddings (np.ndarray): (Q, D) or (D, ).
            top_k (int): Matches kept per query.
            score_thr (float): Minimum detection score.
            cws (bool): Weight each similarity by the detection's score.
            chunk_size (int): Queries ranked against the whole index at
                once; bounds the (chunk_size, M) score matrix: 256 queries
                x 100,000 boxes is 100 MB of float32. Defaults to 256.

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
        excluded = self.scores < score_thr
        any_excluded = bool(excluded.any())
        k = min(top_k, len(self) - int(excluded.sum()))
        indices = np.full((len(queries), top_k), -1, dtype=np.int64)
        sims = np.full((len(queries), top_k), -np.inf, dtype=np.float32)
        if k == 0:
            return indices, sims
        for start in range(0, len(queries), chunk_size):
            chunk = queries[start:start + chunk_size] @ self.embeddings.T
            if cws:
                chunk *= self.scores
            if any_excluded:
                chunk[:, excluded] = -np.inf
            rows = slice(start, start + len(chunk))
            indices[rows, :k], sims[rows, :k] = sorted_top_k(chunk, k)
        return indices, sims

    def paths_outside(self, folder: str) -> List[str]:
        """The image paths that do not lie inside ``folder``.

        Paths are compared as normalised absolute paths (``..`` resolved
        by name, links not followed), so ``folder/../x.jpg`` and
        ``/etc/passwd`` lie outside ``folder``.

        Args:
            folder (str): The folder the index is expected to cover.

        Returns:
            list[str]: The paths outside, in the order of the index.
        """
        root = osp.abspath(folder)
        return [
            path for path in self.image_paths
            if osp.commonpath([root, osp.abspath(path)]) != root
        ]

    def save(self, path: str) -> None:
        """Write the index to the folder ``path`` (created if missing).

        Each file is written to a temporary file in the folder and renamed
        over the old one, so an interrupted save never leaves a truncated
        file; ``index.json`` holds the SHA-256 of ``arrays.npz``, so a save
        interrupted between the two renames is refused by :meth:`load`.
        """
        arrays_file = osp.join(path, ARRAYS_FILE)
        with atomic_write(arrays_file) as file:
            np.savez(
                file,
                bboxes=self.bboxes,
                scores=self.scores,
                embeddings=self.embeddings,
                image_index=self.image_index,
                image_shapes=self.image_shapes)
        meta = dict(
            format_version=INDEX_FORMAT_VERSION,
            fingerprint=self.fingerprint,
            embedding_dim=self.embedding_dim,
            num_boxes=len(self),
            image_paths=self.image_paths,
            skipped=self.skipped,
            arrays_sha256=_sha256(arrays_file))
        with atomic_write(osp.join(path, META_FILE)) as file:
            file.write(json.dumps(meta, indent=1).encode('utf-8'))

    @classmethod
    def load(cls, path: str) -> 'GalleryIndex':
        """Read an index written by :meth:`save`, checking every field.

        Raises:
            FileNotFoundError: If a file of the index is missing.
            ValueError: If the files are not a valid index: not JSON or
                not a readable npz, a field missing or of the wrong type,
                arrays of the wrong dtype or shape, not finite, embeddings
                not of unit norm, ``arrays.npz`` not the one ``index.json``
                was saved with. The error names the file.
        """
        arrays_file, meta_file = (
            osp.join(path, name) for name in (ARRAYS_FILE, META_FILE))
        for file in (arrays_file, meta_file):
            if not osp.isfile(file):
                raise FileNotFoundError(
                    f'{file} not found: a gallery index is a folder with '
                    f'{ARRAYS_FILE} and {META_FILE} (GalleryIndex.save)')
        meta = _read_meta(meta_file)
        digest = meta.get('arrays_sha256')
        if digest is not None and digest != _sha256(arrays_file):
            raise ValueError(
                f'{arrays_file} is not the file {meta_file} was saved with '
                '(its SHA-256 differs): it was changed, or a save was '
                'interrupted; rebuild the index')
        arrays = _read_arrays(arrays_file)
        try:
            index = cls(meta['image_paths'], arrays['image_shapes'],
                        arrays['bboxes'], arrays['scores'],
                        arrays['embeddings'], arrays['image_index'],
                        meta['fingerprint'], meta['skipped'])
        except ValueError as error:
            raise ValueError(f'{path} is not a valid gallery index: '
                             f'{error}') from error
        for key, value in (('num_boxes', len(index)), ('embedding_dim',
                                                       index.embedding_dim)):
            if meta[key] != value:
                raise ValueError(f'{meta_file} says {key} {meta[key]}, '
                                 f'{arrays_file} holds {value}')
        return index


def _sha256(file: str) -> str:
    """The SHA-256 of a file, read in blocks."""
    hasher = hashlib.sha256()
    with open(file, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            hasher.update(block)
    return hasher.hexdigest()


def _read_meta(file: str) -> dict:
    """The checked content of an ``index.json``."""
    try:
        with open(file, encoding='utf-8') as f:
            meta = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f'{file} is not valid JSON: {error}') from error
    if not isinstance(meta, dict):
        raise ValueError(f'{file} must hold a JSON object, got '
                         f'{type(meta).__name__}')
    version = meta.get('format_version')
    if version != INDEX_FORMAT_VERSION:
        raise ValueError(f'{file}: format_version {version!r}; this mmps '
                         f'reads version {INDEX_FORMAT_VERSION}')
    for key, kind in META_FIELDS.items():
        if key not in meta:
            raise ValueError(f'{file} has no {key!r}')
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            raise ValueError(f'{file}: {key!r} must be a JSON '
                             f'{kind.__name__}, got {meta[key]!r:.80}')
    if not all(isinstance(p, str) for p in meta['image_paths']):
        raise ValueError(f'{file}: image_paths must be strings')
    if not all(isinstance(v, str) for v in meta['skipped'].values()):
        raise ValueError(f'{file}: skipped must map paths to reasons '
                         '(strings)')
    if not isinstance(meta.get('arrays_sha256', ''), str):
        raise ValueError(f'{file}: arrays_sha256 must be a string')
    return meta


def _read_arrays(file: str) -> Dict[str, np.ndarray]:
    """The checked arrays of an ``arrays.npz`` (never unpickled)."""
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {
                name: npz[name]
                for name in ARRAY_KINDS if name in npz.files
            }
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        # ValueError: an object array, which would need unpickling
        raise ValueError(f'{file} is not a readable npz file of numeric '
                         f'arrays: {error}') from error
    missing = set(ARRAY_KINDS) - set(arrays)
    if missing:
        raise ValueError(f'{file} lacks {sorted(missing)}')
    for name, (kinds, ndim) in ARRAY_KINDS.items():
        array = arrays[name]
        if array.dtype.kind not in kinds or array.ndim != ndim:
            raise ValueError(
                f'{file}: {name} must be a {ndim}-d array of '
                f'{"floats" if kinds == "f" else "integers"}, got '
                f'{array.ndim}-d {array.dtype}')
    for name, columns in (('bboxes', 4), ('image_shapes', 2)):
        if arrays[name].shape[1] != columns:
            raise ValueError(f'{file}: {name} must have {columns} columns, '
                             f'got shape {arrays[name].shape}')
    return arrays
