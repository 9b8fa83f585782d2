# Copyright (c) mmps contributors. All rights reserved.
"""tools/analysis_tools/eval_search.py on predictions made without a model.

The predictions are the ground truth of the tiny synthetic test set, with
one-hot embeddings by identity: every query finds exactly its person, so
the mAP, top-1 and detection recall are 1.
"""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmps.evaluation import (PREDICTION_KEYS, PersonSearchMetric,
                             save_predictions)
from mmps.evaluation.offline import dataset_ground_truth, merge_predictions
from mmps.registry import DATASETS
from mmps.testing import get_tiny_synthetic_config
from mmps.utils import register_all_modules
from ._scripts import REPO, prediction_of_truth


class RunsCode:
    """Unpickled, creates the file ``marker`` (as any command could run)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, 'w')


@pytest.fixture(scope='module')
def oracle(tmp_path_factory):
    """The tiny config, its test ground truth and the oracle predictions."""
    tmp_path = tmp_path_factory.mktemp('eval_search')
    cfg = get_tiny_synthetic_config(str(tmp_path / 'synthetic'))
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    register_all_modules()
    ground_truth = dataset_ground_truth(
        DATASETS.build(cfg.test_dataloader.dataset))
    ids = sorted({int(i) for r in ground_truth for i in r['gt_person_ids']})
    predictions = []
    for truth in ground_truth:
        columns = [ids.index(int(i)) for i in truth['gt_person_ids']]
        embeddings = np.eye(len(ids), dtype=np.float32)[columns]
        predictions.append(prediction_of_truth(truth, embeddings))
    return config, ground_truth, predictions


def eval_search(*args):
    """Run the tool; its exit code and output."""
    done = subprocess.run(
        [sys.executable, 'tools/analysis_tools/eval_search.py'] + list(args),
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore'),
        capture_output=True,
        text=True)
    return done.returncode, done.stdout + done.stderr


def metrics_of(output):
    """mAP, top-1 and detection recall, as printed."""
    lines = dict(
        line.split(': ') for line in output.splitlines() if ': ' in line)
    return {name: float(lines[name]) for name in ('mAP', 'top1', 'det_recall')}


def test_scores_an_npz_file(oracle, tmp_path):
    config, ground_truth, predictions = oracle
    path = str(tmp_path / 'preds.npz')
    save_predictions(path, predictions)
    code, output = eval_search(config, path)
    assert code == 0, output[-3000:]
    assert metrics_of(output) == dict(mAP=1.0, top1=1.0, det_recall=1.0)


def test_pickle_is_refused_and_runs_nothing(oracle, tmp_path):
    config = oracle[0]
    marker = tmp_path / 'ran'
    path = str(tmp_path / 'preds.pkl')
    with open(path, 'wb') as f:
        pickle.dump([RunsCode(str(marker))], f)
    code, output = eval_search(config, path)
    assert code != 0
    assert 'preds.pkl is a pickle: loading a pickle runs any code' in output
    assert '--allow-pickle' in output
    assert not marker.exists()


def test_own_old_pickle_with_allow_pickle(oracle, tmp_path):
    config, _, predictions = oracle
    path = str(tmp_path / 'preds.pkl')
    with open(path, 'wb') as f:
        pickle.dump(predictions, f)
    code, output = eval_search(config, path, '--allow-pickle')
    assert code == 0, output[-3000:]
    assert metrics_of(output) == dict(mAP=1.0, top1=1.0, det_recall=1.0)


def _flat_boxes(predictions):
    predictions[0]['bboxes'] = predictions[0]['bboxes'].reshape(-1)


def _nan_score(predictions):
    predictions[0]['scores'] = np.full_like(predictions[0]['scores'], np.nan)


def _two_query_boxes(predictions):
    query = next(p for p in predictions if p['is_query'])
    for name in ('bboxes', 'scores', 'embeddings'):
        query[name] = np.concatenate([query[name]] * 2)


@pytest.mark.parametrize('change, message', [
    (_flat_boxes, r'bboxes must have shape \(N, 4\), got \(4,\)'),
    (_nan_score, 'scores contain NaN'),
    (_two_query_boxes,
     r'\(query 0\): a query record holds exactly one box and one '
     'embedding, got 2'),
])
def test_bad_predictions_name_the_record(oracle, change, message):
    """What eval_search.py does after loading the file."""
    config, ground_truth, predictions = oracle
    predictions = [dict(p) for p in predictions]
    change(predictions)
    records = merge_predictions(ground_truth, predictions)
    metric = PersonSearchMetric(
        data_root=osp.join(osp.dirname(config), 'synthetic'),
        gallery_sizes=(50, ))
    with pytest.raises(ValueError, match=message):
        metric.compute_metrics(records)


def test_predictions_hold_the_required_keys(oracle):
    assert set(oracle[2][0]) == set(PREDICTION_KEYS)
