# Copyright (c) mmps contributors. All rights reserved.
"""Approximate search of a gallery index with faiss (optional).

Needs ``pip install faiss-cpu`` (``pip install mmps[faiss]``).
"""
import json
import os.path as osp
import re
import weakref
from typing import Optional, Tuple

import numpy as np

from mmps.utils.atomic_write import atomic_path, atomic_write
from .index_storage import META_FILE, sha256_of
from .search_backends import SearchBackend, select_top_k

#: The faiss index file and its record, beside ``index.json``.
FAISS_FILE = 'faiss_ivf.index'
FAISS_META_FILE = 'faiss_ivf.json'

#: faiss factory codes of the cells' storage: float32, 8-bit scalar
#: quantizer, or a 4-bit fast-scan product quantizer of M sub-vectors.
ENCODING_PATTERN = re.compile(r'Flat|SQ8|PQ([1-9][0-9]*)x4fs')


def _import_faiss():
    """The faiss module, or an ImportError that says how to install it."""
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            "the 'faiss' search backend needs faiss: pip install faiss-cpu "
            '(or pip install mmps[faiss])') from error
    return faiss


class FaissIVFBackend(SearchBackend):
    """Approximate search with a faiss inverted-file index (IVF).

    k-means splits the embeddings into ``nlist`` cells; a query is compared
    only with the detections of its ``nprobe`` nearest cells. The metric is
    the inner product, which is the cosine similarity of unit embeddings.

    The search keeps the exact search's rules: faiss considers only the
    detections scored at least ``score_thr`` (an ``IDSelectorBitmap``), and
    returns ``overfetch x top_k`` candidates by similarity; these are scored
    again exactly from the gallery's embeddings (so every returned
    similarity is the exact one), weighted by their scores with CWS, cut at
    ``min_similarity`` and re-ranked. What is approximate is only which
    detections become candidates: a match in a cell that is not visited, or
    (with CWS) one whose similarity is outside the ``overfetch x top_k``
    best, is missed.

    With ``'PQ<M>x4fs'`` storage the cells hold 4-bit product-quantizer
    codes (M sub-vectors of D / M dimensions, M / 2 bytes a detection)
    that faiss scans with SIMD lookup tables ("fast scan"): a query can
    visit a large share of the cells cheaply, which helps where one
    person's detections fall into many cells (high intrinsic dimension),
    and the exact re-scoring of the candidates undoes the codes' coarse
    similarities. Fetch more candidates then (``overfetch`` about 10).

    The defaults favour recall, as a search for one person should: fast-scan
    cells of two dimensions a sub-vector, half of the cells visited, 10
    candidates per kept match. On the README's benchmark (clustered 256-d
    embeddings, a hard case) about half of the cells (512 of 1000 at 1M
    detections, 1600 of 3162 at 10M; ``'PQ128x4fs'``, overfetch 10) found
    0.972 and 0.976 of the exact top 10; at 10M that was 11x faster than
    the exact search over the passing detections. Embeddings of lower
    intrinsic dimension may need fewer cells visited.

    Args:
        nlist (int, optional): Number of cells. Defaults to the square root
            of the number of detections, at most one per 39 detections
            (faiss' minimum of training points per cell).
        nprobe (int, optional): Cells visited per query: more is slower and
            finds more. Defaults to half of the cells (rounded up).
        encoding (str, optional): How the cells store the embeddings, a
            faiss factory code: ``'Flat'`` (float32, 4 x D bytes a
            detection), ``'SQ8'`` (8-bit scalar quantizer, D bytes) or
            ``'PQ<M>x4fs'`` (4-bit fast-scan product quantizer, M / 2 bytes;
            M divides D). Defaults to ``'PQ<D/2>x4fs'`` (``'Flat'`` for an
            odd D).
        overfetch (int, optional): Candidates fetched per kept match.
            Defaults to 10 with product-quantizer cells, 4 otherwise.
        train_size (int): Most embeddings k-means trains on (a random
            sample), per cell. Defaults to 64.
        add_chunk (int): Embeddings added to faiss at once, which bounds
            the memory the build reads at a time. Defaults to 65536.
        seed (int): Seed of the training sample. Defaults to 0.
    """

    def __init__(self,
                 nlist: Optional[int] = None,
                 nprobe: Optional[int] = None,
                 encoding: Optional[str] = None,
                 overfetch: Optional[int] = None,
                 train_size: int = 64,
                 add_chunk: int = 65536,
                 seed: int = 0) -> None:
        if encoding is not None and (not isinstance(encoding, str)
                                     or ENCODING_PATTERN.fullmatch(encoding)
                                     is None):
            raise ValueError("encoding must be 'Flat', 'SQ8' or 'PQ<M>x4fs' "
                             f'(M a positive integer), got {encoding!r}')
        for name, value in (('nlist', nlist), ('nprobe', nprobe), ('overfetch',
                                                                   overfetch),
                            ('train_size', train_size), ('add_chunk',
                                                         add_chunk)):
            if value is not None and value < 1:
                raise ValueError(f'{name} must be positive, got {value}')
        self.nlist = nlist
        self.nprobe = nprobe
        self.encoding = encoding
        self.overfetch = overfetch
        self.train_size = train_size
        self.add_chunk = add_chunk
        self.seed = seed
        self.faiss_index = None
        # the GalleryIndex the faiss index holds, without keeping it alive
        self._gallery: Optional[weakref.ref] = None

    def build(self, index) -> 'FaissIVFBackend':
        """Train the cells on a sample of ``index`` and add every embedding.

        Args:
            index (GalleryIndex): The gallery; read ``add_chunk`` rows at a
                time (it may be memory-mapped).

        Returns:
            FaissIVFBackend: ``self``.
        """
        faiss = _import_faiss()
        num_boxes, dim = len(index), index.embedding_dim
        self._gallery = weakref.ref(index)
        if num_boxes == 0:
            self.faiss_index = None
            return self
        nlist = self.nlist or max(
            1, min(int(round(np.sqrt(num_boxes))), num_boxes // 39))
        # the defaults that depend on the gallery, fixed by the build
        if self.encoding is None:
            self.encoding = f'PQ{dim // 2}x4fs' if dim % 2 == 0 else 'Flat'
        if self.nprobe is None:
            self.nprobe = -(-nlist // 2)
        sub_vectors = ENCODING_PATTERN.fullmatch(self.encoding).group(1)
        if self.overfetch is None:
            self.overfetch = 4 if sub_vectors is None else 10
        if sub_vectors is not None and dim % int(sub_vectors):
            raise ValueError(f'encoding {self.encoding!r} splits the '
                             f'embeddings into {sub_vectors} sub-vectors, '
                             f'which must divide their dimension {dim}')
        faiss_index = faiss.index_factory(dim, f'IVF{nlist},{self.encoding}',
                                          faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(self.seed)
        sample = np.sort(
            rng.choice(
                num_boxes,
                min(num_boxes, self.train_size * nlist),
                replace=False))
        faiss_index.train(
            np.ascontiguousarray(index.embeddings[sample], dtype=np.float32))
        for start in range(0, num_boxes, self.add_chunk):
            faiss_index.add(
                np.ascontiguousarray(
                    index.embeddings[start:start + self.add_chunk],
                    dtype=np.float32))
        self.faiss_index = faiss_index
        return self

    def _check_built_for(self, index) -> None:
        """Raise a ValueError unless this backend holds ``index``."""
        if self._gallery is None or self._gallery() is not index:
            raise ValueError(
                'this faiss index was built for another gallery index '
                'object; build it for this one, or load it with '
                'FaissIVFBackend.load(folder, index)')

    def rank(self, index, queries: np.ndarray, top_k: int, score_thr: float,
             cws: bool,
             min_similarity: Optional[float]) -> Tuple[np.ndarray, np.ndarray]:
        """See :meth:`SearchBackend.rank`; built on first use."""
        if self._gallery is None:
            self.build(index)
        self._check_built_for(index)
        if self.faiss_index is None:
            return (np.full((len(queries), top_k), -1, dtype=np.int64),
                    np.full((len(queries), top_k), -np.inf, np.float32))
        faiss = _import_faiss()
        params = faiss.SearchParametersIVF(nprobe=self.nprobe)
        eligible = index.scores >= score_thr
        if not eligible.all():
            # faiss reads the bits through a pointer: keep them alive
            bits = np.packbits(eligible, bitorder='little')
            selector = faiss.IDSelectorBitmap(bits)
            params.sel = selector
        _, candidates = self.faiss_index.search(
            np.ascontiguousarray(queries, dtype=np.float32),
            min(len(index), self.overfetch * top_k),
            params=params)
        rows = np.maximum(candidates, 0)
        similarities = np.einsum('qd,qkd->qk', queries,
                                 index.embeddings[rows]).astype(np.float32)
        return select_top_k(similarities, candidates, index.scores[rows],
                            top_k, score_thr, cws, min_similarity)

    def save(self, folder: str, index) -> None:
        """Write the faiss index beside the saved gallery index ``index``.

        ``faiss_ivf.index`` is faiss' own format (``faiss.write_index``);
        ``faiss_ivf.json`` records its SHA-256 and the SHA-256 of the
        gallery's ``embeddings.npy``, which binds it to that gallery.

        Args:
            folder (str): The folder ``index`` was saved to or loaded from.
            index (GalleryIndex): The gallery this backend was built for.
        """
        faiss = _import_faiss()
        if self._gallery is None:
            self.build(index)
        self._check_built_for(index)
        if self.faiss_index is None:
            raise ValueError('an empty gallery has no faiss index to save')
        digest = index.embeddings_sha256
        saved = _saved_embeddings_sha256(folder)
        if digest is None or digest != saved:
            raise ValueError(
                f'{folder} does not hold this gallery index: save it there '
                'first (GalleryIndex.save), then its faiss index')
        file = osp.join(folder, FAISS_FILE)
        with atomic_path(file) as tmp:
            faiss.write_index(self.faiss_index, tmp)
            record = dict(
                nlist=int(self.faiss_index.nlist),
                nprobe=self.nprobe,
                encoding=self.encoding,
                overfetch=self.overfetch,
                num_boxes=len(index),
                fingerprint=index.fingerprint,
                embeddings_sha256=digest,
                faiss_sha256=sha256_of(tmp))
        with atomic_write(osp.join(folder, FAISS_META_FILE)) as handle:
            handle.write(json.dumps(record, indent=1).encode('utf-8'))

    @classmethod
    def load(cls, folder: str, index) -> 'FaissIVFBackend':
        """Read the faiss index that :meth:`save` wrote beside ``index``.

        Args:
            folder (str): The gallery index folder.
            index (GalleryIndex): The gallery, loaded from ``folder``.

        Raises:
            FileNotFoundError: If a file is missing.
            ValueError: If ``faiss_ivf.json`` is not valid, or the faiss
                index was not saved with this gallery or was changed.
        """
        faiss = _import_faiss()
        file, meta_file = (
            osp.join(folder, name) for name in (FAISS_FILE, FAISS_META_FILE))
        for path in (file, meta_file):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path} not found (written by '
                                        'FaissIVFBackend.save)')
        try:
            with open(meta_file, encoding='utf-8') as f:
                record = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(
                f'{meta_file} is not valid JSON: {error}') from error
        fields = dict(
            nlist=int,
            nprobe=int,
            encoding=str,
            overfetch=int,
            num_boxes=int,
            fingerprint=str,
            embeddings_sha256=str,
            faiss_sha256=str)
        for key, kind in fields.items():
            if not isinstance(record, dict) or not isinstance(
                    record.get(key), kind):
                raise ValueError(f'{meta_file}: {key!r} must be a JSON '
                                 f'{kind.__name__}')
        if (record['embeddings_sha256'] != _saved_embeddings_sha256(folder)
                or record['embeddings_sha256'] != index.embeddings_sha256
                or record['num_boxes'] != len(index)
                or record['fingerprint'] != index.fingerprint):
            raise ValueError(
                f'{file} was built for another gallery index than the one '
                f'in {folder} (or than the one given); build it again')
        if sha256_of(file) != record['faiss_sha256']:
            raise ValueError(
                f'{file} is not the file {meta_file} was saved with (its '
                'SHA-256 differs); build it again')
        try:
            backend = cls(
                nlist=record['nlist'],
                nprobe=record['nprobe'],
                encoding=record['encoding'],
                overfetch=record['overfetch'])
        except ValueError as error:
            raise ValueError(f'{meta_file}: {error}') from error
        backend.faiss_index = faiss.read_index(file)
        if backend.faiss_index.ntotal != len(index) or \
                backend.faiss_index.d != index.embedding_dim:
            raise ValueError(f'{file} holds {backend.faiss_index.ntotal} '
                             f'{backend.faiss_index.d}-d vectors; the '
                             f'gallery {len(index)} {index.embedding_dim}-d')
        backend._gallery = weakref.ref(index)
        return backend


def _saved_embeddings_sha256(folder: str) -> Optional[str]:
    """The SHA-256 of ``embeddings.npy`` in a version 2 ``index.json``."""
    try:
        with open(osp.join(folder, META_FILE), encoding='utf-8') as f:
            return json.load(f)['files']['embeddings']['sha256']
    except (OSError, ValueError, KeyError, TypeError):
        return None
