# Copyright (c) mmps contributors. All rights reserved.
"""The search-index and metric benchmarks run at a tiny size."""
import os
import os.path as osp
import re

from ._scripts import REPO, run_script

SCRIPT = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_search_index.py')


def test_benchmark_search_index_prints_its_table(tmp_path):
    backends = ['exact', 'exact-all', 'exact-gathered']
    try:
        import faiss  # noqa: F401
        backends.append('faiss')
    except ImportError:
        pass
    out = run_script(SCRIPT, '--boxes', '3000', '--dim', '32',
                     '--batch', '5', '--repeats', '1', '--tmp-dir',
                     str(tmp_path), '--backends', *backends, '--nprobe', '8',
                     '32', '--faiss-encoding', 'Flat')
    assert 'index: 3,000 detections (clustered), 32-d, 600 images' in out
    exact = re.search(
        r'^exact +0\.\d +0\.00\d +\d+\.\d+ +\d+\.\d+ +\d+\.\d+ '
        r'+1\.0000$', out, re.M)
    assert exact, out
    # scoring every detection finds the same top-k (to the BLAS' rounding
    # of near-ties)
    every = re.search(
        r'^exact-all +0\.0 +0\.000 +\d+\.\d+ +\d+\.\d+ +\d+\.\d+ '
        r'+([01]\.\d{4})$', out, re.M)
    assert every and float(every.group(1)) >= 0.99, out
    # gathering every passing detection (some 50% here, over the default's
    # limit) scores the same rows
    gathered = re.search(
        r'^exact-gathered +\d+\.\d +0\.00\d +\d+\.\d+ +\d+\.\d+ '
        r'+\d+\.\d+ +([01]\.\d{4})$', out, re.M)
    assert gathered and float(gathered.group(1)) >= 0.99, out
    if 'faiss' in backends:
        for nprobe in (8, 32):
            assert re.search(
                rf'^faiss IVF55,Flat nprobe={nprobe} .* [01]\.\d{{4}}$', out,
                re.M), out
    # the generated arrays are removed
    assert os.listdir(tmp_path) == []


def test_benchmark_metric_runs_on_fewer_images_than_its_galleries():
    # gallery sizes need as many images: 300 images allow 50 and 100
    out = run_script(
        osp.join(REPO, 'tools', 'analysis_tools',
                 'benchmark_metric.py'), '--images', '300', '--detections',
        '2000', '--queries', '20', '--reference-sample', '5')
    settings = re.findall(r'^ +(\w+) +\d+\.\d+ +\d+\.\d+ +\d+\.\dx +(\w+)$',
                          out, re.M)
    assert settings == [('g50', 'same'), ('g100', 'same'), ('full', 'same')]
