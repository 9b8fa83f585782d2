# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from mmps.datasets.cuhk_sysu_format import SUBSETS
from mmps.registry import METRICS
from ..functional import (QueryContext, SearchResults, build_query_contexts,
                          evaluate_detection, rank_queries,
                          seqnet_query_contexts)
from .search_protocols import build_settings
from .search_records import (check_records, make_record, split_records,
                             threshold_detections)
from .worst_queries import dump_worst_queries

#: CBGM settings and their defaults (SeqNet's CUHK-SYSU values; it uses
#: ``k1=30, k2=4`` on PRW).
CBGM_DEFAULTS = dict(k1=10, k2=3, overlap_iou=0.4, context='gallery')
#: Rules for the persons around a query (see
#: :mod:`mmps.evaluation.functional.cbgm`).
CBGM_CONTEXTS = ('gallery', 'seqnet')


@METRICS.register_module()
class PersonSearchMetric(BaseMetric):
    """Person search evaluation under the CUHK-SYSU or PRW protocol.

    Scores exactly as the community's reference code does (see
    :mod:`mmps.evaluation.functional.search`), vectorised. The test data
    is the gallery images (predictions: detections with embeddings) and the
    queries (``is_query=True``; predictions: the query box's embedding).

    Reported, for each setting (gallery size, or PRW's all / cross-camera
    galleries): mAP and top-k; then the gallery's detection recall and AP
    at IoU 0.5 and the recall of the labeled boxes. The first setting's
    numbers are also given without a setting name (``mmps/mAP``,
    ``mmps/top1``) for checkpoint selection.

    Args:
        protocol (str): ``'cuhk_sysu'`` or ``'prw'``.
        data_root (str, optional): The CUHK-SYSU root, whose
            ``annotation/test/train_test/TestG{N}.mat`` define the galleries.
            Defaults to None: the root of the evaluated dataset
            (``dataset_meta['protocol_root']``, which
            :class:`mmps.datasets.CUHKSYSUDataset` sets). Given, it must be
            that root (when the dataset names one): it is for scoring
            without a dataset.
        gallery_sizes (Sequence[int]): CUHK-SYSU gallery sizes among 50,
            100, 500, 1000, 2000, 4000, and -1 for the full set (every
            gallery image but the query's own). Defaults to (100, ).
        cross_camera (bool): PRW: also report the gallery of the other
            cameras only. Defaults to True.
        subsets (Sequence[str]): CUHK-SYSU: also report the evaluation
            subsets ``'occlusion'`` (``annotation/test/subset/
            Occlusion.mat``) and ``'resolution'`` (``Resolution.mat``),
            each on its own queries and galleries. Defaults to ().
        score_thr (float): Detections below this score are dropped.
            Defaults to 0.5.
        topk (Sequence[int]): Ranks of the top-k accuracies.
            Defaults to (1, 5, 10).
        cbgm (dict, optional): Also report every setting re-ranked with
            Context Bipartite Graph Matching (SeqNet), as ``{setting}+cbgm``
            (e.g. ``g100+cbgm/mAP``): ``k1``, the images of the query's
            ``k1`` most similar detections are re-scored (default 10);
            ``k2``, context size, the query included (default 3);
            ``overlap_iou``, detections of the query image overlapping the
            query box this much are the query itself (default 0.4);
            ``context``, where the persons around a query come from:
            ``'gallery'`` (default), the gallery predictions of the query
            image, or ``'seqnet'``, SeqNet's rule, the query image searched
            with the query box forced in (the queries' context arrays, from
            a SeqNet model with ``test_cfg.rcnn.query_context=True``); see
            :mod:`mmps.evaluation.functional.cbgm`. SeqNet uses
            ``dict(k1=30, k2=4)`` on PRW. Defaults to None (no CBGM).
        cws (bool): Confidence Weighted Similarity (NAE, SeqNet): rank the
            gallery detections by similarity times detection score, as the
            evaluations of NAE and SeqNet do with their score-scaled
            embeddings. Defaults to False (OIM's plain similarity).
        worst_queries_file (str, optional): Write the worst queries (query,
            ground truth, top-10 with scores and correctness) to this JSON
            file.
        num_worst_queries (int): How many to write. Defaults to 50.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str): Prefix of the metric names. Defaults to 'mmps'.
    """

    default_prefix: Optional[str] = 'mmps'

    def __init__(self,
                 protocol: str = 'cuhk_sysu',
                 data_root: Optional[str] = None,
                 gallery_sizes: Sequence[int] = (100, ),
                 cross_camera: bool = True,
                 subsets: Sequence[str] = (),
                 score_thr: float = 0.5,
                 topk: Sequence[int] = (1, 5, 10),
                 cbgm: Optional[dict] = None,
                 cws: bool = False,
                 worst_queries_file: Optional[str] = None,
                 num_worst_queries: int = 50,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol not in ('cuhk_sysu', 'prw'):
            raise ValueError(f"protocol must be 'cuhk_sysu' or 'prw', got "
                             f'{protocol!r}')
        if subsets and protocol != 'cuhk_sysu':
            raise ValueError('subsets are files of CUHK-SYSU; the '
                             f'{protocol!r} protocol has none')
        unknown = set(subsets) - set(SUBSETS)
        if unknown:
            raise ValueError(f'unknown subsets {sorted(unknown)}: choose '
                             f'from {tuple(SUBSETS)}')
        self.subsets = tuple(subsets)
        self.cbgm = None
        if cbgm is not None:
            unknown = set(cbgm) - set(CBGM_DEFAULTS)
            if unknown:
                raise ValueError(f'unknown cbgm keys {sorted(unknown)}: '
                                 f'expected some of {sorted(CBGM_DEFAULTS)}')
            self.cbgm = dict(CBGM_DEFAULTS, **cbgm)
            if self.cbgm['k1'] < 1 or self.cbgm['k2'] < 1:
                raise ValueError(f'cbgm k1 and k2 must be >= 1, got '
                                 f'{self.cbgm}')
            if self.cbgm['context'] not in CBGM_CONTEXTS:
                raise ValueError(f'cbgm context must be one of '
                                 f'{CBGM_CONTEXTS}, got '
                                 f'{self.cbgm["context"]!r}')
        self.cws = cws
        self.protocol = protocol
        self.data_root = data_root
        self.gallery_sizes = tuple(gallery_sizes)
        self.cross_camera = cross_camera
        self.score_thr = score_thr
        self.topk = tuple(topk)
        self.worst_queries_file = worst_queries_file
        self.num_worst_queries = num_worst_queries

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions and ground truth of a batch.

        Args:
            data_batch (dict): The batch from the data loader (unused).
            data_samples (Sequence[dict]): Predicted samples.
        """
        for data_sample in data_samples:
            self.results.append(make_record(data_sample))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Score the collected records.

        Args:
            results (list[dict]): Records of all gallery images and queries
                (see :func:`make_record`).

        Returns:
            dict[str, float]: Flat metrics, e.g. ``mAP``, ``top1``,
            ``g100/mAP``, ``det_recall``.
        """
        logger = MMLogger.get_current_instance()
        gallery, queries = split_records(results)
        check_records(gallery, queries)
        detections, kept = threshold_detections(gallery, self.score_thr,
                                                self.cws)
        query_embeddings = np.concatenate(
            [q['embeddings'][:1] for q in queries]).astype(np.float32)
        settings = build_settings(self.protocol, gallery, queries,
                                  self.protocol_root(), self.gallery_sizes,
                                  self.cross_camera, self.subsets)
        dense = None
        if any(s.is_large(detections.num_images) for s in settings):
            dense = query_embeddings @ detections.embeddings.T

        context = None
        if self.cbgm is not None:
            context = self._query_contexts(gallery, queries, query_embeddings)

        metrics: Dict[str, float] = OrderedDict()
        rows = [['setting', 'mAP'] + [f'top-{k}'
                                      for k in self.topk] + ['queries']]
        all_results = {}
        for index, setting in enumerate(settings):
            embeddings, scores = query_embeddings, dense
            setting_context = context
            if setting.query_indices is not None:
                embeddings = query_embeddings[setting.query_indices]
                if dense is not None:
                    scores = dense[setting.query_indices]
                if context is not None:
                    setting_context = context.take(setting.query_indices)
            if not setting.is_large(detections.num_images):
                scores = None
            runs = [(setting.name, None)]
            if setting_context is not None:
                runs.append((f'{setting.name}+cbgm', setting_context))
            for name, run_context in runs:
                search = rank_queries(
                    embeddings, detections,
                    setting.galleries, setting.ground_truth,
                    max(10, max(self.topk)), scores, run_context,
                    self.cbgm['k1'] if run_context is not None else 10)
                all_results[name] = search
                rows.append(
                    self._record(metrics, name, search, index == 0
                                 and run_context is None))
        logger.info('\nperson search:\n' + AsciiTable(rows).table)

        metrics.update(self._detection_metrics(gallery, kept, logger))
        if self.worst_queries_file:
            first = settings[0]
            dump_worst_queries(self.worst_queries_file,
                               all_results[first.name], first, gallery,
                               queries, detections, self.num_worst_queries)
        return metrics

    def protocol_root(self) -> Optional[str]:
        """The folder of the CUHK-SYSU protocol files: the evaluated
        dataset's, or the metric's ``data_root``; None for other protocols."""
        if self.protocol != 'cuhk_sysu':
            return None
        dataset_root = (self.dataset_meta or {}).get('protocol_root')
        if self.data_root is None and dataset_root is None:
            raise ValueError(
                'the CUHK-SYSU protocol needs the folder holding '
                'annotation/test/train_test: evaluate a CUHKSYSUDataset '
                "(its metainfo gives its data_root) or set the metric's "
                'data_root')
        if self.data_root is None:
            return dataset_root
        if dataset_root is not None and osp.abspath(
                self.data_root) != osp.abspath(dataset_root):
            raise ValueError(
                f'PersonSearchMetric: data_root={self.data_root!r}, but the '
                f'evaluated dataset is at {dataset_root!r}; leave data_root '
                f'unset to score with the dataset\'s protocol files')
        return self.data_root

    def _record(self, metrics: Dict[str, float], name: str,
                search: SearchResults, headline: bool) -> list:
        """Add a setting's mAP and top-k to ``metrics``; its table row."""
        values = [search.mean_ap()] + [search.top_k(k) for k in self.topk]
        keys = ['mAP'] + [f'top{k}' for k in self.topk]
        for key, value in zip(keys, values):
            metrics[f'{name}/{key}'] = value
            if headline:
                metrics[key] = value
        skipped = int(np.isnan(search.average_precision).sum())
        scored = len(search.average_precision) - skipped
        return [name] + [f'{v:.2%}' for v in values] + [
            f'{scored}' + (f' ({skipped} without gt)' if skipped else '')
        ]

    def _query_contexts(self, gallery: List[dict], queries: List[dict],
                        query_embeddings: np.ndarray) -> QueryContext:
        """CBGM's context of each query, from its image's persons."""
        query_boxes = np.stack([q['bboxes'][0] for q in queries])
        if self.cbgm['context'] == 'seqnet':
            lacking = [q for q in queries if 'context_embeddings' not in q]
            if lacking:
                raise ValueError(
                    f'{lacking[0]["img_path"]} (query '
                    f'{lacking[0]["query_index"]}) has no context persons: '
                    "CBGM with context='seqnet' needs a SeqNet model run "
                    'with test_cfg.rcnn.query_context=True')
            return seqnet_query_contexts(
                query_embeddings, query_boxes,
                [(q['context_bboxes'], q['context_embeddings'])
                 for q in queries], self.cbgm['k2'])
        by_path = {g['img_path']: g for g in gallery}
        found = []
        for query in queries:
            record = by_path.get(query['img_path'])
            if record is None:
                found.append(None)
                continue
            keep = record['scores'] >= self.score_thr
            found.append((record['bboxes'][keep], record['scores'][keep],
                          record['embeddings'][keep]))
        return build_query_contexts(query_embeddings, query_boxes, found,
                                    self.cbgm['k2'], self.cbgm['overlap_iou'])

    def _detection_metrics(self, gallery: List[dict], kept: List[np.ndarray],
                           logger) -> Dict[str, float]:
        """Detection recall and AP of the gallery, all and labeled boxes."""
        det_boxes = [g['bboxes'][k] for g, k in zip(gallery, kept)]
        det_scores = [g['scores'][k] for g, k in zip(gallery, kept)]
        recall, ap = evaluate_detection([g['gt_bboxes'] for g in gallery],
                                        det_boxes, det_scores)
        labeled_recall, _ = evaluate_detection(
            [g['gt_bboxes'][g['gt_person_ids'] >= 0] for g in gallery],
            det_boxes,
            det_scores,
            skip_images_without_gt=True)
        table = AsciiTable([['boxes', 'recall', 'AP'],
                            ['all', f'{recall:.2%}', f'{ap:.2%}'],
                            ['labeled', f'{labeled_recall:.2%}', '-']])
        logger.info('\ndetection (IoU 0.5, score >= '
                    f'{self.score_thr}):\n' + table.table)
        return dict(
            det_recall=recall, det_ap=ap, det_recall_labeled=labeled_recall)
