# Copyright (c) mmps contributors. All rights reserved.
import json
import os
import socket

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from mmps.datasets import GalleryQueryDataset
from mmps.evaluation import PersonSearchMetric, make_record
from mmps.evaluation.metrics import search_records
from mmps.evaluation.metrics.search_records import check_records, split_records
from mmps.registry import METRICS
from ..._fixtures import CUHK_TESTS, write_cuhk_sysu, write_cuhk_sysu_subset


def _unit(*angles_deg):
    """2-d unit embeddings whose dot product with (1, 0) is cos(angle)."""
    angles = np.deg2rad(angles_deg)
    return torch.tensor(
        np.stack([np.cos(angles), np.sin(angles)], 1), dtype=torch.float32)


def _sims(*sims):
    return _unit(*np.rad2deg(np.arccos(sims)))


def _sample(img_path,
            boxes,
            scores,
            embeddings,
            gt_boxes=(),
            gt_ids=(),
            query_index=None,
            cam_id=None):
    sample = dict(
        img_path=img_path,
        pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            scores=torch.tensor(scores, dtype=torch.float32),
            embeddings=embeddings),
        gt_instances=dict(
            bboxes=torch.tensor(gt_boxes, dtype=torch.float32).reshape(-1, 4),
            person_ids=torch.tensor(gt_ids, dtype=torch.long)))
    if query_index is not None:
        sample.update(is_query=True, query_index=query_index)
    if cam_id is not None:
        sample['cam_id'] = cam_id
    return sample


def _cuhk_samples(root):
    """Predictions on the CUHK-SYSU fixture tree (tests/_fixtures.py)."""
    image = f'{root}/Image/SSM/' + '{}'
    return [
        _sample(
            image.format('s4.jpg'), [[3, 4, 14, 26], [60, 10, 75, 40]],
            [0.95, 0.7], _sims(0.1, 0.2), [[3, 4, 14, 26], [60, 10, 75, 40]],
            [10, -1]),
        # p10 at (40, 2, 50, 22): found with similarity 0.6; a box below
        # the score threshold is ignored however similar
        _sample(
            image.format('s5.jpg'), [[40, 2, 50, 22], [10, 12, 24, 45]],
            [0.9, 0.3], _sims(0.6, 0.99), [[10, 12, 24, 45], [40, 2, 50, 22]],
            [-1, 10]),
        # a false positive more similar than the true one
        _sample(
            image.format('s6.jpg'), [[0, 0, 10, 10]], [0.8], _sims(0.7),
            [[25, 15, 41, 55]], [12]),
        _sample(
            image.format('s4.jpg'), [[3, 4, 14, 26]], [1.0],
            _sims(1.0), [[3, 4, 14, 26]], [10],
            query_index=0),
        _sample(
            image.format('s6.jpg'), [[25, 15, 41, 55]], [1.0],
            _sims(1.0), [[25, 15, 41, 55]], [12],
            query_index=1),
    ]


