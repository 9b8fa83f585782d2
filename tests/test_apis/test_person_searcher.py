# Copyright (c) mmps contributors. All rights reserved.
"""PersonSearcher on a tiny synthetic gallery with an untrained tiny model.

An untrained model's detection scores sit just under 0.5, so searches use
``score_thr=0``; what is tested is the plumbing: shapes, order, the index
and the promised errors.
"""
import glob
import os.path as osp
import shutil

import mmcv
import numpy as np
import pytest
import torch

from mmps.apis import GalleryIndex, PersonSearcher
from mmps.apis.person_searcher import dataset_image_paths
from mmps.datasets.cuhk_sysu_format import load_pool
from mmps.datasets.synthetic import SyntheticConfig, generate_synthetic_dataset
from mmps.testing import TINY_SYNTHETIC_DATA, get_tiny_synthetic_config


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(
        root, config=SyntheticConfig(**TINY_SYNTHETIC_DATA))
    cfg = get_tiny_synthetic_config(root)
    searcher = PersonSearcher(cfg, batch_size=2)
    images = sorted(glob.glob(osp.join(root, 'Image', 'SSM', '*.jpg')))[:6]
    index = searcher.build_index(images, progress=False)
    return cfg, searcher, images, index


def test_index_holds_every_image_with_boxes_inside(setup):
    _, searcher, images, index = setup
    assert index.image_paths == images
    assert index.num_images == 6 and len(index) > 6
    assert index.embedding_dim == 256
    assert index.fingerprint == searcher.fingerprint
    np.testing.assert_allclose(
        np.linalg.norm(index.embeddings, axis=1), 1, atol=1e-5)
    heights, widths = index.image_shapes[index.image_index].T
    assert (index.image_shapes == [72, 96]).all()
    assert (index.bboxes[:, :2] >= 0).all()
    assert (index.bboxes[:, 2] <= widths).all()
    assert (index.bboxes[:, 3] <= heights).all()


def test_search_ranks_by_similarity(setup):
    _, searcher, images, index = setup
    box = [20.0, 8.0, 44.0, 60.0]
    matches = searcher.search(images[0], box, index, top_k=7, score_thr=0)
    assert len(matches) == 7
    query = searcher.embed_queries([images[0]], np.array([box]))[0]
    expected = np.sort(index.embeddings @ query)[::-1][:7]
    np.testing.assert_allclose([m.similarity for m in matches],
                               expected,
                               atol=1e-5)
    for match in matches:
        assert match.similarity == pytest.approx(
            float(index.embeddings[match.box_index] @ query), abs=1e-5)
        assert match.image_path in images
    # a high threshold leaves only the detections above it
    thr = float(np.median(index.scores))
    strict = searcher.search(images[0], box, index, top_k=1000, score_thr=thr)
    assert len(strict) == int((index.scores >= thr).sum())
    # several queries in one call; an image array works like its file
    both = searcher.search([images[0], mmcv.imread(images[1])],
                           np.array([box, box]),
                           index,
                           top_k=3,
                           score_thr=0)
    assert [len(m) for m in both] == [3, 3]
    from_array = searcher.embed_queries([mmcv.imread(images[0])],
                                        np.array([box]))
    np.testing.assert_allclose(from_array[0], query, atol=1e-5)


def test_appending_equals_building_from_scratch(setup, tmp_path):
    _, searcher, images, index = setup
    # the first index is one batch of the whole build (batch_size=2), so
    # both run the network on the same batches: the same computation, which
    # gives the same detections
    first = searcher.build_index(images[:2], progress=False)
    grown = searcher.build_index(images, index=first, progress=False)
    assert grown.image_paths == index.image_paths
    np.testing.assert_array_equal(grown.image_index, index.image_index)
    np.testing.assert_allclose(grown.bboxes, index.bboxes, atol=1e-3)
    np.testing.assert_allclose(grown.embeddings, index.embeddings, atol=1e-4)
    # and a saved index searches like the one in memory
    grown.save(str(tmp_path / 'index'))
    loaded = GalleryIndex.load(str(tmp_path / 'index'))
    box = [20.0, 8.0, 44.0, 60.0]
    a = searcher.search(images[2], box, grown, top_k=5, score_thr=0)
    b = searcher.search(images[2], box, loaded, top_k=5, score_thr=0)
    assert [m.box_index for m in a] == [m.box_index for m in b]


