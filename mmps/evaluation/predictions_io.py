# Copyright (c) mmps contributors. All rights reserved.
"""The predictions file: per-image and per-query records in one ``.npz``.

Written by ``tools/test.py --out`` (:class:`DumpSearchResults`), read by
``tools/analysis_tools/eval_search.py``; the layout is documented in
``docs/predictions_format.md``. An ``.npz`` read with
``allow_pickle=False`` holds only numbers and strings, never code, so a
file from anyone can be scored safely.

Each record is a dict of *scalar fields* (``str``, ``bool``, ``int`` or
``float``) and *array fields* (numeric arrays whose first dimension is the
record's own, e.g. its N detections). In the file, a scalar field is one
array with a value per record, ``data.{name}`` (R, ); an array field is the
records' arrays concatenated along their first dimension, ``data.{name}``
(sum of N, ...), with ``offsets.{name}`` (R + 1, ): record ``i`` holds rows
``offsets[i]:offsets[i + 1]``. A field that some records lack also has
``present.{name}`` (R, ) bool. The member ``meta`` is a JSON string naming
the format, its version and the fields. Any field can be added to the
records; only :data:`PREDICTION_FIELDS` are required.
"""
import json
import os.path as osp
import pickle
from typing import Callable, Dict, List, Sequence

import numpy as np

from mmps.utils import atomic_write

__all__ = [
    'PREDICTIONS_FORMAT', 'PREDICTIONS_FORMAT_VERSION', 'PREDICTION_FIELDS',
    'PREDICTION_KEYS', 'load_predictions', 'save_predictions'
]

#: The ``format`` named in a predictions file's ``meta``.
PREDICTIONS_FORMAT = 'mmps-predictions'
#: Version of the layout written by :func:`save_predictions`.
PREDICTIONS_FORMAT_VERSION = 1
#: The fields every record has, and their kinds.
PREDICTION_FIELDS = dict(
    img_path='str',
    is_query='bool',
    query_index='int',
    cam_id='int',
    bboxes='array',
    scores='array',
    embeddings='array')
#: Names of the required fields.
PREDICTION_KEYS = tuple(PREDICTION_FIELDS)

#: numpy dtype kinds of each kind of field, and what they are called.
_DTYPE_KINDS = dict(str='U', bool='b', int='iu', float='f', array='biuf')
_KIND_NAMES = dict(
    str='strings',
    bool='booleans',
    int='integers',
    float='floats',
    array='numbers (bool, int, float)')
#: numpy dtype of each kind of scalar field.
_SCALAR_DTYPES = dict(
    str=np.str_, bool=np.bool_, int=np.int64, float=np.float64)
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_MAGIC = b'\x80'


def save_predictions(path: str, records: Sequence[dict]) -> None:
    """Write prediction records to an ``.npz`` file, atomically.

    Args:
        path (str): The ``.npz`` file; written to a temporary file in the
            same folder, then renamed.
        records (Sequence[dict]): One dict per gallery image and query with
            at least the keys of :data:`PREDICTION_FIELDS`, e.g. from
            :func:`make_record` without the ground truth.

    Raises:
        ValueError: If ``path`` is not an ``.npz`` file or a record does not
            fit the format (a missing field, a field that is a string in one
            record and an array in another, arrays of different trailing
            shapes, non-numeric arrays).
    """
    if not path.endswith('.npz'):
        raise ValueError(f'predictions are written as .npz files '
                         f'(docs/predictions_format.md), got {path!r}')
    members = _encode(records, path)
    with atomic_write(path) as file:
        np.savez(file, allow_pickle=False, **members)


