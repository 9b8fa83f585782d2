# Copyright (c) mmps contributors. All rights reserved.
import copy
import hashlib
import os
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, Dataset

from mmps.datasets import dataset_part_configs
from mmps.datasets.utils import check_boxes
from mmps.registry import DATASETS, MODELS
from .gallery_index import GalleryIndex, SearchMatch
from .search_backends import SearchBackend

ImageLike = Union[str, np.ndarray]
#: File name endings read as images when a gallery is a folder.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def model_fingerprint(model: torch.nn.Module) -> str:
    """A SHA-1 of the names, shapes and values of a model's state.

    Two models give the same fingerprint exactly when their weights and
    buffers are equal, so an index is only searched with the model that
    embedded it.
    """
    hasher = hashlib.sha1()
    for name, value in sorted(model.state_dict().items()):
        array = value.detach().cpu().contiguous().reshape(-1)
        hasher.update(f'{name}:{tuple(value.shape)}:{value.dtype};'.encode())
        hasher.update(array.view(torch.uint8).numpy().tobytes())
    return hasher.hexdigest()


def list_gallery_images(gallery: Union[str, Sequence[str], dict]) -> List[str]:
    """The image paths of a gallery given as a folder, a list or a dataset.

    Args:
        gallery (str | Sequence[str] | dict): A folder (its images, sorted,
            sub-folders included), a list of image paths, or a dataset
            config (its images, in the dataset's order).

    Returns:
        list[str]: The image paths.
    """
    if isinstance(gallery, (str, Path)):
        if not osp.isdir(gallery):
            raise FileNotFoundError(f'gallery folder {gallery} does not exist')
        paths = sorted(
            osp.join(root, name) for root, _, names in os.walk(gallery)
            for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
        if not paths:
            raise ValueError(f'no images ({", ".join(IMAGE_EXTENSIONS)}) '
                             f'in the gallery folder {gallery}')
        return paths
    if isinstance(gallery, dict):
        dataset = DATASETS.build(copy.deepcopy(gallery))
        return [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
    return [str(path) for path in gallery]


class _SearchInputs(Dataset):
    """Images (and query boxes) through the test pipeline, for a loader.

    An image that fails to load gives ``dict(failed=path, error=message)``
    instead of a sample, so the rest of the gallery is still indexed.
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
        try:
            return pipeline(data)
        except Exception as error:  # noqa: B902 any reader error is reported
            name = image if isinstance(image, str) else f'array {i}'
            return dict(failed=name, error=f'{type(error).__name__}: {error}')


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
        failed=failed)


class PersonSearcher:
    """Search persons with a trained mmps model, like mmdet's inferencers.

    Build an index of a gallery once (detect and embed every person), then
    search it with query boxes::

        searcher = PersonSearcher(
            'configs/oim/oim_r18-w32-c4_1xb4-16e_synthetic.py',
            'epoch_16.pth')
        index = searcher.build_index('footage/')
        index.save('footage_index')
        matches = searcher.search('query.jpg', [x1, y1, x2, y2], index)

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

    def _run(self,
             images: Sequence[ImageLike],
             boxes: Optional[np.ndarray] = None,
             progress: bool = False) -> Tuple[list, Dict[str, str]]:
        """Forward images in batches; the results and the failed images."""
        dataset = _SearchInputs(images, self.pipeline, self.array_pipeline,
                                boxes)
        loader = DataLoader(
            dataset,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            collate_fn=_collate)
        bar = ProgressBar(len(dataset)) if progress else None
        results, failed = [], {}
        with torch.no_grad():
            for batch in loader:
                batch_failed = batch.pop('failed')
                failed.update(batch_failed)
                if batch['inputs']:
                    results.extend(self.model.test_step(batch))
                if bar is not None:
                    bar.update(len(batch['inputs']) + len(batch_failed))
        return results, failed

    def build_index(self,
                    gallery: Union[str, Sequence[str], dict],
                    index: Optional[GalleryIndex] = None,
                    progress: bool = True) -> GalleryIndex:
        """Detect and embed the persons of a gallery.

        Args:
            gallery (str | Sequence[str] | dict): A folder of images, a list
                of image paths, or a dataset config.
            index (GalleryIndex, optional): An index to extend: its images
                are not embedded again, the new ones are appended.
            progress (bool): Show a progress bar. Defaults to True.

        Returns:
            GalleryIndex: Detections (every score; filter at search time)
            with their embeddings. Images that could not be read are
            listed in ``skipped`` and a warning names them.
        """
        paths = list_gallery_images(gallery)
        if index is not None:
            self.check_index(index)
            known = set(index.image_paths)
            new_paths = [path for path in paths if path not in known]
            print_log(
                f'{len(paths) - len(new_paths)} of {len(paths)} gallery '
                'images are in the index already; embedding the other '
                f'{len(new_paths)}',
                logger='current')
            paths = new_paths
        results, failed = self._run(paths, progress=progress)
        if failed:
            listing = '\n'.join(f'  {name}: {error}'
                                for name, error in failed.items())
            print_log(
                f'{len(failed)} gallery images could not be read and are '
                f'not indexed:\n{listing}',
                logger='current',
                level=30)
        new = self._index_from_results(results, failed)
        return new if index is None else index.append(new)

    def _index_from_results(self, results: list,
                            failed: Dict[str, str]) -> GalleryIndex:
        """Flatten per-image predictions into a :class:`GalleryIndex`."""
        if not results:
            empty = GalleryIndex.empty(self.embedding_dim, self.fingerprint)
            empty.skipped.update(failed)
            return empty
        preds = [result.pred_instances for result in results]
        counts = [len(pred) for pred in preds]
        return GalleryIndex(
            image_paths=[result.img_path for result in results],
            image_shapes=[result.ori_shape[:2] for result in results],
            bboxes=torch.cat([pred.bboxes for pred in preds]).cpu().numpy(),
            scores=torch.cat([pred.scores for pred in preds]).cpu().numpy(),
            embeddings=torch.cat([pred.embeddings
                                  for pred in preds]).cpu().numpy(),
            image_index=np.repeat(np.arange(len(results)), counts),
            fingerprint=self.fingerprint,
            skipped=failed)

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
        results, failed = self._run(list(images), boxes=boxes)
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
