# Copyright (c) mmps contributors. All rights reserved.
"""Running the repository's scripts as a user would, from its root."""
import os
import os.path as osp
import socket
import subprocess
import sys

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def run_script(*args: str) -> str:
    """Run ``python ARGS`` in the repository; fail the test on an error.

    Returns:
        str: What it printed, standard output then standard error.
    """
    done = subprocess.run(
        [sys.executable] + list(args),
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO, PYTHONWARNINGS='ignore'),
        capture_output=True,
        text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


def free_port() -> int:
    """A TCP port free on this machine now, for a torchrun master."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_torchrun_script(script: str,
                        *args: str,
                        pythonpath: str = REPO) -> str:
    """Run ``bash tools/SCRIPT ARGS`` (a torchrun launcher) on a free port.

    Returns:
        str: What it printed, standard output then standard error.
    """
    bin_dir = osp.dirname(sys.executable)
    done = subprocess.run(
        ['bash', script] + list(args),
        cwd=REPO,
        env=dict(
            os.environ,
            PATH=f'{bin_dir}:{os.environ.get("PATH", "")}',
            PYTHONPATH=pythonpath,
            PYTHONWARNINGS='ignore',
            PORT=str(free_port())),
        capture_output=True,
        text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def prediction_of_truth(truth: dict, embeddings) -> dict:
    """A predictions record (``docs/predictions_format.md``) detecting the
    ground-truth boxes of ``truth`` (a record of ``dataset_ground_truth``)
    with score 1 and the given embeddings, (n, D)."""
    import numpy as np
    return dict(
        img_path=osp.basename(truth['img_path']),
        is_query=truth['is_query'],
        query_index=truth['query_index'],
        cam_id=-1,
        bboxes=truth['gt_bboxes'],
        scores=np.ones(len(embeddings), np.float32),
        embeddings=np.asarray(embeddings, np.float32))
