# Copyright (c) mmps contributors. All rights reserved.
"""Running the repository's scripts as a user would, from its root."""
import os
import os.path as osp
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