def _evaluate(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_cuhk_sysu_protocol(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    metric = METRICS.build(
        dict(
            type='PersonSearchMetric',
            protocol='cuhk_sysu',
            data_root=str(root),
            gallery_sizes=(50, -1)))
    results = _evaluate(metric, _cuhk_samples(root))
    # query 0: gallery s5, s6: ranked FP (0.7), TP (0.6): AP 1/2, recall 1
    # query 1: its gallery holds no image of p12: left out
    assert results['mmps/mAP'] == pytest.approx(0.5)
    assert results['mmps/g50/mAP'] == pytest.approx(0.5)
    assert results['mmps/top1'] == 0.0
    assert results['mmps/top5'] == 1.0
    # full set: every image but the query's own (s5, s6 for query 0)
    assert results['mmps/full/mAP'] == pytest.approx(0.5)
    # detection over all 5 boxes: s4 x2 and s5's p10 matched, s6 missed
    assert results['mmps/det_recall'] == pytest.approx(3 / 5)
    # ranked by score: T .95, T .9, F .8, T .7 -> AP (1 + 1 + 3/4) / 3
    assert results['mmps/det_ap'] == pytest.approx((2.75 / 3) * 3 / 5)
    # labeled boxes: p10 in s4 and s5 found, p12 in s6 missed
    assert results['mmps/det_recall_labeled'] == pytest.approx(2 / 3)


def test_cuhk_sysu_subsets(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    p10, p12 = CUHK_TESTS
    # occlusion: query 0 with its TestG gallery (s5 holds it, s6 not)
    write_cuhk_sysu_subset(root, 'Occlusion.mat', 'Occlusion1', [p10])
    # resolution: query 0 with s5 only: the false positive of s6 is out
    write_cuhk_sysu_subset(root, 'Resolution.mat', 'Test_Size',
                           [(p10[0], p10[1], [p10[2][0]])])
    metric = METRICS.build(
        dict(
            type='PersonSearchMetric',
            data_root=str(root),
            gallery_sizes=(50, ),
            subsets=('occlusion', 'resolution')))
    results = _evaluate(metric, _cuhk_samples(root))
    assert results['mmps/mAP'] == pytest.approx(0.5)
    assert results['mmps/occlusion/mAP'] == pytest.approx(0.5)
    assert results['mmps/occlusion/top1'] == 0.0
    assert results['mmps/resolution/mAP'] == pytest.approx(1.0)
    assert results['mmps/resolution/top1'] == 1.0


def _cbgm_samples(root):
    """Query 0 (p10 in s4) with a context person in s4, searched in s5
    (p10 and another person) and s6 (a false positive)."""
    image = f'{root}/Image/SSM/' + '{}'
    return [
        _sample(
            image.format('s4.jpg'), [[3, 4, 14, 26], [60, 10, 75, 40]],
            [0.95, 0.7], _unit(0, 90), [[3, 4, 14, 26], [60, 10, 75, 40]],
            [10, -1]),
        _sample(
            image.format('s5.jpg'), [[40, 2, 50, 22], [10, 12, 24, 45]],
            [0.9, 0.9], _unit(53.13, 80), [[10, 12, 24, 45], [40, 2, 50, 22]],
            [-1, 10]),
        _sample(
            image.format('s6.jpg'), [[0, 0, 10, 10]], [0.8], _unit(45.57),
            [[25, 15, 41, 55]], [12]),
        _sample(
            image.format('s4.jpg'), [[3, 4, 14, 26]], [1.0],
            _unit(0), [[3, 4, 14, 26]], [10],
            query_index=0),
        _sample(
            image.format('s6.jpg'), [[25, 15, 41, 55]], [1.0],
            _unit(0), [[25, 15, 41, 55]], [12],
            query_index=1),
    ]


def test_cbgm_reranks_with_the_query_image_context(tmp_path):
    """Query 0 (p10 in s4) searched in s5 (holds p10) and s6 (does not).

    Context of the query (1, 0): the other person of s4, (0, 1); the
    detection of s4 on the query box itself is left out. In s5 the person
    (53.13 deg: 0.6 to the query, 0.8 to the context) and another (80 deg:
    0.17, 0.98): the best matching pairs the query with the person (1.59 >
    0.97), whose score becomes 0.98, above s6's false positive (0.7). In s6
    the false positive (45.57 deg: 0.7, 0.71) goes to the context person:
    unchanged. Plain: AP 1/2, top-1 0; with CBGM: AP 1, top-1 1.
    """
    root = write_cuhk_sysu(tmp_path)
    samples = _cbgm_samples(root)
    metric = METRICS.build(
        dict(
            type='PersonSearchMetric',
            data_root=str(root),
            gallery_sizes=(50, ),
            cbgm=dict(k1=10, k2=3)))
    results = _evaluate(metric, samples)
    assert results['mmps/mAP'] == pytest.approx(0.5)
    assert results['mmps/g50/top1'] == 0.0
    assert results['mmps/g50+cbgm/mAP'] == pytest.approx(1.0)
    assert results['mmps/g50+cbgm/top1'] == 1.0
    # the context alone (k2=1) changes nothing
    metric = METRICS.build(
        dict(
            type='PersonSearchMetric',
            data_root=str(root),
            gallery_sizes=(50, ),
            cbgm=dict(k2=1)))
    assert _evaluate(metric,
                     samples)['mmps/g50+cbgm/mAP'] == pytest.approx(0.5)


def test_cws_weights_similarities_by_detection_score(tmp_path):
    """Query 0: the person in s5 (similarity 0.6, score 0.9) and a false
    positive in s6 (0.7, score 0.6). Plain: the false positive first, AP
    1/2; weighted: 0.54 against 0.42, AP 1."""
    root = write_cuhk_sysu(tmp_path)
    samples = _cuhk_samples(root)
    samples[2]['pred_instances']['scores'] = torch.tensor([0.6])
    results = {}
    for cws in (False, True):
        metric = METRICS.build(
            dict(
                type='PersonSearchMetric',
                data_root=str(root),
                gallery_sizes=(50, ),
                cws=cws))
        results[cws] = _evaluate(metric, samples)
    assert results[False]['mmps/mAP'] == pytest.approx(0.5)
    assert results[False]['mmps/top1'] == 0.0
    assert results[True]['mmps/mAP'] == pytest.approx(1.0)
    assert results[True]['mmps/top1'] == 1.0


def test_cbgm_with_seqnets_context_rule(tmp_path):
    """The CBGM case above, with the query's context by SeqNet's rule.

    The query image's persons from the model's context pass: the query box
    (score 1), then c at -90 deg (opposite to everything in s5), then c2 at
    90 deg. With k2=2 the context is c: the query keeps its matches in s5
    (0.6) and s6 (0.7), AP 1/2, where the gallery rule (context (0, 1))
    gave 1. With k2=3, c2 joins and pairs with s5's other person (0.98):
    the query's match there rises to 0.98, AP 1.
    """
    root = write_cuhk_sysu(tmp_path)
    samples = _cbgm_samples(root)
    samples[3]['context_instances'] = dict(
        bboxes=torch.tensor([[3, 4, 14, 26], [60, 10, 75, 40], [0, 0, 9, 9]],
                            dtype=torch.float32),
        scores=torch.tensor([1.0, 0.7, 0.6]),
        embeddings=_unit(0, -90, 90))
    samples[4]['context_instances'] = dict(
        bboxes=torch.tensor([[25, 15, 41, 55]], dtype=torch.float32),
        scores=torch.tensor([1.0]),
        embeddings=_unit(0))

    def cbgm_map(**cbgm):
        metric = METRICS.build(
            dict(
                type='PersonSearchMetric',
                data_root=str(root),
                gallery_sizes=(50, ),
                cbgm=cbgm))
        return _evaluate(metric, samples)['mmps/g50+cbgm/mAP']

    assert cbgm_map(k2=2, context='gallery') == pytest.approx(1.0)
    assert cbgm_map(k2=2, context='seqnet') == pytest.approx(0.5)
    assert cbgm_map(k2=3, context='seqnet') == pytest.approx(1.0)
    # the context pass is needed
    del samples[4]['context_instances']
    with pytest.raises(ValueError, match='query_context=True'):
        cbgm_map(k2=2, context='seqnet')


@pytest.mark.parametrize('cbgm, message', [
    (dict(k3=1), 'unknown cbgm keys'),
    (dict(k1=0), 'k1 and k2 must be >= 1'),
    (dict(context='query'), 'context must be one of'),
])
def test_bad_cbgm_settings(tmp_path, cbgm, message):
    with pytest.raises(ValueError, match=message):
        METRICS.build(
            dict(
                type='PersonSearchMetric', data_root=str(tmp_path), cbgm=cbgm))


def test_bad_subsets(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    with pytest.raises(ValueError, match='unknown subsets'):
        PersonSearchMetric(data_root=str(root), subsets=('blurred', ))
    with pytest.raises(ValueError, match='prw.* protocol has none'):
        PersonSearchMetric(protocol='prw', subsets=('occlusion', ))
    # a subset query that is not a TestG query
    p10 = CUHK_TESTS[0]
    write_cuhk_sysu_subset(root, 'Occlusion.mat', 'Occlusion1',
                           [(p10[0], ('s4.jpg', (3, 4, 11, 23)), p10[2])])
    metric = PersonSearchMetric(
        data_root=str(root), gallery_sizes=(50, ), subsets=('occlusion', ))
    with pytest.raises(ValueError, match=r'Occlusion.mat: query 0 \(s4.jpg'):
        _evaluate(metric, _cuhk_samples(root))
    metric = PersonSearchMetric(
        data_root=str(root), gallery_sizes=(50, ), subsets=('resolution', ))
    with pytest.raises(FileNotFoundError, match='Resolution.mat'):
        _evaluate(metric, _cuhk_samples(root))


def _prw_samples():
    # the query person (id 7) in frames b (camera 1) and c (camera 2)
    return [
        _sample(
            'a.jpg', [[0, 0, 20, 40]], [0.9],
            _sims(0.1), [[0, 0, 20, 40]], [7],
            cam_id=1),
        _sample(
            'b.jpg', [[10, 10, 30, 50]], [0.9],
            _sims(0.9), [[10, 10, 30, 50]], [7],
            cam_id=1),
        _sample(
            'c.jpg', [[5, 5, 25, 45]], [0.9],
            _sims(0.7), [[5, 5, 25, 45]], [7],
            cam_id=2),
        _sample(
            'd.jpg', [[5, 5, 25, 45]], [0.9],
            _sims(0.8), [[5, 5, 25, 45]], [-1],
            cam_id=3),
        _sample(
            'a.jpg', [[0, 0, 20, 40]], [1.0],
            _sims(1.0), [[0, 0, 20, 40]], [7],
            query_index=0,
            cam_id=1),
    ]


def test_prw_protocol_with_cross_camera():
    metric = PersonSearchMetric(protocol='prw')
    results = _evaluate(metric, _prw_samples())
    # all cameras: b (T, .9), d (F, .8), c (T, .7): AP (1 + 2/3) / 2
    assert results['mmps/all/mAP'] == pytest.approx((1 + 2 / 3) / 2)
    assert results['mmps/mAP'] == results['mmps/all/mAP']
    assert results['mmps/top1'] == 1.0
    # other cameras: d (F), c (T): AP 1/2, found at rank 2
    assert results['mmps/cross_camera/mAP'] == pytest.approx(0.5)
    assert results['mmps/cross_camera/top1'] == 0.0
    assert results['mmps/cross_camera/top5'] == 1.0


def test_worst_queries_are_dumped(tmp_path):
    path = tmp_path / 'worst.json'
    metric = PersonSearchMetric(
        protocol='prw', worst_queries_file=str(path), num_worst_queries=5)
    _evaluate(metric, _prw_samples())
    dump = json.loads(path.read_text())
    assert dump['setting'] == 'all'
    (query, ) = dump['queries']
    assert query['img_path'] == 'a.jpg'
    assert query['average_precision'] == pytest.approx((1 + 2 / 3) / 2)
    assert [g['img_path'] for g in query['ground_truth']] == ['b.jpg', 'c.jpg']
    assert [(t['img_path'], t['correct'])
            for t in query['top']] == [('b.jpg', True), ('d.jpg', False),
                                       ('c.jpg', True)]
    assert query['top'][0]['score'] == pytest.approx(0.9, abs=1e-6)


def _predict(index, **arrays):
    """Change the predictions of sample ``index``."""
    return lambda s: s[index]['pred_instances'].update({
        k:
        torch.tensor(v, dtype=torch.float32)
        for k, v in arrays.items()
    })


def _truth(index, **arrays):
    """Change the ground truth of sample ``index``."""
    return lambda s: s[index]['gt_instances'].update({
        k: torch.tensor(v)
        for k, v in arrays.items()
    })


NAN = float('nan')


@pytest.mark.parametrize('change,message', [
    (lambda s: s[0]['pred_instances'].update(embeddings=_sims(0.1) * 2),
     'a.jpg: embeddings must have unit L2 norm'),
    (_predict(0, embeddings=[[NAN, NAN]]), 'a.jpg: embeddings contain NaN'),
    (lambda s: s[4].update(query_index=3),
     r'got \[3\]; missing query_index \[0, 1, 2\]'),
    (lambda s: s.pop(4), 'no query predictions'),
    (_predict(1, scores=[NAN]), 'b.jpg: scores contain NaN'),
    (_predict(1, scores=[float('inf')]), 'b.jpg: scores contain NaN or inf'),
    (_predict(1, bboxes=[[10, 10, NAN, 50]]), 'b.jpg: bboxes contain NaN'),
    (_predict(1, scores=[0.9, 0.9]),
     r'b.jpg: scores has shape \(2,\), expected \(N,\) with N = 1 as in '
     'bboxes'),
    (_predict(1, scores=[[0.9]]),
     r'b.jpg: scores must have shape \(N,\), got \(1, 1\)'),
    (_predict(1, bboxes=[[10, 10, 30, 50, 0.9]]),
     r'b.jpg: bboxes must have shape \(N, 4\), got \(1, 5\)'),
    (_predict(1, bboxes=[10, 10, 30, 50]),
     r'b.jpg: bboxes must have shape \(N, 4\), got \(4,\)'),
    (_predict(1, embeddings=[[0.6, 0.8], [0.8, 0.6]]),
     r'b.jpg: embeddings has shape \(2, 2\), expected \(N, D\) with N = 1'),
    (_predict(1, embeddings=[[0.6, 0.0, 0.8]]),
     r'b.jpg: embeddings has shape \(1, 3\), expected \(N, D\) with D = 2 '
     'as in the embeddings of a.jpg'),
    (_predict(4, embeddings=[[1, 0], [0, 1]]),
     r'a.jpg \(query 0\): embeddings has shape \(2, 2\), expected \(N, D\)'
     ' with N = 1 as in bboxes'),
    (_predict(
        4,
        bboxes=[[0, 0, 20, 40]] * 2,
        scores=[1, 1],
        embeddings=[[1, 0], [0, 1]]),
     r'a.jpg \(query 0\): a query record holds exactly one box and one '
     'embedding, got 2'),
    (_predict(
        4, bboxes=np.zeros((0, 4)), scores=[], embeddings=np.zeros((0, 2))),
     'a query record holds exactly one box and one embedding, got 0'),
    (_predict(4, bboxes=[[0, 0, NAN, 40]
                         ]), r'a.jpg \(query 0\): bboxes contain NaN'),
    (_truth(2, bboxes=[[5, 5, 25, NAN]]), 'c.jpg: gt_bboxes contain NaN'),
    (_truth(2, person_ids=[7, 8]),
     r'c.jpg: gt_person_ids has shape \(2,\), expected \(G,\) with G = 1 '
     'as in gt_bboxes'),
])
def test_bad_predictions_raise(change, message):
    samples = _prw_samples()
    change(samples)
    with pytest.raises(ValueError, match=message):
        _evaluate(PersonSearchMetric(protocol='prw'), samples)


@pytest.mark.parametrize('name,value,message', [
    ('bboxes', [[0, 0, 20, 40]], 'a.jpg: bboxes must be a numpy array of '
     r'shape \(N, 4\), got list'),
    ('scores', np.array(['0.9']), 'a.jpg: scores must hold real numbers, '
     'got <U3'),
    ('gt_person_ids', np.array([7.5]), 'a.jpg: gt_person_ids must hold '
     'integers, got float64'),
    ('embeddings', None, r'a.jpg: lacks embeddings, shape \(N, D\)'),
])
def test_bad_record_types_raise(name, value, message):
    """Records scored offline (eval_search.py) do not pass make_record."""
    records = [make_record(s) for s in _prw_samples()]
    if value is None:
        del records[0][name]
    else:
        records[0][name] = value
    with pytest.raises(ValueError, match=message):
        PersonSearchMetric(protocol='prw').compute_metrics(records)


def test_valid_records_are_checked_all_at_once(monkeypatch):
    """Valid records, SeqNet's context arrays included, pass the checks of
    all records at once; a problem they miss by design (a norm just within
    the tolerance) goes to the checks record by record, which decide."""
    records = [make_record(s) for s in _prw_samples()]
    gallery, queries = split_records(records)
    queries[0].update(
        context_bboxes=np.array([[0, 0, 20, 40]], np.float32),
        context_scores=np.ones(1, np.float32),
        context_embeddings=np.array([[1, 0]], np.float32))
    assert search_records._all_arrays_valid(gallery + queries, len(gallery))
    one_by_one = []
    check_array = search_records._check_array
    monkeypatch.setattr(
        search_records, '_check_array',
        lambda *args: one_by_one.append(1) or check_array(*args))
    check_records(gallery, queries)
    assert not one_by_one
    # 1 + 0.995e-3 passes the tolerance of 1e-3, not the fast path's
    gallery[1]['embeddings'] = gallery[1]['embeddings'] * (1 + 0.995e-3)
    assert not search_records._all_arrays_valid(gallery + queries,
                                                len(gallery))
    check_records(gallery, queries)
    assert one_by_one
    queries[0]['context_embeddings'] = np.array([[1, 0, 0]], np.float32)
    assert not search_records._all_arrays_valid(gallery + queries,
                                                len(gallery))
    with pytest.raises(
            ValueError,
            match=r'context_embeddings has shape '
            r'\(1, 3\), expected \(K, D\) with D = 2'):
        check_records(gallery, queries)


def test_missing_gallery_image_raises(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    samples = _cuhk_samples(root)
    del samples[1]  # s5.jpg
    metric = PersonSearchMetric(data_root=str(root), gallery_sizes=(50, ))
    with pytest.raises(
            ValueError,
            match="TestG50.mat lists gallery image "
            "'s5.jpg', which has no prediction"):
        _evaluate(metric, samples)


def test_missing_protocol_file_raises(tmp_path):
    root = write_cuhk_sysu(tmp_path)
    os.remove(f'{root}/annotation/test/train_test/TestG100.mat')
    metric = PersonSearchMetric(data_root=str(root), gallery_sizes=(100, ))
    with pytest.raises(FileNotFoundError, match='TestG100.mat'):
        _evaluate(metric, _cuhk_samples(root))
    # no root given, and no dataset that names one
    metric = PersonSearchMetric(protocol='cuhk_sysu', gallery_sizes=(50, ))
    with pytest.raises(ValueError, match='needs the folder holding'):
        _evaluate(metric, _cuhk_samples(root))


def test_protocol_root_from_the_dataset(tmp_path):
    """Without data_root, the metric reads the protocol files of the
    dataset it evaluates (its metainfo), with the same numbers."""
    root = str(write_cuhk_sysu(tmp_path / 'data'))
    given = _evaluate(
        PersonSearchMetric(data_root=root, gallery_sizes=(50, -1)),
        _cuhk_samples(root))
    dataset = GalleryQueryDataset(
        dict(
            type='CUHKSYSUDataset',
            data_root=root,
            serialize_data=False,
            pipeline=[]))
    assert dataset.metainfo['protocol_root'] == root
    metric = PersonSearchMetric(gallery_sizes=(50, -1))
    metric.dataset_meta = dataset.metainfo
    assert _evaluate(metric, _cuhk_samples(root)) == given
    # a second root, given to the metric, is refused
    other = str(write_cuhk_sysu(tmp_path / 'other'))
    metric = PersonSearchMetric(data_root=other, gallery_sizes=(50, ))
    metric.dataset_meta = dataset.metainfo
    with pytest.raises(ValueError, match='but the evaluated dataset is at'):
        _evaluate(metric, _cuhk_samples(root))


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _distributed_worker(rank, port, root, out_file):
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        samples = _cuhk_samples(root)
        metric = PersonSearchMetric(
            data_root=root, gallery_sizes=(50, -1), collect_device='cpu')
        # a distributed sampler interleaves the samples over the ranks
        metric.process({}, samples[rank::2])
        results = metric.evaluate(len(samples))
        if rank == 0:
            with open(out_file, 'w') as f:
                json.dump(results, f)
    finally:
        torch_dist.destroy_process_group()


def test_distributed_collection_equals_one_process(tmp_path):
    root = str(write_cuhk_sysu(tmp_path / 'data'))
    out_file = str(tmp_path / 'dist.json')
    mp.spawn(
        _distributed_worker,
        args=(_free_port(), root, out_file),
        nprocs=2,
        join=True)
    single = _evaluate(
        PersonSearchMetric(data_root=root, gallery_sizes=(50, -1)),
        _cuhk_samples(root))
    with open(out_file) as f:
        assert json.load(f) == pytest.approx(single)
