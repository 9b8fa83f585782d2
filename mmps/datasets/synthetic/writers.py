# Copyright (c) mmps contributors. All rights reserved.
"""Write a generated dataset in CUHK-SYSU's, PRW's or mmps' own format."""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import cv2
import numpy as np
from scipy.io import savemat

from .generator import SceneAnnotation, SyntheticDataset


def _struct_array(records: List[Dict], fields: Sequence[str]) -> np.ndarray:
    """A 1 x N MATLAB struct array from dicts with the given fields."""
    array = np.zeros((1, len(records)), dtype=[(f, 'O') for f in fields])
    for i, record in enumerate(records):
        for f in fields:
            array[0, i][f] = record[f]
    return array


def _cell(values: List) -> np.ndarray:
    """An N x 1 MATLAB cell array."""
    cell = np.empty((len(values), 1), dtype=object)
    for i, value in enumerate(values):
        cell[i, 0] = value
    return cell


def _xywh(box: np.ndarray) -> np.ndarray:
    """A 1 x 4 ``x, y, w, h`` row from an ``x1, y1, x2, y2`` box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([[x1, y1, x2 - x1, y2 - y1]])


def _write_images(scenes: List[SceneAnnotation], folder: str,
                  names: List[str]) -> None:
    """Write the scenes' pixels as JPEG files."""
    os.makedirs(folder, exist_ok=True)
    for scene, name in zip(scenes, names):
        if not cv2.imwrite(osp.join(folder, name), scene.image):
            raise OSError(f'cannot write {osp.join(folder, name)}')


def write_cuhk_sysu(dataset: SyntheticDataset,
                    root: str,
                    gallery_sizes: Sequence[int] = (50, )) -> None:
    """Write ``dataset`` under ``root`` in CUHK-SYSU's layout.

    Images are ``Image/SSM/s{n}.jpg``; the training scenes come first. The
    protocol files ``TestG{N}.mat`` are written for each size of
    ``gallery_sizes``.

    Args:
        dataset (SyntheticDataset): The generated scenes.
        root (str): The folder to write.
        gallery_sizes (Sequence[int]): Gallery sizes of the protocol files.
    """
    scenes = dataset.train + dataset.test
    names = [f's{i + 1}.jpg' for i in range(len(scenes))]
    _write_images(scenes, osp.join(root, 'Image', 'SSM'), names)
    annotation = osp.join(root, 'annotation')
    protocol_dir = osp.join(annotation, 'test', 'train_test')
    os.makedirs(protocol_dir, exist_ok=True)

    images = []
    for scene, name in zip(scenes, names):
        boxes = [
            dict(idlocate=_xywh(box), ishard=np.array([[0]]))
            for box in scene.boxes
        ]
        images.append(
            dict(
                imname=name,
                nAppear=np.array([[len(boxes)]]),
                box=_struct_array(boxes, ('idlocate', 'ishard'))))
    savemat(
        osp.join(annotation, 'Images.mat'),
        {'Img': _struct_array(images, ('imname', 'nAppear', 'box'))})
    gallery_names = names[len(dataset.train):]
    savemat(osp.join(annotation, 'pool.mat'), {'pool': _cell(gallery_names)})

    # every appearance of every identity, in one pass over the boxes
    appearances: Dict[int, List[tuple]] = {}
    for i, scene in enumerate(scenes):
        for box, identity in zip(scene.boxes, scene.identities):
            if identity >= 0:
                appearances.setdefault(int(identity), []).append((i, box))
    train = []
    for identity in range(dataset.config.num_train_ids):
        scenes_of_id = [
            dict(imname=names[i], idlocate=_xywh(box), ishard=np.array([[0]]))
            for i, box in appearances.get(identity, [])
        ]
        train.append(
            _struct_array([
                dict(
                    idname=f'p{identity + 1}',
                    nAppear=np.array([[len(scenes_of_id)]]),
                    scene=_struct_array(scenes_of_id,
                                        ('imname', 'idlocate', 'ishard')))
            ], ('idname', 'nAppear', 'scene')))
    savemat(osp.join(protocol_dir, 'Train.mat'), {'Train': _cell(train)})

    rng = np.random.default_rng(dataset.config.seed + 1)
    offset = len(dataset.train)
    for size in gallery_sizes:
        if size > len(dataset.test) - 1:
            raise ValueError(
                f'a gallery of {size} images needs {size + 1} test images '
                f'(the query image is not in its gallery), but the dataset '
                f'has {len(dataset.test)}: raise num_distractor_images')
        entries = []
        for identity, scene_index, box_index in dataset.queries:
            query_scene = dataset.test[scene_index]
            # test scenes holding the person, with its box there
            located = {
                i - offset: box
                for i, box in appearances.get(int(identity), [])
            }
            positives = [i for i in located if i != scene_index]
            negatives = np.setdiff1d(
                np.arange(len(dataset.test)), list(located))
            chosen = positives + list(
                rng.choice(negatives, size - len(positives), replace=False))
            gallery = [
                dict(
                    imname=gallery_names[i],
                    # an empty 1x0 box where the person is absent, as in
                    # the real files (the reference evaluations read
                    # ``idlocate[0]``)
                    idlocate=_xywh(located[i]) if i in located else np.zeros(
                        (1, 0)),
                    ishard=np.array([[0]])) for i in chosen
            ]
            query = dict(
                imname=gallery_names[scene_index],
                idlocate=_xywh(query_scene.boxes[box_index]),
                ishard=np.array([[0]]),
                idname=f'p{identity + 1}')
            entries.append(
                dict(
                    Query=_struct_array(
                        [query], ('imname', 'idlocate', 'ishard', 'idname')),
                    Gallery=_struct_array(gallery,
                                          ('imname', 'idlocate', 'ishard'))))
        savemat(
            osp.join(protocol_dir, f'TestG{size}.mat'),
            {f'TestG{size}': _struct_array(entries, ('Query', 'Gallery'))})