def load_predictions(path: str, allow_pickle: bool = False) -> List[dict]:
    """Read the prediction records of a file written by
    :func:`save_predictions`.

    Args:
        path (str): The ``.npz`` file.
        allow_pickle (bool): Also read a pickle of the list of records (the
            format of mmps before the ``.npz``). Loading a pickle runs any
            code the file holds: only for files one wrote oneself. Defaults
            to False: pickles are refused.

    Returns:
        list[dict]: The records, in the order they were written; scalar
        fields as Python ``str``, ``bool``, ``int``, ``float``, array fields
        as numpy arrays.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a predictions ``.npz`` (a pickle
            included, unless ``allow_pickle``), or is damaged: the error
            names the file and the field.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'predictions file {path} not found')
    with open(path, 'rb') as file:
        magic = file.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        is_pickle = magic.startswith(_PICKLE_MAGIC) or path.endswith(
            ('.pkl', '.pickle'))
        if not is_pickle:
            raise ValueError(f'{path} is not a predictions .npz file '
                             '(docs/predictions_format.md)')
        if not allow_pickle:
            raise ValueError(
                f'{path} is a pickle: loading a pickle runs any code it '
                'holds, so predictions are read from .npz files only '
                '(tools/test.py --out preds.npz, docs/predictions_format.md)'
                '. For a pickle you wrote yourself with an older mmps, pass '
                'allow_pickle=True (eval_search.py --allow-pickle).')
        with open(path, 'rb') as file:
            records = pickle.load(file)
        members = _encode(records, path)
        return _decode(members.__getitem__, set(members), path)
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as error:
        raise ValueError(f'{path}: damaged .npz file ({error})') from error
    with npz:

        def read(member: str) -> np.ndarray:
            try:
                return npz[member]
            except Exception as error:
                problem = f'{type(error).__name__}: {error}'
                raise ValueError(f'{path}: member {member!r} cannot be read '
                                 f'({problem})') from error

        return _decode(read, set(npz.files), path)


def _kind(value) -> str:
    """The field kind of a record's value: a scalar kind or 'array'."""
    if isinstance(value, (bool, np.bool_)):
        return 'bool'
    if isinstance(value, (int, np.integer)):
        return 'int'
    if isinstance(value, (float, np.floating)):
        return 'float'
    if isinstance(value, str):
        return 'str'
    return 'array'


def _encode(records: Sequence[dict], source: str) -> Dict[str, np.ndarray]:
    """The members of the ``.npz`` file of ``records``."""
    if not isinstance(records, (list, tuple)) or not records:
        raise ValueError(f'{source}: expected a non-empty list of prediction '
                         f'records, got {type(records).__name__}')
    kinds: Dict[str, str] = {}
    for number, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f'{source}: record {number} is a '
                             f'{type(record).__name__}, not a dict')
        for name, value in record.items():
            kind = kinds.setdefault(name, _kind(value))
            if _kind(value) != kind:
                raise ValueError(
                    f'{source}: record {number}: field {name!r} is '
                    f'{_kind(value)}, {kind} in the records before it')
    members = {}
    for name, kind in kinds.items():
        if not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f'{source}: field name {name!r} is not an '
                             'identifier')
        present = np.array([name in record for record in records])
        if kind == 'array':
            data, offsets = _concatenate(
                [record[name] for record in records if name in record],
                present, name, source)
            members[f'offsets.{name}'] = offsets
        else:
            # records without the field get a placeholder; present says so
            dtype = _SCALAR_DTYPES[kind]
            data = np.array([record.get(name, dtype()) for record in records],
                            dtype)
        members[f'data.{name}'] = data
        if not present.all():
            members[f'present.{name}'] = present
    members['meta'] = np.array(
        json.dumps(
            dict(
                format=PREDICTIONS_FORMAT,
                format_version=PREDICTIONS_FORMAT_VERSION,
                num_records=len(records),
                fields=kinds)))
    _check_required(kinds, members, source)
    return members


def _concatenate(values: list, present: np.ndarray, name: str,
                 source: str) -> tuple:
    """An array field's data (sum of N, ...) and offsets (R + 1, )."""
    arrays = [np.asarray(value) for value in values]
    first = arrays[0]
    for array in arrays:
        if array.ndim == 0 or array.shape[1:] != first.shape[1:] or \
                array.dtype.kind not in _DTYPE_KINDS['array']:
            raise ValueError(
                f'{source}: field {name!r}: every record needs a numeric '
                f'array of shape (n, {", ".join(map(str, first.shape[1:]))})'
                f'; got {array.dtype} of shape {array.shape} where another '
                f'record has {first.dtype} of shape {first.shape}')
    lengths = np.zeros(len(present), np.int64)
    lengths[present] = [len(array) for array in arrays]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return np.concatenate(arrays), offsets


def _check_required(kinds: Dict[str, str], members: Dict[str, np.ndarray],
                    source: str) -> None:
    """Every record has the required fields, of the required kinds."""
    for name, kind in PREDICTION_FIELDS.items():
        if name not in kinds:
            raise ValueError(f'{source}: lacks the field {name!r} (required: '
                             f'{list(PREDICTION_KEYS)})')
        if kinds[name] != kind:
            raise ValueError(f'{source}: field {name!r} must be {kind}, got '
                             f'{kinds[name]}')
        if f'present.{name}' in members:
            missing = np.flatnonzero(~members[f'present.{name}'])
            raise ValueError(f'{source}: field {name!r} is required; records '
                             f'{missing[:10].tolist()} lack it')


