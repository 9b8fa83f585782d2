# Copyright (c) mmps contributors. All rights reserved.
"""The NAE and SeqNet quick-start configs through tools/train.py and
tools/test.py, on a tiny synthetic dataset."""
import glob
import json
import os.path as osp

import numpy as np
import pytest

from mmps.evaluation import load_predictions
from mmps.testing import get_tiny_synthetic_config
from .test_train_test import run_tool, train_scalars


@pytest.mark.parametrize('config,extra_losses', [
    ('nae/nae_r18-w32_1xb4-16e_synthetic.py', set()),
    ('seqnet/seqnet_r18-w32_1xb4-16e_synthetic.py',
     {'loss_proposal_cls', 'loss_proposal_bbox'}),
])
def test_train_then_test(tmp_path, config, extra_losses):
    cfg = get_tiny_synthetic_config(
        str(tmp_path / 'synthetic'), max_epochs=1, config=config)
    path = str(tmp_path / 'tiny.py')
    cfg.dump(path)
    work_dir = str(tmp_path / 'work')
    run_tool('tools/train.py', path, '--work-dir', work_dir)
    scalars = train_scalars(work_dir)
    losses = {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_reid'}
    assert losses | extra_losses <= set(scalars[0])
    assert all(np.isfinite(s['loss']) for s in scalars)

    seqnet = config.startswith('seqnet')
    preds = str(tmp_path / 'preds.npz')
    # the SeqNet config scores CBGM with SeqNet's context rule
    run_tool('tools/test.py', path, osp.join(work_dir, 'epoch_1.pth'),
             '--work-dir', str(tmp_path / 'test'), '--out', preds)
    (metrics_file, ) = glob.glob(str(tmp_path / 'test' / '*' / '*.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    keys = ['mmps/g50/mAP', 'mmps/g50/top1', 'mmps/det_recall']
    if seqnet:
        keys += ['mmps/g50+cbgm/mAP']
    for key in keys:
        assert 0.0 <= metrics[key] <= 1.0, key
    records = load_predictions(preds)
    queries = [r for r in records if r['is_query']]
    assert queries
    for query in queries:
        assert ('context_embeddings' in query) == seqnet
        if seqnet:
            # the query box comes back first, with score 1
            assert query['context_scores'][0] == pytest.approx(1.0)
            np.testing.assert_allclose(
                query['context_bboxes'][0], query['bboxes'][0], atol=1e-3)
