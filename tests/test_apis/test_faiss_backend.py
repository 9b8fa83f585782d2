# Copyright (c) mmps contributors. All rights reserved.
"""The optional faiss backend against the exact search."""
import json

import numpy as np
import pytest

from mmps.apis import ExactBackend, FaissIVFBackend, GalleryIndex

faiss = pytest.importorskip('faiss')


def clustered_index(num_boxes=4000,
                    dim=32,
                    identities=100,
                    seed=0,
                    fingerprint='model-a'):
    """Detections of persons: noisy copies of one unit vector per person."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(identities, dim))
    person = rng.integers(0, identities, num_boxes)
    embeddings = centres[person] + 0.6 * rng.normal(size=(num_boxes, dim))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    num_images = num_boxes // 4
    xy = rng.uniform(0, 50, size=(num_boxes, 2))
    index = GalleryIndex([f'{i}.jpg' for i in range(num_images)],
                         np.tile([[120, 100]], (num_images, 1)),
                         np.concatenate([xy, xy + 20], axis=1),
                         rng.uniform(0, 1, num_boxes), embeddings,
                         np.arange(num_boxes) // 4, fingerprint)
    queries = centres[:20] + 0.6 * rng.normal(size=(20, dim))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return index, queries.astype(np.float32)


def recall(found, reference):
    """Share of the reference's matches that were found."""
    hits = [
        len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(found, reference)
    ]
    return sum(hits) / int((reference >= 0).sum())


@pytest.mark.parametrize('cws,score_thr,min_similarity,encoding', [
    (False, 0.0, None, 'Flat'),
    (False, 0.5, None, 'Flat'),
    (True, 0.5, None, 'Flat'),
    (False, 0.3, 0.8, 'Flat'),
    (False, 0.5, None, 'SQ8'),
    (False, 0.0, None, 'PQ8x4fs'),
    (True, 0.5, None, 'PQ16x4fs'),
    (False, 0.3, 0.8, 'PQ8x4fs'),
])
def test_faiss_finds_what_the_exact_search_finds(cws, score_thr,
                                                 min_similarity, encoding):
    index, queries = clustered_index()
    backend = FaissIVFBackend(
        nlist=64,
        nprobe=8,
        encoding=encoding,
        overfetch=4 if encoding == 'Flat' else 10)
    exact = index.rank(
        queries, 10, score_thr, cws, min_similarity=min_similarity)
    found, sims = index.rank(
        queries,
        10,
        score_thr,
        cws,
        min_similarity=min_similarity,
        backend=backend)
    assert recall(found, exact[0]) >= 0.95
    # every returned similarity is the exact one of its detection
    rows, cols = np.nonzero(found >= 0)
    expected = np.einsum('qd,qd->q', queries[rows].astype(np.float64),
                         index.embeddings[found[rows, cols]])
    if cws:
        expected *= index.scores[found[rows, cols]]
    np.testing.assert_allclose(sims[rows, cols], expected, atol=1e-5)
    # by the exact search's rules
    assert (index.scores[found[found >= 0]] >= score_thr).all()
    if min_similarity is not None:
        assert (sims[found >= 0] >= min_similarity).all()
        assert (found < 0).any()
    assert (np.diff(sims[np.isfinite(sims).all(1)], axis=1) <= 0).all()
    assert np.isneginf(sims[found < 0]).all()


def test_faiss_backend_by_name_is_built_once_and_kept():
    index, queries = clustered_index(num_boxes=1000)
    matches = index.search(queries[:2], top_k=5, score_thr=0, backend='faiss')
    backend = index._backends['faiss']
    assert isinstance(backend, FaissIVFBackend)
    assert backend.faiss_index.ntotal == 1000
    index.search(queries[:2], top_k=5, score_thr=0, backend='faiss')
    assert index._backends['faiss'] is backend
    exact = index.search(queries[:2], top_k=5, score_thr=0)
    assert [m.box_index for m in matches[0]][:3] == \
        [m.box_index for m in exact[0]][:3]
    assert isinstance(index._backends['exact'], ExactBackend)


