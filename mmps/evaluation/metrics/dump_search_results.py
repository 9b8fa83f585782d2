# Copyright (c) mmps contributors. All rights reserved.
from typing import Dict, List, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.fileio import dump
from mmengine.logging import print_log

from mmps.registry import METRICS
from .person_search_metric import make_record

#: Keys of a prediction record (see docs/predictions_format.md).
PREDICTION_KEYS = ('img_path', 'is_query', 'query_index', 'cam_id', 'bboxes',
                   'scores', 'embeddings')


@METRICS.register_module()
class DumpSearchResults(BaseMetric):
    """Dump the raw predictions of a test run to a pickle file.

    One record per gallery image (its detections with scores and
    embeddings) and per query (its box and embedding), in the format that
    ``tools/analysis_tools/eval_search.py`` scores again without the model
    (documented in ``docs/predictions_format.md``).

    Args:
        out_file_path (str): The ``.pkl`` file to write.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
    """

    def __init__(self,
                 out_file_path: str,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not out_file_path.endswith(('.pkl', '.pickle')):
            raise ValueError(f'the output file must be a .pkl or .pickle '
                             f'file, got {out_file_path!r}')
        self.out_file_path = out_file_path

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions of a batch, without the ground truth."""
        for data_sample in data_samples:
            record = make_record(data_sample)
            self.results.append({key: record[key] for key in PREDICTION_KEYS})

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Write the records; no metric is computed."""
        dump(results, self.out_file_path)
        print_log(f'predictions of {len(results)} images and queries '
                  f'written to {self.out_file_path}')
        return {}
