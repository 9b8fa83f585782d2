# Copyright (c) mmps contributors. All rights reserved.
"""tools/analysis_tools/calibrate_threshold.py on the tiny synthetic data.

Oracle predictions (the ground-truth boxes, one-hot embeddings by identity)
give known curves: every query finds its person at similarity 1; the
unlabeled persons are strangers whose similarity to query 0 is set.
"""
import json
import os
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmps.apis import PersonSearcher
from mmps.evaluation import save_predictions
from mmps.evaluation.calibration import search_candidates
from mmps.evaluation.offline import dataset_ground_truth, merge_predictions
from mmps.registry import DATASETS, METRICS
from mmps.testing import get_tiny_synthetic_config
from mmps.utils import register_all_modules
from ._scripts import REPO, prediction_of_truth

TOOL = 'tools/analysis_tools/calibrate_threshold.py'


def calibrate(*args):
    """Run the tool; its exit code and output."""
    done = subprocess.run(
        [sys.executable, TOOL] + list(args),
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore'),
        capture_output=True,
        text=True)
    return done.returncode, done.stdout + done.stderr


def oracle_predictions(ground_truth, stranger_similarity):
    """Ground-truth boxes with one-hot embeddings by identity; each
    unlabeled box gets its own axis, tilted towards the first query's
    identity to ``stranger_similarity``."""
    ids = sorted(
        {int(i)
         for r in ground_truth
         for i in r['gt_person_ids'] if i >= 0})
    num_unlabeled = sum(
        int((r['gt_person_ids'] < 0).sum()) for r in ground_truth)
    first_query = next(r for r in ground_truth if r['query_index'] == 0)
    tilt = ids.index(int(first_query['gt_person_ids'][0]))
    eye = np.eye(len(ids) + num_unlabeled, dtype=np.float32)
    unlabeled = iter(range(len(ids), len(ids) + num_unlabeled))
    predictions = []
    for truth in ground_truth:
        embeddings = []
        for person_id in truth['gt_person_ids']:
            if person_id >= 0:
                embeddings.append(eye[ids.index(int(person_id))])
            else:
                embeddings.append(stranger_similarity * eye[tilt] +
                                  np.sqrt(1 - stranger_similarity**2) *
                                  eye[next(unlabeled)])
        predictions.append(
            prediction_of_truth(
                truth,
                np.array(embeddings, np.float32).reshape(-1, len(eye))))
    return predictions


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny config and the ground truth of its two splits."""
    tmp_path = tmp_path_factory.mktemp('calibrate')
    cfg = get_tiny_synthetic_config(str(tmp_path / 'synthetic'))
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    register_all_modules()
    truth = {
        split:
        dataset_ground_truth(
            DATASETS.build(cfg[f'{split}_dataloader'].dataset))
        for split in ('val', 'test')
    }
    return config, truth


def expected_counts(ground_truth):
    """Queries, appearances of their persons in the gallery (every image
    but the query's own), images searched and unlabeled boxes there for
    query 0, counted one record at a time."""
    gallery = [r for r in ground_truth if not r['is_query']]
    queries = sorted((r for r in ground_truth if r['is_query']),
                     key=lambda r: r['query_index'])
    appearances = searched = 0
    for query in queries:
        for image in gallery:
            if image['img_path'] == query['img_path']:
                continue
            searched += 1
            appearances += int(
                query['gt_person_ids'][0] in image['gt_person_ids'])
    strangers = sum(
        int((image['gt_person_ids'] < 0).sum()) for image in gallery
        if image['img_path'] != queries[0]['img_path'])
    return len(queries), appearances, searched, strangers


def test_oracle_curve_and_choices(tiny, tmp_path):
    config, truth = tiny
    num_queries, appearances, searched, strangers = expected_counts(
        truth['val'])
    path = str(tmp_path / 'val.npz')
    save_predictions(path, oracle_predictions(truth['val'], 0.6))
    out = str(tmp_path / 'calib.json')
    code, output = calibrate(config, '--predictions', path, '--out', out)
    assert code == 0, output[-3000:]
    assert 'WARNING' not in output
    assert 'min_similarity: 1.0\n' in output
    report = json.load(open(out))
    assert (report['split'], report['setting']) == ('val', 'all')
    assert (report['num_queries'], report['num_ground_truth'],
            report['num_searched_images']) == (num_queries, appearances,
                                               searched)
    assert report['target'] == dict(precision=0.9)
    assert report['min_similarity'] == pytest.approx(1.0)
    chosen = report['at_min_similarity']
    assert (chosen['precision'], chosen['recall'],
            chosen['false_matches']) == (1.0, 1.0, 0)
    row = next(r for r in report['curve'] if r['min_similarity'] == 0.6)
    assert row['true_matches'] == appearances
    assert row['false_matches'] == strangers
    assert row['precision'] == pytest.approx(appearances /
                                             (appearances + strangers))
    assert row['false_matches_per_query'] == pytest.approx(strangers /
                                                           num_queries)
    assert row['false_match_rate'] == pytest.approx(strangers / searched)

    # as many strangers as the target allows: the strangers' similarity
    rate = str(strangers / searched + 1e-6)
    code, output = calibrate(config, '--predictions', path,
                             '--false-match-rate', rate, '--out', out)
    assert code == 0, output[-3000:]
    assert json.load(open(out))['min_similarity'] == pytest.approx(0.6)
    # the strangers as similar as the persons: 0.9 is out of reach
    save_predictions(path, oracle_predictions(truth['val'], 1.0))
    code, output = calibrate(config, '--predictions', path)
    assert code == 2, output[-3000:]
    assert 'no threshold that keeps a match reaches precision 0.9' in output
    assert 'min_similarity:' not in output


def test_test_split_warns_and_uses_its_protocol(tiny, tmp_path):
    config, truth = tiny
    path = str(tmp_path / 'test.npz')
    save_predictions(path, oracle_predictions(truth['test'], 0.6))
    out = str(tmp_path / 'calib.json')
    code, output = calibrate(config, '--predictions', path, '--split', 'test',
                             '--out', out)
    assert code == 0, output[-3000:]
    assert 'WARNING: calibrating on the test split' in output
    assert 'test numbers that use it optimistic' in output
    report = json.load(open(out))
    # the CUHK-SYSU protocol's first gallery size of the test evaluator
    assert (report['split'], report['setting']) == ('test', 'g50')
    assert report['min_similarity'] == pytest.approx(1.0)
    assert report['at_min_similarity']['recall'] == 1.0
    # test predictions are not those of the validation split
    code, output = calibrate(config, '--predictions', path)
    assert code != 0
    assert 'predictions of the val split are needed' in output


def test_search_candidates_settings_and_cws(tiny):
    config, truth = tiny
    predictions = oracle_predictions(truth['test'], 0.6)
    for prediction in predictions:
        prediction['scores'][:] = 0.8
    records = merge_predictions(truth['test'], predictions)
    cfg = Config.fromfile(config)
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = DATASETS.build(cfg.test_dataloader.dataset).metainfo
    plain, setting = search_candidates(records, metric, 0.5, False)
    weighted, _ = search_candidates(records, metric, 0.5, True, 'g50')
    assert setting.name == 'g50' and plain.is_true.sum() > 0
    np.testing.assert_array_equal(weighted.is_true, plain.is_true)
    np.testing.assert_allclose(plain.similarities[plain.is_true], 1.0)
    # CWS: similarity times detection score, as the searcher ranks
    np.testing.assert_allclose(
        weighted.similarities, 0.8 * plain.similarities, atol=1e-6)
    # no candidate below the detection score threshold
    none, _ = search_candidates(records, metric, 0.9, False)
    assert len(none.similarities) == 0
    with pytest.raises(
            ValueError, match=r"has the settings \['g50'\], not 'g7'"):
        search_candidates(records, metric, 0.5, False, 'g7')


def test_untrained_model_saved_predictions_and_plot(tiny, tmp_path):
    config, truth = tiny
    model = PersonSearcher(config).model
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    saved = str(tmp_path / 'val.npz')
    out, plot = str(tmp_path / 'calib.json'), str(tmp_path / 'calib.png')
    options = [
        '--false-match-rate', '0.1', '--score-thr', '0', '--step', '0.1'
    ]
    code, output = calibrate(config, checkpoint, '--save-predictions', saved,
                             '--out', out, '--plot', plot, *options)
    assert code == 0, output[-3000:]
    report = json.load(open(out))
    num_queries, _, searched, _ = expected_counts(truth['val'])
    assert (report['num_queries'],
            report['num_searched_images']) == (num_queries, searched)
    assert report['checkpoint'] == checkpoint
    # the target holds from the chosen threshold up, and binds below
    rates = {
        r['min_similarity']: r['false_match_rate']
        for r in report['curve']
    }
    assert rates[report['min_similarity']] <= 0.1
    assert all(rate <= 0.1 for t, rate in rates.items()
               if t >= report['min_similarity'])
    assert max(rates.values()) > 0.1
    assert mmcv.imread(plot).shape[:2] == (450, 1100)
    # again from the saved predictions, without the model: the same
    again = str(tmp_path / 'again.json')
    code, output = calibrate(config, '--predictions', saved, '--out', again,
                             *options)
    assert code == 0, output[-3000:]
    repeated = json.load(open(again))
    for key in ('min_similarity', 'curve', 'num_candidates'):
        assert repeated[key] == report[key]