def _decode(read: Callable[[str], np.ndarray], names: set,
            source: str) -> List[dict]:
    """The records of an ``.npz`` file's members.

    Args:
        read (Callable): Returns the member of a name.
        names (set[str]): The names of the members.
        source (str): The file, for the errors.
    """
    meta = _read_meta(read, names, source)
    count, kinds = meta['num_records'], meta['fields']
    expected = {'meta'}
    columns = {}
    for name, kind in kinds.items():
        where = f'{source}: field {name!r}'
        if kind not in _DTYPE_KINDS:
            raise ValueError(f'{where}: unknown kind {kind!r}')
        members = [f'data.{name}'] + [f'offsets.{name}'] * (kind == 'array')
        optional = f'present.{name}'
        expected.update(members + [optional])
        missing = [member for member in members if member not in names]
        if missing:
            raise ValueError(f'{where}: the file lacks {missing}')
        data = read(f'data.{name}')
        if data.dtype.kind not in _DTYPE_KINDS[kind]:
            raise ValueError(f'{where}: expected {_KIND_NAMES[kind]}, got '
                             f'{data.dtype}')
        present = np.ones(count, bool)
        if optional in names:
            present = read(optional)
            if present.shape != (count, ) or present.dtype != bool:
                raise ValueError(f'{where}: {optional} must be ({count}, ) '
                                 f'bool, got {present.dtype} of shape '
                                 f'{present.shape}')
        if kind == 'array':
            offsets = _check_offsets(
                read(f'offsets.{name}'), data, present, where)
            columns[name] = (present, [
                data[start:stop]
                for start, stop in zip(offsets[:-1], offsets[1:])
            ])
        else:
            if data.shape != (count, ):
                raise ValueError(f'{where}: expected one value per record, '
                                 f'({count}, ), got shape {data.shape}')
            columns[name] = (present, data.tolist())
    unexpected = names - expected
    if unexpected:
        raise ValueError(f'{source}: members {sorted(unexpected)} are not '
                         'fields of its meta')
    _check_required(
        kinds, {
            f'present.{name}': present
            for name, (present, _) in columns.items() if not present.all()
        }, source)
    return [{
        name: values[index]
        for name, (present, values) in columns.items() if present[index]
    } for index in range(count)]


def _read_meta(read: Callable[[str], np.ndarray], names: set,
               source: str) -> dict:
    """The ``meta`` member, checked."""
    if 'meta' not in names:
        raise ValueError(f'{source}: lacks the member \'meta\': not a '
                         'predictions file (docs/predictions_format.md)')
    meta = read('meta')
    try:
        meta = json.loads(str(meta.item()))
    except (ValueError, TypeError) as error:
        raise ValueError(
            f'{source}: meta is not a JSON string ({error})') from error
    if not isinstance(meta, dict) or meta.get('format') != PREDICTIONS_FORMAT:
        raise ValueError(f'{source}: meta does not name the format '
                         f'{PREDICTIONS_FORMAT!r}')
    version = meta.get('format_version')
    if version != PREDICTIONS_FORMAT_VERSION:
        raise ValueError(f'{source}: format_version {version!r}; this mmps '
                         f'reads version {PREDICTIONS_FORMAT_VERSION}')
    count, fields = meta.get('num_records'), meta.get('fields')
    if not isinstance(count, int) or count < 0 or not isinstance(fields, dict):
        raise ValueError(f'{source}: meta needs num_records (an integer) '
                         f'and fields (a dict), got {count!r}, {fields!r}')
    return meta


def _check_offsets(offsets: np.ndarray, data: np.ndarray, present: np.ndarray,
                   where: str) -> np.ndarray:
    """The offsets of an array field, checked against its data."""
    count = len(present)
    if offsets.shape != (count + 1, ) or offsets.dtype.kind not in 'iu':
        raise ValueError(f'{where}: offsets must be ({count + 1}, ) integers, '
                         f'got {offsets.dtype} of shape {offsets.shape}')
    if data.ndim == 0 or offsets[0] != 0 or offsets[-1] != len(data) or (
            np.diff(offsets) < 0).any():
        raise ValueError(f'{where}: offsets must rise from 0 to the '
                         f'{len(data) if data.ndim else 0} rows of the data')
    if (np.diff(offsets)[~present] != 0).any():
        raise ValueError(f'{where}: records without the field have rows')
    return offsets
