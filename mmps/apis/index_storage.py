# Copyright (c) mmps contributors. All rights reserved.
"""The folder layout of a saved :class:`~mmps.apis.GalleryIndex`.

Version 2 (written): one ``.npy`` file per array and ``index.json``, so the
big arrays open memory-mapped. Version 1 (read only): ``arrays.npz`` and
``index.json``. See ``docs/gallery_index_format.md``.
"""
import hashlib
import json
import os
import os.path as osp
import zipfile
from typing import BinaryIO, Dict, Tuple

import numpy as np

from mmps.utils.atomic_write import atomic_path, atomic_write

#: Version of the layout written by :func:`write_index`.
INDEX_FORMAT_VERSION = 2
META_FILE = 'index.json'
#: The single array file of version 1.
V1_ARRAYS_FILE = 'arrays.npz'
#: Version 2 arrays (``{name}.npy``): dtype, shape after the first axis
#: (``None`` stands for the embedding length) and what the first axis counts.
ARRAYS = dict(
    bboxes=(np.float32, (4, ), 'num_boxes'),
    scores=(np.float32, (), 'num_boxes'),
    embeddings=(np.float32, (None, ), 'num_boxes'),
    image_index=(np.int64, (), 'num_boxes'),
    image_shapes=(np.int64, (2, ), 'num_images'),
    frames=(np.int64, (), 'num_images'),
    timestamps=(np.float64, (), 'num_images'))
#: Version 1 arrays: dtype kinds and number of dims.
V1_ARRAY_KINDS = dict(
    bboxes=('f', 2),
    scores=('f', 1),
    embeddings=('f', 2),
    image_index=('iu', 1),
    image_shapes=('iu', 2))
#: The fields of ``index.json`` common to both versions, with JSON types.
META_FIELDS = dict(
    format_version=int,
    fingerprint=str,
    embedding_dim=int,
    num_boxes=int,
    image_paths=list,
    skipped=dict)
#: The fields version 2 adds.
V2_META_FIELDS = dict(num_images=int, sources=list, cameras=list, files=dict)
#: Bytes hashed at each end of a file for the check that never reads all.
END_BYTES = 1 << 20


class _HashingWriter:
    """A write-only file that hashes what goes through it.

    ``np.lib.format.write_array`` writes such an object in blocks of 16 MiB,
    so a memory-mapped array is saved without being read whole.
    """

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.hasher = hashlib.sha256()

    def write(self, data) -> int:
        self.hasher.update(data)
        return self.file.write(data)


def sha256_of(file: str) -> str:
    """The SHA-256 of a file, read in blocks."""
    hasher = hashlib.sha256()
    with open(file, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            hasher.update(block)
    return hasher.hexdigest()


def ends_sha256(file: str) -> str:
    """The SHA-256 of the first and last :data:`END_BYTES` of a file."""
    hasher = hashlib.sha256()
    size = osp.getsize(file)
    with open(file, 'rb') as f:
        hasher.update(f.read(END_BYTES))
        if size > END_BYTES:
            f.seek(max(END_BYTES, size - END_BYTES))
            hasher.update(f.read())
    return hasher.hexdigest()


def write_index(path: str, arrays: Dict[str, np.ndarray],
                meta: dict) -> Dict[str, dict]:
    """Write a version 2 index folder, atomically file by file.

    Each ``.npy`` file goes to a temporary file that is renamed over the old
    one; then ``index.json``, which records each file's size and SHA-256,
    so an ``index.json`` never pairs with arrays it was not saved with. A
    version 1 ``arrays.npz`` left in the folder is removed at the end.

    Args:
        path (str): The index folder (created if missing).
        arrays (dict[str, np.ndarray]): Every array of :data:`ARRAYS`.
        meta (dict): The other fields of ``index.json``.

    Returns:
        dict[str, dict]: The ``files`` record of ``index.json``: per array,
        its file's ``bytes``, ``sha256`` and ``ends_sha256``.
    """
    files = {}
    for name, (dtype, _, _) in ARRAYS.items():
        file = osp.join(path, f'{name}.npy')
        with atomic_path(file) as tmp:
            with open(tmp, 'xb') as handle:
                writer = _HashingWriter(handle)
                np.lib.format.write_array(
                    writer,
                    np.asarray(arrays[name], dtype=dtype),
                    allow_pickle=False)
            files[name] = dict(
                bytes=osp.getsize(tmp),
                sha256=writer.hasher.hexdigest(),
                ends_sha256=ends_sha256(tmp))
    meta = dict(meta, format_version=INDEX_FORMAT_VERSION, files=files)
    with atomic_write(osp.join(path, META_FILE)) as file:
        file.write(json.dumps(meta, indent=1).encode('utf-8'))
    old = osp.join(path, V1_ARRAYS_FILE)
    if osp.isfile(old):
        os.remove(old)
    return files


def read_index(path: str, mmap: bool,
               verify: bool) -> Tuple[dict, Dict[str, np.ndarray]]:
    """The checked ``index.json`` and arrays of an index folder.

    Args:
        path (str): The folder.
        mmap (bool): Open the version 2 arrays memory-mapped, read-only.
        verify (bool): Compare the SHA-256 of each whole file with
            ``index.json`` (reads every byte). Sizes, headers and the
            SHA-256 of the ends of each file are always compared.

    Returns:
        tuple[dict, dict[str, np.ndarray]]: ``index.json`` and the arrays
        (for version 1, without ``frames`` and ``timestamps``).

    Raises:
        FileNotFoundError: If a file of the index is missing.
        ValueError: Naming the file and field, if the folder is not a valid
            index of a readable version.
    """
    meta_file = osp.join(path, META_FILE)
    if not osp.isfile(meta_file):
        raise FileNotFoundError(
            f'{meta_file} not found: a gallery index is a folder with '
            f'{META_FILE} and its arrays (GalleryIndex.save)')
    meta = _read_meta(meta_file)
    if meta['format_version'] == 1:
        return meta, _read_v1_arrays(path, meta)
    return meta, {
        name: _read_npy(path, name, meta, mmap, verify)
        for name in ARRAYS
    }


def _check_fields(file: str, meta: dict, fields: dict) -> None:
    """Raise a ValueError if a field is missing or of the wrong JSON type."""
    for key, kind in fields.items():
        if key not in meta:
            raise ValueError(f'{file} has no {key!r}')
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            raise ValueError(f'{file}: {key!r} must be a JSON '
                             f'{kind.__name__}, got {meta[key]!r:.80}')


def _read_meta(file: str) -> dict:
    """The checked content of an ``index.json`` of version 1 or 2."""
    try:
        with open(file, encoding='utf-8') as f:
            meta = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f'{file} is not valid JSON: {error}') from error
    if not isinstance(meta, dict):
        raise ValueError(f'{file} must hold a JSON object, got '
                         f'{type(meta).__name__}')
    version = meta.get('format_version')
    if version not in (1, 2) or isinstance(version, bool):
        raise ValueError(f'{file}: format_version {version!r}; this mmps '
                         f'reads versions 1 and {INDEX_FORMAT_VERSION}')
    _check_fields(file, meta, META_FIELDS)
    for key in ('image_paths', 'sources', 'cameras'):
        if key in meta and not all(isinstance(p, str) for p in meta[key]):
            raise ValueError(f'{file}: {key} must be strings')
    if not all(isinstance(v, str) for v in meta['skipped'].values()):
        raise ValueError(f'{file}: skipped must map paths to reasons '
                         '(strings)')
    if version == 1:
        if not isinstance(meta.get('arrays_sha256', ''), str):
            raise ValueError(f'{file}: arrays_sha256 must be a string')
        return meta
    _check_fields(file, meta, V2_META_FIELDS)
    for name in ARRAYS:
        record = meta['files'].get(name)
        if not isinstance(record, dict):
            raise ValueError(f'{file}: files has no record of {name}.npy')
        _check_fields(f'{file}: files.{name}', record,
                      dict(bytes=int, sha256=str, ends_sha256=str))
    return meta