def test_faiss_index_saved_beside_the_gallery(tmp_path):
    index, queries = clustered_index(num_boxes=2000)
    folder = str(tmp_path / 'idx')
    backend = FaissIVFBackend(nlist=32, nprobe=4)
    with pytest.raises(ValueError, match='does not hold this gallery index'):
        backend.save(folder, index)
    index.save(folder)
    backend.save(folder, index)
    loaded_index = GalleryIndex.load(folder, mmap=True)
    loaded = FaissIVFBackend.load(folder, loaded_index)
    assert (loaded.nprobe, loaded.faiss_index.nlist) == (4, 32)
    a = index.rank(queries, 10, 0.2, backend=backend)
    b = loaded_index.rank(queries, 10, 0.2, backend=loaded)
    np.testing.assert_array_equal(a[0], b[0])
    # another gallery in the folder: the faiss index is refused
    other, _ = clustered_index(num_boxes=2000, seed=1)
    other.save(folder)
    with pytest.raises(ValueError, match='built for another gallery index'):
        FaissIVFBackend.load(folder, GalleryIndex.load(folder))
    # a faiss file that is not the one saved
    index.save(folder)
    backend.save(folder, index)
    with open(tmp_path / 'idx' / 'faiss_ivf.index', 'ab') as f:
        f.write(b'\0')
    with pytest.raises(ValueError, match=r'faiss_ivf.index is not the file'):
        FaissIVFBackend.load(folder, GalleryIndex.load(folder))
    record = json.loads((tmp_path / 'idx' / 'faiss_ivf.json').read_text())
    record['nprobe'] = 'many'
    (tmp_path / 'idx' / 'faiss_ivf.json').write_text(json.dumps(record))
    with pytest.raises(ValueError, match="'nprobe' must be a JSON int"):
        FaissIVFBackend.load(folder, GalleryIndex.load(folder))
    # a backend built for one gallery does not search another
    with pytest.raises(ValueError, match='built for another gallery index'):
        other.rank(queries, backend=backend)


def test_faiss_on_an_empty_gallery_finds_nothing():
    index = GalleryIndex.empty(8, 'model-a')
    found, sims = index.rank(np.eye(8)[:2], 3, backend=FaissIVFBackend())
    assert (found == -1).all() and np.isneginf(sims).all()


def test_faiss_encoding_is_checked():
    for encoding in ('IVF', 'PQ0x4fs', 'PQ8x8fs', 'pq8x4fs', 'Flat,SQ8'):
        with pytest.raises(ValueError, match="encoding must be 'Flat'"):
            FaissIVFBackend(encoding=encoding)
    index, queries = clustered_index(num_boxes=1000)
    with pytest.raises(ValueError, match='must divide their dimension 32'):
        index.rank(queries, backend=FaissIVFBackend(encoding='PQ5x4fs'))


def test_fast_scan_faiss_index_saved_and_loaded(tmp_path):
    index, queries = clustered_index(num_boxes=2000)
    folder = str(tmp_path / 'idx')
    index.save(folder)
    backend = FaissIVFBackend(
        nlist=16, nprobe=16, encoding='PQ8x4fs', overfetch=10)
    backend.save(folder, index)
    loaded_index = GalleryIndex.load(folder, mmap=True)
    loaded = FaissIVFBackend.load(folder, loaded_index)
    assert (loaded.encoding, loaded.overfetch) == ('PQ8x4fs', 10)
    np.testing.assert_array_equal(
        index.rank(queries, 10, 0.2, backend=backend)[0],
        loaded_index.rank(queries, 10, 0.2, backend=loaded)[0])
    record = json.loads((tmp_path / 'idx' / 'faiss_ivf.json').read_text())
    record['encoding'] = 'PQ8'
    (tmp_path / 'idx' / 'faiss_ivf.json').write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"faiss_ivf.json: encoding must"):
        FaissIVFBackend.load(folder, GalleryIndex.load(folder))


def test_faiss_defaults_follow_the_gallery():
    # 4000 detections: 63 cells, half of them (rounded up) visited; 32-d
    # embeddings: 16 sub-vectors of 2 dimensions, 10 candidates per match
    index, queries = clustered_index()
    backend = FaissIVFBackend()
    assert (backend.nprobe, backend.encoding,
            backend.overfetch) == (None, ) * 3
    found, _ = index.rank(queries, 10, 0.5, backend=backend)
    assert (backend.faiss_index.nlist, backend.nprobe, backend.encoding,
            backend.overfetch) == (63, 32, 'PQ16x4fs', 10)
    assert recall(found, index.rank(queries, 10, 0.5)[0]) >= 0.95
    # an odd dimension has no 2-d sub-vectors: float cells, 4 candidates;
    # what is given is kept
    index, queries = clustered_index(num_boxes=1000, dim=33)
    backend = FaissIVFBackend(nprobe=3)
    index.rank(queries, backend=backend)
    assert (backend.faiss_index.nlist, backend.nprobe, backend.encoding,
            backend.overfetch) == (25, 3, 'Flat', 4)