def test_unreadable_images_are_skipped_and_listed(setup, tmp_path):
    _, searcher, images, _ = setup
    folder = tmp_path / 'gallery'
    folder.mkdir()
    for image in images[:2]:
        shutil.copy(image, folder)
    (folder / 'broken.jpg').write_bytes(b'not a jpeg')
    index = searcher.build_index(str(folder), progress=False)
    assert index.num_images == 2
    assert list(index.skipped) == [str(folder / 'broken.jpg')]


def test_gallery_from_a_dataset_config(setup):
    cfg, _, _, _ = setup
    gallery_cfg = dict(cfg.test_dataloader.dataset.dataset, split='gallery')
    paths = dataset_image_paths(gallery_cfg)
    pool = load_pool(gallery_cfg['data_root'])
    assert [osp.basename(path) for path in paths] == pool
    assert all(osp.isfile(path) for path in paths)


def test_bad_queries_and_indexes_are_refused(setup, tmp_path):
    _, searcher, images, index = setup
    with pytest.raises(ValueError, match='leaves its image .* width 96'):
        searcher.search(images[0], [50, 10, 120, 60], index)
    with pytest.raises(
            ValueError, match=r'box 0 of .* \(x1, y1, x2, y2\) has no area'):
        searcher.search(images[0], [50, 10, 50, 60], index)
    with pytest.raises(OSError, match='cannot read the query image'):
        searcher.search(str(tmp_path / 'missing.jpg'), [1, 1, 5, 5], index)
    other = GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                         index.scores, index.embeddings, index.image_index,
                         'another-model')
    with pytest.raises(ValueError, match='built by another model'):
        searcher.search(images[0], [20, 8, 44, 60], other)
    with pytest.raises(FileNotFoundError, match='gallery input .*nowhere'):
        searcher.build_index(str(tmp_path / 'nowhere'))


@pytest.mark.parametrize('box', [[np.nan, 10, 40, 60], [20, 10, 40, np.inf]])
def test_query_boxes_that_are_not_finite_are_refused(setup, box):
    # they would reach mmcv's RoIAlign and stop in its internal assertion
    _, searcher, images, index = setup
    with pytest.raises(
            ValueError,
            match=r'query boxes: box 1 of .*\.jpg \[.*\] '
            r'\(x1, y1, x2, y2\) is not finite'):
        searcher.embed_queries(images[:2], np.array([[20, 8, 44, 60], box]))
    with pytest.raises(ValueError, match=r'box 0 of .* is not finite'):
        searcher.search(images[0], box, index)
    with pytest.raises(
            ValueError, match=r'of shape \(Q, 4\), got shape '
            r'\(5,\)'):
        searcher.search(images[0], [1, 2, 3, 4, 5], index)


def test_the_checkpoint_must_fit_the_model(setup, tmp_path):
    cfg, searcher, _, _ = setup
    state = searcher.model.state_dict()
    path = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    assert PersonSearcher(cfg, path).fingerprint == searcher.fingerprint
    # the keys of another code base: the model would run on random weights
    state['backbone.stem.weight'] = state.pop('backbone.conv1.weight')
    torch.save(dict(state_dict=state, meta=dict()), path)
    with pytest.raises(
            RuntimeError,
            match=r'missing from the checkpoint \(1\): backbone.conv1.weight\n'
            r'  not in the model \(1\): backbone.stem.weight'):
        PersonSearcher(cfg, path)


def test_search_forwards_min_similarity(setup):
    _, searcher, images, index = setup
    box = [20.0, 8.0, 44.0, 60.0]
    matches = searcher.search(images[2], box, index, top_k=5, score_thr=0)
    assert len(matches) == 5
    # the third match's similarity as the minimum keeps the first three
    cut = searcher.search(
        images[2],
        box,
        index,
        top_k=5,
        score_thr=0,
        min_similarity=matches[2].similarity)
    assert [m.box_index for m in cut] == [m.box_index for m in matches[:3]]
    assert searcher.search(
        images[2], box, index, score_thr=0, min_similarity=1.01) == []
