# Copyright (c) mmps contributors. All rights reserved.
"""How a :class:`~mmps.apis.GalleryIndex` finds the best detections.

Every backend returns what the exact search defines: the ``top_k``
detections by similarity (times the detection score with CWS), among the
detections scored at least ``score_thr`` whose ranked similarity is at
least ``min_similarity``. :class:`ExactBackend` scores every detection;
an approximate backend (:class:`~mmps.apis.faiss_backend.FaissIVFBackend`)
proposes candidates, which :func:`select_top_k` then scores exactly.
"""
import weakref
from typing import Optional, Tuple

import numpy as np

from mmps.utils.topk import sorted_top_k


def select_top_k(
        similarities: np.ndarray,
        indices: np.ndarray,
        scores: np.ndarray,
        top_k: int,
        score_thr: float,
        cws: bool,
        min_similarity: Optional[float] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """The ``top_k`` best candidates of each query by the search's rules.

    Args:
        similarities (np.ndarray): Cosine similarities of the queries to
            the candidates, (Q, C) float32; modified in place.
        indices (np.ndarray): The candidates' detection indices, (C, ) or
            (Q, C); ``-1`` for no candidate.
        scores (np.ndarray): Their detection scores, shaped like
            ``indices``.
        top_k (int): Candidates kept per query.
        score_thr (float): Minimum detection score.
        cws (bool): Rank by similarity times detection score.
        min_similarity (float, optional): Minimum ranked similarity.

    Returns:
        tuple[np.ndarray, np.ndarray]: Detection indices (Q, top_k),
        ``-1`` where fewer candidates pass, and their ranked similarities
        (Q, top_k), ``-inf`` there.
    """
    if cws:
        similarities *= scores
    excluded = (scores < score_thr) | (indices < 0)
    if excluded.ndim == 1:
        # a column index is several times faster than a broadcast mask
        if excluded.any():
            similarities[:, excluded] = -np.inf
    else:
        similarities[excluded] = -np.inf
    if min_similarity is not None:
        similarities[similarities < min_similarity] = -np.inf
    columns, best = sorted_top_k(similarities, top_k)
    found = np.take_along_axis(
        np.broadcast_to(indices, similarities.shape), columns, axis=1)
    found = np.where(np.isneginf(best), -1, found)
    padding = ((0, 0), (0, top_k - best.shape[1]))
    return (np.pad(found, padding, constant_values=-1),
            np.pad(best, padding, constant_values=-np.inf))


class SearchBackend:
    """Ranks the detections of a gallery index for queries.

    Subclasses implement :meth:`rank`; the gallery index checks the
    arguments before calling it.
    """

    def rank(self, index, queries: np.ndarray, top_k: int, score_thr: float,
             cws: bool,
             min_similarity: Optional[float]) -> Tuple[np.ndarray, np.ndarray]:
        """Indices (Q, top_k) and ranked similarities (Q, top_k), as
        :func:`select_top_k` returns them, of unit queries (Q, D)."""
        raise NotImplementedError


class ExactBackend(SearchBackend):
    """Scores every detection: one matrix product per chunk of the gallery.

    The gallery is read ``chunk_size`` rows at a time (a memory-mapped
    index is never read whole into memory); each chunk's best ``top_k``
    are merged with the best so far. Extra memory: about ``chunk_size x Q``
    float32 similarities, e.g. 65,536 x 100 queries = 26 MB.

    Detections scored under ``score_thr`` can never be returned, so when
    they are most of the gallery (as in footage, where an index keeps every
    detection and few are confident) scoring them is wasted reading: with
    ``compact_fraction``, the embeddings of the detections that pass a
    threshold are gathered once into a contiguous array, kept for the last
    threshold used, and only they are scored. The result is the same (the
    same products of the same rows); the cost is that copy's memory and
    its one-time gathering.

    Args:
        chunk_size (int): Gallery rows scored at once. Defaults to 65536.
        compact_fraction (float): Gather the passing detections when they
            are at most this share of the gallery; 0 never gathers.
            Defaults to 0.5.
    """

    def __init__(self,
                 chunk_size: int = 65536,
                 compact_fraction: float = 0.5) -> None:
        if chunk_size < 1:
            raise ValueError(f'chunk_size must be positive, got {chunk_size}')
        if not 0 <= compact_fraction <= 1:
            raise ValueError('compact_fraction must be in [0, 1], got '
                             f'{compact_fraction}')
        self.chunk_size = chunk_size
        self.compact_fraction = compact_fraction
        self._compact: Optional[tuple] = None

    def compact(self, index, score_thr: float) -> Optional[tuple]:
        """The detections of ``index`` scored at least ``score_thr``,
        gathered, or None when they are too many to be worth a copy.

        Returns:
            tuple | None: Their indices (P, ), embeddings (P, D) float32
            (contiguous) and scores (P, ).
        """
        cached = self._compact
        if cached is not None and cached[0]() is index and \
                cached[1] == score_thr:
            return cached[2]
        passing = np.flatnonzero(index.scores >= score_thr)
        if len(passing) > self.compact_fraction * len(index):
            return None
        embeddings = np.empty((len(passing), index.embedding_dim), np.float32)
        for start in range(0, len(passing), self.chunk_size):
            rows = passing[start:start + self.chunk_size]
            embeddings[start:start + len(rows)] = index.embeddings[rows]
        gathered = (passing, embeddings, np.asarray(index.scores)[passing])
        self._compact = (weakref.ref(index), score_thr, gathered)
        return gathered

    def rank(self, index, queries: np.ndarray, top_k: int, score_thr: float,
             cws: bool,
             min_similarity: Optional[float]) -> Tuple[np.ndarray, np.ndarray]:
        """See :meth:`SearchBackend.rank`."""
        gathered = self.compact(index, score_thr)
        if gathered is None:
            rows_of, embeddings, scores = None, index.embeddings, index.scores
        else:
            (rows_of, embeddings, scores), score_thr = gathered, -np.inf
        found = np.full((len(queries), top_k), -1, dtype=np.int64)
        best = np.full((len(queries), top_k), -np.inf, dtype=np.float32)
        for start in range(0, len(embeddings), self.chunk_size):
            rows = slice(start, start + self.chunk_size)
            chunk_scores = scores[rows]
            chunk_found, chunk_best = select_top_k(
                queries @ embeddings[rows].T,
                np.arange(start, start + len(chunk_scores))
                if rows_of is None else rows_of[rows], chunk_scores, top_k,
                score_thr, cws, min_similarity)
            # merge with the best so far; the chunk's -1 / -inf never win
            found, best = select_top_k(
                np.concatenate([best, chunk_best], axis=1),
                np.concatenate([found, chunk_found], axis=1),
                np.zeros(2 * top_k), top_k, -np.inf, False)
        return found, best


def build_backend(name: str) -> SearchBackend:
    """A backend with its default parameters, by name.

    Args:
        name (str): ``'exact'`` (:class:`ExactBackend`) or ``'faiss'``
            (:class:`~mmps.apis.faiss_backend.FaissIVFBackend`, needs the
            ``faiss-cpu`` package).

    Returns:
        SearchBackend: A new backend.
    """
    if name == 'exact':
        return ExactBackend()
    if name == 'faiss':
        from .faiss_backend import FaissIVFBackend
        return FaissIVFBackend()
    raise ValueError(f"unknown search backend {name!r}; expected 'exact', "
                     "'faiss' or a SearchBackend")