def _read_npy(path: str, name: str, meta: dict, mmap: bool,
              verify: bool) -> np.ndarray:
    """One checked array of a version 2 index (never unpickled)."""
    file = osp.join(path, f'{name}.npy')
    meta_file = osp.join(path, META_FILE)
    if not osp.isfile(file):
        raise FileNotFoundError(f'{file} not found; {meta_file} lists it')
    record = meta['files'][name]
    digests = [('ends_sha256', ends_sha256)]
    if verify:
        digests.append(('sha256', sha256_of))
    if osp.getsize(file) != record['bytes'] or any(
            digest(file) != record[key] for key, digest in digests):
        raise ValueError(
            f'{file} is not the file {meta_file} was saved with (its '
            f'{"size" if osp.getsize(file) != record["bytes"] else "SHA-256"}'
            ' differs): it was changed, or a save was interrupted; rebuild '
            'the index')
    try:
        array = np.load(
            file, mmap_mode='r' if mmap else None, allow_pickle=False)
    except (OSError, EOFError, ValueError) as error:
        # ValueError: an object array, which would need unpickling
        raise ValueError(f'{file} is not a readable .npy file of a numeric '
                         f'array: {error}') from error
    dtype, tail, count = ARRAYS[name]
    shape = (meta[count], ) + tuple(
        meta['embedding_dim'] if size is None else size for size in tail)
    if array.dtype != dtype or array.shape != shape:
        raise ValueError(f'{file}: {name} must be {np.dtype(dtype)} of shape '
                         f'{shape} ({count} {meta[count]} in {meta_file}), '
                         f'got {array.dtype} of shape {array.shape}')
    return array


def _read_v1_arrays(path: str, meta: dict) -> Dict[str, np.ndarray]:
    """The checked arrays of a version 1 ``arrays.npz``, read whole."""
    file = osp.join(path, V1_ARRAYS_FILE)
    if not osp.isfile(file):
        raise FileNotFoundError(
            f'{file} not found: a version 1 gallery index is a folder with '
            f'{V1_ARRAYS_FILE} and {META_FILE}')
    digest = meta.get('arrays_sha256')
    if digest is not None and digest != sha256_of(file):
        raise ValueError(
            f'{file} is not the file {osp.join(path, META_FILE)} was saved '
            'with (its SHA-256 differs): it was changed, or a save was '
            'interrupted; rebuild the index')
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {
                name: npz[name]
                for name in V1_ARRAY_KINDS if name in npz.files
            }
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        # ValueError: an object array, which would need unpickling
        raise ValueError(f'{file} is not a readable npz file of numeric '
                         f'arrays: {error}') from error
    missing = set(V1_ARRAY_KINDS) - set(arrays)
    if missing:
        raise ValueError(f'{file} lacks {sorted(missing)}')
    for name, (kinds, ndim) in V1_ARRAY_KINDS.items():
        array = arrays[name]
        if array.dtype.kind not in kinds or array.ndim != ndim:
            raise ValueError(
                f'{file}: {name} must be a {ndim}-d array of '
                f'{"floats" if kinds == "f" else "integers"}, got '
                f'{array.ndim}-d {array.dtype}')
    for name, columns in (('bboxes', 4), ('image_shapes', 2)):
        if arrays[name].shape[1] != columns:
            raise ValueError(f'{file}: {name} must have {columns} columns, '
                             f'got shape {arrays[name].shape}')
    return arrays
