# Copyright (c) mmps contributors. All rights reserved.
import json

import numpy as np
import pytest

from mmps.apis import GalleryIndex
from mmps.testing import assert_top_k_matches


def random_index(num_images=5,
                 boxes_per_image=(3, 0, 4, 2, 5),
                 dim=8,
                 seed=0,
                 fingerprint='model-a',
                 prefix='img'):
    rng = np.random.default_rng(seed)
    num_boxes = sum(boxes_per_image)
    embeddings = rng.normal(size=(num_boxes, dim)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    xy = rng.uniform(0, 50, size=(num_boxes, 2))
    wh = rng.uniform(5, 40, size=(num_boxes, 2))
    return GalleryIndex(
        image_paths=[f'{prefix}{i}.jpg' for i in range(num_images)],
        image_shapes=np.tile([[120, 100]], (num_images, 1)),
        bboxes=np.concatenate([xy, xy + wh], axis=1),
        scores=rng.uniform(0, 1, size=num_boxes),
        embeddings=embeddings,
        image_index=np.repeat(np.arange(num_images), boxes_per_image),
        fingerprint=fingerprint)


def slow_scores(index, queries, score_thr):
    """Every query's similarity to every detection, one pair at a time, in
    float64; ``-inf`` for detections under the threshold."""
    scores = np.full((len(queries), len(index)), -np.inf)
    for q, query in enumerate(queries):
        for i in range(len(index)):
            if index.scores[i] >= score_thr:
                scores[q, i] = sum(
                    float(a) * float(b)
                    for a, b in zip(query, index.embeddings[i]))
    return scores


@pytest.mark.parametrize('top_k,score_thr', [(1, 0.0), (5, 0.5), (50, 0.3),
                                             (3, 1.1)])
def test_search_matches_a_slow_loop(top_k, score_thr):
    index = random_index()
    queries = random_index(seed=1).embeddings[:6]
    results = index.search(queries, top_k=top_k, score_thr=score_thr)
    assert len(results) == len(queries)
    found = np.full((len(queries), top_k), -1)
    sims = np.full((len(queries), top_k), -np.inf)
    for q, matches in enumerate(results):
        found[q, :len(matches)] = [m.box_index for m in matches]
        sims[q, :len(matches)] = [m.similarity for m in matches]
        for match in matches:
            i = match.box_index
            assert match.image_path == f'img{index.image_index[i]}.jpg'
            assert match.image_index == index.image_index[i]
            np.testing.assert_array_equal(match.bbox, index.bboxes[i])
            assert match.score == pytest.approx(index.scores[i])
            assert match.score >= score_thr
    # the best detections by similarity; near-ties may come in any order
    assert_top_k_matches(found, sims, slow_scores(index, queries, score_thr))


def test_search_many_queries_in_chunks(monkeypatch):
    import mmps.apis.gallery_index as module
    index = random_index()
    queries = random_index(seed=2, boxes_per_image=(5, 5, 5, 5, 3)).embeddings
    reference = slow_scores(index, queries, 0.2)
    # chunks make other matrix products than the whole: compare each to the
    # reference, up to near-ties, never bit for bit
    whole = index.rank(queries, top_k=4, score_thr=0.2)
    assert_top_k_matches(*whole, reference)
    monkeypatch.setattr(module, 'QUERY_CHUNK', 3)
    chunked = index.rank(queries, top_k=4, score_thr=0.2)
    assert_top_k_matches(*chunked, reference)
    # fewer matches than top_k: padded with -1 / -inf
    indices, sims = index.rank(queries[:1], top_k=20, score_thr=0.0)
    assert (indices[0, len(index):] == -1).all()
    assert np.isneginf(sims[0, len(index):]).all()


def test_save_load_round_trips_bit_for_bit(tmp_path):
    index = random_index()
    index.skipped['broken.jpg'] = 'OSError: truncated'
    index.save(str(tmp_path / 'idx'))
    loaded = GalleryIndex.load(str(tmp_path / 'idx'))
    for name in ('bboxes', 'scores', 'embeddings', 'image_index',
                 'image_shapes'):
        a, b = getattr(index, name), getattr(loaded, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert loaded.image_paths == index.image_paths
    assert loaded.fingerprint == index.fingerprint
    assert loaded.skipped == index.skipped
    meta = json.loads((tmp_path / 'idx' / 'index.json').read_text())
    assert meta['format_version'] == 1 and meta['num_boxes'] == len(index)


def test_append_equals_one_index_of_both():
    first = random_index()
    second = random_index(
        num_images=2, boxes_per_image=(1, 3), seed=3, prefix='new')
    merged = first.append(second)
    assert merged.num_images == 7 and len(merged) == len(first) + 4
    assert merged.image_paths[5:] == ['new0.jpg', 'new1.jpg']
    np.testing.assert_array_equal(merged.image_index[len(first):],
                                  [5, 6, 6, 6])
    np.testing.assert_array_equal(merged.embeddings[len(first):],
                                  second.embeddings)
    with pytest.raises(ValueError, match='another model'):
        first.append(random_index(fingerprint='model-b', prefix='x'))
    with pytest.raises(ValueError, match='in both indexes, e.g. img0.jpg'):
        first.append(random_index())


def test_bad_indexes_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='arrays.npz'):
        GalleryIndex.load(str(tmp_path))
    index = random_index()
    with pytest.raises(ValueError, match='query embeddings have 3 dims'):
        index.search(np.ones(3))
    with pytest.raises(ValueError, match=r'image_index must lie in \[0, 5\)'):
        GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                     index.scores, index.embeddings, index.image_index + 1,
                     'x')
    with pytest.raises(ValueError, match='13 scores for 14 boxes'):
        GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                     index.scores[1:], index.embeddings, index.image_index,
                     'x')
    index.save(str(tmp_path / 'idx'))
    meta_file = tmp_path / 'idx' / 'index.json'
    meta = json.loads(meta_file.read_text())
    meta['format_version'] = 7
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match='format_version 7'):
        GalleryIndex.load(str(tmp_path / 'idx'))
