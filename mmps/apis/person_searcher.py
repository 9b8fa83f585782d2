# Copyright (c) mmps contributors. All rights reserved.
import copy
import math
import os.path as osp
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from torch.utils.data import (DataLoader, Dataset, IterableDataset,
                              get_worker_info)

from mmps.datasets import dataset_part_configs
from mmps.datasets.box_checks import check_boxes
from mmps.registry import DATASETS, MODELS
from .appearances import Appearance, group_matches, sampling_steps
from .fingerprint import model_fingerprint
from .frame_sources import Frame, FrameSources
from .gallery_index import GalleryIndex, SearchMatch
from .media import frame_key, is_video, split_frame_key
from .search_backends import SearchBackend

ImageLike = Union[str, np.ndarray]
GalleryInputs = Union[str, Path, Sequence[Union[str, Path]], dict]


def dataset_image_paths(dataset_cfg: dict) -> List[str]:
    """The image paths of a dataset config, in the dataset's order."""
    dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]


class _SearchInputs(Dataset):
    """Query images and boxes through the test pipeline, for a loader.

    An image that fails to load gives ``dict(failed=path, error=message)``
    instead of a sample.
    """

    def __init__(self,
                 images: Sequence[ImageLike],
                 file_pipeline: Compose,
                 array_pipeline: Compose,
                 boxes: Optional[np.ndarray] = None) -> None:
        self.images = images
        self.file_pipeline = file_pipeline
        self.array_pipeline = array_pipeline
        self.boxes = boxes

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        image = self.images[i]
        data = dict(img_id=i, instances=[])
        if isinstance(image, np.ndarray):
            data['img'] = image
            pipeline = self.array_pipeline
        else:
            data['img_path'] = image
            pipeline = self.file_pipeline
        if self.boxes is not None:
            data['is_query'] = True
            data['instances'] = [
                dict(
                    bbox=self.boxes[i].tolist(),
                    bbox_label=0,
                    person_id=-1,
                    ignore_flag=0)
            ]
        name = image if isinstance(image, str) else f'array {i}'
        return _run_pipeline(pipeline, data, name)


def _run_pipeline(pipeline: Compose, data: dict, name: str) -> dict:
    """A sample through the pipeline, or ``dict(failed=name, error=...)``."""
    try:
        return pipeline(data)
    except Exception as error:  # noqa: B902 any reader error is reported
        return dict(failed=name, error=f'{type(error).__name__}: {error}')


class _FrameInputs(IterableDataset):
    """The frames of gallery sources through the test pipeline, lazily.

    Yields a sample per still image and per sampled video frame not in the
    sources' ``skip``, with its :class:`Frame` record (``image=None``) as
    ``frame``, and ``dict(failed=file, error=reason)`` for a file that
    could not be (fully) read: a still the pipeline cannot load, or a video
    that cannot be opened or stops decoding (after its decoded frames).
    Stills go through the file pipeline (the config's image reader), video
    frames through the array pipeline. With several loader workers, worker
    ``w`` of ``n`` reads sources ``w, w + n, ...``.
    """

    def __init__(self, frames: FrameSources, file_pipeline: Compose,
                 array_pipeline: Compose) -> None:
        self.frames = frames
        self.file_pipeline = file_pipeline
        self.array_pipeline = array_pipeline

    def __iter__(self):
        sources = self.frames.sources
        worker = get_worker_info()
        if worker is not None:
            sources = sources[worker.id::worker.num_workers]
        frames = self.frames.select(sources)
        for source in sources:
            if is_video(source):
                for frame in frames.video_frames(source):
                    sample = _run_pipeline(
                        self.array_pipeline,
                        dict(img=frame.image, img_id=0, instances=[]),
                        frame.key)
                    sample['frame'] = frame._replace(image=None)
                    yield sample
                if source in frames.report:
                    yield dict(failed=source, error=frames.report[source])
            elif source not in frames.skip:
                sample = _run_pipeline(
                    self.file_pipeline,
                    dict(img_path=source, img_id=0, instances=[]), source)
                sample['frame'] = Frame(source, -1, math.nan,
                                        frames.cameras[source], None, source)
                yield sample


def _collate(batch: List[dict]) -> dict:
    """Stack nothing: a list of samples, with the failed images apart."""
    samples = [item for item in batch if 'failed' not in item]
    failed = {
        item['failed']: item['error']
        for item in batch if 'failed' in item
    }
    return dict(
        inputs=[item['inputs'] for item in samples],
        data_samples=[item['data_samples'] for item in samples],
        frames=[item.get('frame') for item in samples],
        failed=failed)