def write_prw(dataset: SyntheticDataset, root: str) -> None:
    """Write ``dataset`` under ``root`` in PRW's layout.

    Frames are ``frames/c{camera}s1_{n:06d}.jpg``; identity ``i`` is written
    as PRW id ``i + 1`` and passers-by as -2.

    Args:
        dataset (SyntheticDataset): The generated scenes.
        root (str): The folder to write.
    """
    frames = {}
    for split, scenes in (('train', dataset.train), ('test', dataset.test)):
        offset = 0 if split == 'train' else len(dataset.train)
        frames[split] = [
            f'c{scene.camera}s1_{offset + i:06d}'
            for i, scene in enumerate(scenes)
        ]
        _write_images(scenes, osp.join(root, 'frames'),
                      [f'{f}.jpg' for f in frames[split]])
        savemat(
            osp.join(root, f'frame_{split}.mat'),
            {f'img_index_{split}': _cell(frames[split])})
        os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
        for frame, scene in zip(frames[split], scenes):
            rows = np.concatenate([
                np.where(scene.identities < 0, -2, scene.identities + 1)[:,
                                                                         None],
                np.concatenate([_xywh(b) for b in scene.boxes])
                if len(scene.boxes) else np.zeros((0, 4))
            ],
                                  axis=1)
            savemat(
                osp.join(root, 'annotations', f'{frame}.jpg.mat'),
                {'box_new': rows})
    lines = []
    for identity, scene_index, box_index in dataset.queries:
        x, y, w, h = _xywh(dataset.test[scene_index].boxes[box_index])[0]
        lines.append(f'{identity + 1} {x:.4f} {y:.4f} {w:.4f} {h:.4f} '
                     f'{frames["test"][scene_index]}')
    with open(osp.join(root, 'query_info.txt'), 'w', newline='') as f:
        f.write('\r\n'.join(lines) + '\r\n')
    train_ids = np.arange(1, dataset.config.num_train_ids + 1)
    test_ids = np.array([identity + 1 for identity, _, _ in dataset.queries])
    savemat(osp.join(root, 'ID_train.mat'), {'ID_train': train_ids[None]})
    savemat(osp.join(root, 'ID_test.mat'), {'ID_test2': test_ids[None]})


def write_coco(dataset: SyntheticDataset, root: str) -> None:
    """Write ``dataset`` under ``root`` in mmps' COCO-style custom format.

    Images are ``images/s{n}.jpg`` (training scenes first);
    ``annotations/train.json`` holds the training scenes and
    ``annotations/test.json`` the test scenes and the queries. Identity
    ``i`` is ``person_id`` ``i + 1`` (as in the other formats), passers-by
    -1 (see
    ``docs/custom_dataset.md``).

    Args:
        dataset (SyntheticDataset): The generated scenes.
        root (str): The folder to write.
    """
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    offset = 0
    for split, scenes in (('train', dataset.train), ('test', dataset.test)):
        names = [f's{offset + i + 1}.jpg' for i in range(len(scenes))]
        _write_images(scenes, osp.join(root, 'images'), names)
        annotations = []
        for i, scene in enumerate(scenes):
            for box, identity in zip(scene.boxes, scene.identities):
                annotations.append(
                    dict(
                        id=len(annotations) + 1,
                        image_id=offset + i + 1,
                        bbox=_xywh(box)[0].tolist(),
                        person_id=int(identity) + 1 if identity >= 0 else -1))
        content = dict(
            images=[
                dict(
                    id=offset + i + 1,
                    file_name=name,
                    width=int(scene.image.shape[1]),
                    height=int(scene.image.shape[0]),
                    cam_id=int(scene.camera))
                for i, (scene, name) in enumerate(zip(scenes, names))
            ],
            annotations=annotations)
        if split == 'test':
            content['queries'] = [
                dict(
                    image_id=offset + scene_index + 1,
                    bbox=_xywh(dataset.test[scene_index].boxes[box_index])
                    [0].tolist(),
                    person_id=int(identity) + 1)
                for identity, scene_index, box_index in dataset.queries
            ]
        with open(osp.join(root, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(content, f)
        offset += len(scenes)
