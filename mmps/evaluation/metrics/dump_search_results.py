# Copyright (c) mmps contributors. All rights reserved.
from typing import Dict, List, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmps.registry import METRICS
from ..predictions_io import save_predictions
from .search_records import GROUND_TRUTH_KEYS, make_record


@METRICS.register_module()
class DumpSearchResults(BaseMetric):
    """Dump the raw predictions of a test run to an ``.npz`` file.

    One record per gallery image (its detections with scores and
    embeddings) and per query (its box and embedding): every field of
    :func:`make_record` but the ground truth, in the format that
    ``tools/analysis_tools/eval_search.py`` scores again without the model
    (:mod:`mmps.evaluation.predictions_io`, documented in
    ``docs/predictions_format.md``).

    Args:
        out_file_path (str): The ``.npz`` file to write.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
    """

    def __init__(self,
                 out_file_path: str,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not out_file_path.endswith('.npz'):
            raise ValueError(f'predictions are written as .npz files '
                             f'(docs/predictions_format.md), got '
                             f'{out_file_path!r}')
        self.out_file_path = out_file_path

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions of a batch, without the ground truth."""
        for data_sample in data_samples:
            record = make_record(data_sample)
            self.results.append({
                key: value
                for key, value in record.items()
                if key not in GROUND_TRUTH_KEYS
            })

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Write the records; no metric is computed."""
        save_predictions(self.out_file_path, results)
        print_log(f'predictions of {len(results)} images and queries '
                  f'written to {self.out_file_path}')
        return {}