class PersonSearcher:
    """Search persons with a trained mmps model, like mmdet's inferencers.

    Build an index of a gallery of images and videos once (detect and
    embed every person), then search it with query boxes::

        searcher = PersonSearcher(
            'configs/oim/oim_r18-w32-c4_1xb4-16e_synthetic.py',
            'epoch_16.pth')
        index = searcher.build_index(['photos/', 'cam1/'], fps=2)
        index.save('footage_index')
        matches = searcher.search('query.jpg', [x1, y1, x2, y2], index)
        seen = searcher.search_appearances(
            'query.jpg', [x1, y1, x2, y2], index, min_similarity=0.6)

    Args:
        config (str | Path | Config): The model's config.
        checkpoint (str, optional): Its weights, read under torch's
            ``weights_only``; every weight of the model must be in it (see
            :func:`mmps.utils.load_model_checkpoint`). Without, the model
            keeps its initialisation (for tests).
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
            Defaults to ``'cpu'``.
        batch_size (int): Images per forward pass. Defaults to 4.
        num_workers (int): Processes that read and resize images.
            Defaults to 0 (in the main process).
        cfg_options (dict, optional): Overrides of the config.
        cws (bool, optional): Rank matches by similarity times detection
            score (Confidence Weighted Similarity, as NAE and SeqNet
            evaluate). Defaults to the ``cws`` of the config's test
            evaluator (on in the NAE and SeqNet configs).
    """

    def __init__(self,
                 config: Union[str, Path, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 batch_size: int = 4,
                 num_workers: int = 0,
                 cfg_options: Optional[dict] = None,
                 cws: Optional[bool] = None) -> None:
        from mmps.utils import load_model_checkpoint, register_all_modules
        register_all_modules(init_default_scope=False)
        cfg = Config.fromfile(config) if isinstance(
            config, (str, Path)) else copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmps'))
        rcnn_test_cfg = cfg.model.get('test_cfg', {}).get('rcnn', {})
        if rcnn_test_cfg.get('query_context'):
            # SeqNet's CBGM context pass serves evaluation, not search
            rcnn_test_cfg.query_context = False
        # building does not run init_weights: no pretrained weights are
        # fetched; the checkpoint (if any) holds every weight
        self.model = revert_sync_batchnorm(
            MODELS.build(copy.deepcopy(cfg.model)))
        if checkpoint is not None:
            load_model_checkpoint(self.model, checkpoint)
        self.model.cfg = cfg
        self.model.to(device).eval()
        self.cfg = cfg
        if cws is None:
            evaluator = cfg.get('test_evaluator', {})
            cws = isinstance(evaluator, dict) and bool(
                evaluator.get('cws', False))
        self.cws = cws
        self.device = device
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.fingerprint = model_fingerprint(self.model)
        self.pipeline = self._test_pipeline(cfg, from_array=False)
        self.array_pipeline = self._test_pipeline(cfg, from_array=True)

    @staticmethod
    def _test_pipeline(cfg: Config, from_array: bool) -> Compose:
        """The test pipeline of the config, reading files or arrays."""
        dataset = dataset_part_configs(cfg.test_dataloader.dataset)[0]
        pipeline = copy.deepcopy(dataset.pipeline)
        if from_array:
            for transform in pipeline:
                if transform.type in ('LoadImageFromFile',
                                      'mmdet.LoadImageFromFile'):
                    transform.type = 'mmdet.LoadImageFromNDArray'
        return Compose(pipeline)

    @property
    def embedding_dim(self) -> int:
        """Length of the model's embeddings."""
        return self.model.roi_head.embedding_head.embed_channels

    def _run_queries(self, images: Sequence[ImageLike],
                     boxes: np.ndarray) -> Tuple[list, Dict[str, str]]:
        """Forward query images with their boxes in batches; the results
        and the images that could not be read."""
        loader = DataLoader(
            _SearchInputs(images, self.pipeline, self.array_pipeline, boxes),
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            collate_fn=_collate)
        results, failed = [], {}
        with torch.no_grad():
            for batch in loader:
                failed.update(batch.pop('failed'))
                batch.pop('frames')
                if batch['inputs']:
                    results.extend(self.model.test_step(batch))
        return results, failed

    def build_index(self,
                    gallery: GalleryInputs,
                    index: Optional[GalleryIndex] = None,
                    progress: bool = True,
                    fps: Optional[float] = None,
                    stride: Optional[int] = None,
                    cameras: Optional[Mapping[str, str]] = None,
                    camera_from: Optional[str] = 'folder',
                    shard: Optional[Tuple[int, int]] = None,
                    new_only: bool = False) -> GalleryIndex:
        """Detect and embed the persons of a gallery of images and videos.

        Frames are read lazily (see :class:`FrameSources`): at most a batch
        of decoded frames per loader worker is held at a time.

        Args:
            gallery (str | Path | Sequence | dict): Image files, video files
                and folders of them, mixed (see
                :func:`~mmps.apis.frame_sources.list_frame_sources`), or a
                dataset config (its images, in the dataset's order).
            index (GalleryIndex, optional): An index to extend: images and
                video frames it holds are not read again (a video whose
                sampled frames it holds is not even decoded), the new ones
                are appended.
            progress (bool): Show a progress bar of the frames (done,
                frames per second, ETA). Defaults to True.
            fps (float, optional): Video frames to index per second (by
                the container's frame rate).
            stride (int, optional): Index every ``stride``-th video frame
                instead. Exactly one of ``fps`` and ``stride`` is needed
                when there are videos.
            cameras (Mapping[str, str], optional): Camera names by file,
                folder or glob pattern (see
                :func:`~mmps.apis.cameras.assign_cameras`).
            camera_from (str | None): The camera of a file that no entry of
                ``cameras`` names: ``'folder'``, ``'filename'`` or None.
                Defaults to ``'folder'``.
            shard (tuple[int, int], optional): ``(rank, world_size)``: index
                only this process's share of the sources (see
                :meth:`FrameSources.shard`); the shares' indexes, appended
                in rank order, equal the index of all sources.
            new_only (bool): Return only what was read now: ``index`` says
                what not to read, e.g. for one process's share of an
                update. Defaults to False (``index`` and the new images).

        Returns:
            GalleryIndex: Detections (every score; filter at search time)
            with their embeddings, and per image (a still or a video frame)
            its source, frame number, timestamp and camera, in the order of
            the sources, frames in order. Files that could not be (fully)
            read are listed in ``skipped`` (a truncated video from the frame
            where decoding stops; its earlier frames are indexed) and a
            warning names them.
        """
        if isinstance(gallery, dict):
            gallery = dataset_image_paths(gallery)
            camera_from = camera_from if cameras else None
        skip = set()
        if index is not None:
            self.check_index(index)
            skip = {
                frame_key(osp.normpath(source), frame)
                for source, frame in map(split_frame_key, index.image_paths)
            }
        frames = FrameSources(
            gallery,
            fps=fps,
            stride=stride,
            cameras=cameras,
            camera_from=camera_from,
            skip=skip)
        if shard is not None:
            frames = frames.shard(*shard)
        total = sum(frames.count_frames().values())
        if skip:
            print_log(
                f'{len(skip)} images or frames are in the index already; '
                f'{total} new to read',
                logger='current')
        results, failed = self._run_frames(frames, total if progress else None)
        if failed:
            listing = '\n'.join(f'  {name}: {error}'
                                for name, error in failed.items())
            print_log(
                f'{len(failed)} gallery files could not be (fully) read; '
                f'what could not be read is not indexed:\n{listing}',
                logger='current',
                level=30)
        new = self._index_from_results(results, failed)
        return new if index is None or new_only else index.append(new)

    def _run_frames(self, frames: FrameSources,
                    progress: Optional[int]) -> Tuple[list, Dict[str, str]]:
        """Detect and embed the frames of ``frames``, with a progress bar
        towards ``progress`` frames unless it is None.

        Returns:
            tuple[list, dict]: Per indexed image, in source then frame
            order, ``(Frame, shape, bboxes, scores, embeddings)`` with numpy
            arrays; and the files that could not be (fully) read.
        """
        loader = DataLoader(
            _FrameInputs(frames, self.pipeline, self.array_pipeline),
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            collate_fn=_collate)
        bar = None if progress is None else ProgressBar(progress)
        results, failed = [], {}
        with torch.no_grad():
            for batch in loader:
                failed.update(batch.pop('failed'))
                infos = batch.pop('frames')
                if not infos:
                    continue
                for info, result in zip(infos, self.model.test_step(batch)):
                    pred = result.pred_instances
                    results.append(
                        (info, result.ori_shape[:2], pred.bboxes.cpu().numpy(),
                         pred.scores.cpu().numpy(),
                         pred.embeddings.cpu().numpy()))
                if bar is not None:
                    bar.update(len(infos))
        if bar is not None:
            bar.file.write('\n')
        # loader workers interleave their sources: back to the given order
        position = {source: i for i, source in enumerate(frames.sources)}
        results.sort(key=lambda r: (position[r[0].source], r[0].frame))
        return results, failed

    def _index_from_results(self, results: list,
                            failed: Dict[str, str]) -> GalleryIndex:
        """A :class:`GalleryIndex` of the results of :meth:`_run_frames`."""
        if not results:
            empty = GalleryIndex.empty(self.embedding_dim, self.fingerprint)
            empty.skipped.update(failed)
            return empty
        infos, shapes, bboxes, scores, embeddings = zip(*results)
        return GalleryIndex(
            image_paths=[info.key for info in infos],
            image_shapes=shapes,
            bboxes=np.concatenate(bboxes),
            scores=np.concatenate(scores),
            embeddings=np.concatenate(embeddings),
            image_index=np.repeat(
                np.arange(len(results)), [len(box) for box in bboxes]),
            fingerprint=self.fingerprint,
            skipped=failed,
            sources=[info.source for info in infos],
            frames=np.array([info.frame for info in infos]),
            timestamps=np.array([info.timestamp for info in infos]),
            cameras=[info.camera or '' for info in infos])

    def check_index(self, index: GalleryIndex) -> None:
        """Raise a ValueError if ``index`` was built by another model."""
        if index.embedding_dim != self.embedding_dim:
            raise ValueError(
                f'the index holds {index.embedding_dim}-d embeddings; this '
                f'model makes {self.embedding_dim}-d ones')
        if index.fingerprint != self.fingerprint:
            raise ValueError(
                'the index was built by another model (fingerprint '
                f'{index.fingerprint[:12]}; this model: '
                f'{self.fingerprint[:12]}); rebuild it with this model')

    def embed_queries(self, images: Sequence[ImageLike],
                      boxes: np.ndarray) -> np.ndarray:
        """Embed query boxes, one per image.

        Args:
            images (Sequence[str | np.ndarray]): Query images: paths or
                BGR uint8 arrays (H, W, 3).
            boxes (np.ndarray): Query boxes ``x1, y1, x2, y2`` in the
                images' pixels, (Q, 4).

        Returns:
            np.ndarray: Unit-norm embeddings, (Q, D) float32.

        Raises:
            ValueError: If a box is not finite, empty or leaves its image,
                or the numbers of images and boxes differ.
            OSError: If an image cannot be read.
        """
        boxes = np.asarray(boxes, dtype=np.float32)
        if boxes.ndim == 1 and boxes.size in (0, 4):
            boxes = boxes.reshape(-1, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError('query boxes must be x1, y1, x2, y2 of shape '
                             f'(Q, 4), got shape {boxes.shape}')
        if len(boxes) != len(images):
            raise ValueError(f'{len(images)} query images but {len(boxes)} '
                             'query boxes')
        if len(boxes) == 0:
            return np.zeros((0, self.embedding_dim), np.float32)
        names = [
            image if isinstance(image, str) else f'query array {i}'
            for i, image in enumerate(images)
        ]
        check_boxes(
            boxes, 'query boxes', name_of=lambda i: f'box {i} of {names[i]}')
        results, failed = self._run_queries(list(images), boxes)
        if failed:
            name, error = next(iter(failed.items()))
            raise OSError(f'cannot read the query image {name}: {error}')
        shapes = np.array([result.ori_shape[:2] for result in results])
        outside = np.flatnonzero((boxes[:, 0] < 0) | (boxes[:, 1] < 0)
                                 | (boxes[:, 2] > shapes[:, 1])
                                 | (boxes[:, 3] > shapes[:, 0]))
        if len(outside):
            q = outside[0]
            raise ValueError(f'query box {boxes[q].tolist()} leaves its image '
                             f'{names[q]} of width {shapes[q, 1]} and height '
                             f'{shapes[q, 0]}')
        return torch.cat([
            result.pred_instances.embeddings for result in results
        ]).cpu().numpy()

    def search(
        self,
        query_image: Union[ImageLike, Sequence[ImageLike]],
        query_box: Union[Sequence[float], np.ndarray],
        index: GalleryIndex,
        top_k: int = 10,
        score_thr: float = 0.5,
        min_similarity: Optional[float] = None,
        backend: Union[str, SearchBackend] = 'exact'
    ) -> Union[List[SearchMatch], List[List[SearchMatch]]]:
        """Find query persons in an indexed gallery.

        Args:
            query_image (str | np.ndarray | Sequence): One query image, or
                a list of them (one per box).
            query_box (Sequence[float] | np.ndarray): Its box ``x1, y1, x2,
                y2`` (4, ), or one box per image (Q, 4).
            index (GalleryIndex): The gallery, from :meth:`build_index` or
                :meth:`GalleryIndex.load`.
            top_k (int): Matches kept per query. Defaults to 10.
            score_thr (float): Minimum detection score of a match.
                Defaults to 0.5.
            min_similarity (float, optional): Minimum similarity of a match
                (times its score with CWS): fewer than ``top_k`` matches,
                possibly none, are returned. Defaults to None (no minimum).
            backend (str | SearchBackend): How the index is searched, see
                :meth:`GalleryIndex.search`. Defaults to ``'exact'``.

        Returns:
            list[SearchMatch] | list[list[SearchMatch]]: The matches by
            decreasing similarity; a list per query when several were given.
        """
        self.check_index(index)
        single = isinstance(query_image, (str, Path, np.ndarray))
        images = [query_image] if single else list(query_image)
        images = [str(im) if isinstance(im, Path) else im for im in images]
        embeddings = self.embed_queries(images, query_box)
        matches = index.search(
            embeddings,
            top_k=top_k,
            score_thr=score_thr,
            cws=self.cws,
            min_similarity=min_similarity,
            backend=backend)
        return matches[0] if single else matches

    def search_appearances(
        self,
        query_image: Union[ImageLike, Sequence[ImageLike]],
        query_box: Union[Sequence[float], np.ndarray],
        index: GalleryIndex,
        min_similarity: float,
        score_thr: float = 0.5,
        max_gap: Optional[float] = None,
        max_matches: int = 10000,
        backend: Union[str, SearchBackend] = 'exact'
    ) -> Union[List[Appearance], List[List[Appearance]]]:
        """When and where query persons appear: matches grouped in time.

        Every match at least ``min_similarity`` similar is grouped with the
        matches of the frames around it in the same video (see
        :func:`~mmps.apis.appearances.group_appearances`): an appearance
        has a camera, a start and end time, and its best frame, box and
        similarity. Summarise them per camera with
        :func:`~mmps.apis.appearances.camera_timelines`.

        Args:
            query_image (str | np.ndarray | Sequence): One query image, or
                a list of them (one per box).
            query_box (Sequence[float] | np.ndarray): Its box (4, ), or one
                per image (Q, 4).
            index (GalleryIndex): The indexed footage.
            min_similarity (float): What a match must reach (similarity,
                times score with CWS): pick it for the precision you need
                with ``tools/analysis_tools/calibrate_threshold.py``. A
                query whose person is not in the footage gets no
                appearance when no stranger reaches it.
            score_thr (float): Minimum detection score. Defaults to 0.5.
            max_gap (float, optional): Largest time in seconds between two
                matched frames of one appearance. Defaults to twice each
                video's sampling step as indexed (one sampled frame without
                a match does not split an appearance, two do).
            max_matches (int): Most matches grouped per query (the best
                ones); a warning says when a query reaches it. Defaults to
                10000.
            backend (str | SearchBackend): See :meth:`GalleryIndex.search`.

        Returns:
            list[Appearance] | list[list[Appearance]]: By decreasing best
            similarity; a list per query when several were given.
        """
        if not math.isfinite(min_similarity):
            raise ValueError('min_similarity must be a finite number, got '
                             f'{min_similarity}')
        matches = self.search(
            query_image,
            query_box,
            index,
            top_k=max_matches,
            score_thr=score_thr,
            min_similarity=min_similarity,
            backend=backend)
        single = isinstance(query_image, (str, Path, np.ndarray))
        per_query = [matches] if single else matches
        steps = None if max_gap is not None else sampling_steps(
            index.sources, index.timestamps)
        appearances = []
        for number, query_matches in enumerate(per_query):
            if len(query_matches) == max_matches:
                print_log(
                    f'query {number} has {max_matches} matches at '
                    f'min_similarity {min_similarity}: later appearances may '
                    'be missing or cut; raise max_matches or min_similarity',
                    logger='current',
                    level=30)
            appearances.append(group_matches(query_matches, steps, max_gap))
        return appearances[0] if single else appearances
