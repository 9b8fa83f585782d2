# Copyright (c) mmps contributors. All rights reserved.
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from mmps.evaluation import (PREDICTION_KEYS, DumpSearchResults,
                             load_predictions, save_predictions)


class RunsCode:
    """Unpickled, creates the file ``marker`` (as any command could run)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, 'w')


def _records():
    """A gallery image with 2 detections, one with none, and a query that
    also has optional context arrays and a float field."""
    rng = np.random.default_rng(0)
    return [
        dict(
            img_path='a.jpg',
            is_query=False,
            query_index=-1,
            cam_id=1,
            bboxes=rng.random((2, 4), dtype=np.float32),
            scores=np.array([0.9, 0.4], np.float32),
            embeddings=rng.random((2, 3), dtype=np.float32)),
        dict(
            img_path='b.jpg',
            is_query=False,
            query_index=-1,
            cam_id=2,
            bboxes=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float32),
            embeddings=np.zeros((0, 3), np.float32)),
        dict(
            img_path='dir/ä.jpg',
            is_query=True,
            query_index=0,
            cam_id=-1,
            bboxes=np.array([[1, 2, 3, 4]], np.float32),
            scores=np.ones(1, np.float32),
            embeddings=rng.random((1, 3), dtype=np.float32),
            context_bboxes=rng.random((3, 4), dtype=np.float32),
            context_embeddings=rng.random((3, 3), dtype=np.float32),
            weight=0.5),
    ]


def _assert_records_equal(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert sorted(a) == sorted(b)
        for key, value in b.items():
            if isinstance(value, np.ndarray):
                assert a[key].dtype == value.dtype, key
                assert a[key].shape == value.shape, key
                np.testing.assert_array_equal(a[key], value)
            else:
                assert type(a[key]) is type(value), key
                assert a[key] == value, key


def test_round_trip(tmp_path):
    path = str(tmp_path / 'out' / 'preds.npz')
    records = _records()
    save_predictions(path, records)
    _assert_records_equal(load_predictions(path), records)
    assert os.listdir(tmp_path / 'out') == ['preds.npz']
    with np.load(path) as npz:
        # the query's optional arrays: rows of its record only
        np.testing.assert_array_equal(npz['offsets.context_bboxes'],
                                      [0, 0, 0, 3])
        np.testing.assert_array_equal(npz['present.context_bboxes'],
                                      [False, False, True])
        np.testing.assert_array_equal(npz['offsets.bboxes'], [0, 2, 2, 3])
        assert 'present.bboxes' not in npz.files


def test_dump_search_results_writes_what_load_reads(tmp_path):
    path = str(tmp_path / 'preds.npz')
    metric = DumpSearchResults(out_file_path=path)
    sample = dict(
        img_path='a.jpg',
        pred_instances=dict(
            bboxes=torch.tensor([[1., 2., 3., 4.]]),
            scores=torch.tensor([0.8]),
            embeddings=torch.tensor([[0.6, 0.8]])),
        gt_instances=dict(
            bboxes=torch.tensor([[1., 2., 3., 4.]]),
            person_ids=torch.tensor([5])))
    metric.process({}, [sample])
    metric.evaluate(1)
    (record, ) = load_predictions(path)
    assert sorted(record) == sorted(PREDICTION_KEYS)
    assert record['img_path'] == 'a.jpg' and record['is_query'] is False
    assert record['query_index'] == -1 and record['cam_id'] == -1
    np.testing.assert_array_equal(record['bboxes'], [[1, 2, 3, 4]])
    np.testing.assert_allclose(record['scores'], [0.8])
    np.testing.assert_allclose(record['embeddings'], [[0.6, 0.8]])
    with pytest.raises(ValueError, match=r"written as .npz.*'preds.pkl'"):
        DumpSearchResults(out_file_path='preds.pkl')


@pytest.mark.parametrize('name', ['preds.pkl', 'preds.npz'])
def test_pickle_is_refused_and_runs_nothing(tmp_path, name):
    marker = tmp_path / 'ran'
    path = str(tmp_path / name)
    with open(path, 'wb') as f:
        pickle.dump([RunsCode(str(marker))], f)
    with pytest.raises(ValueError, match='is a pickle: loading a pickle runs'):
        load_predictions(path)
    assert not marker.exists()


def test_pickle_only_with_allow_pickle(tmp_path):
    path = str(tmp_path / 'preds.pkl')
    records = _records()
    with open(path, 'wb') as f:
        pickle.dump(records, f)
    _assert_records_equal(load_predictions(path, allow_pickle=True), records)
    del records[0]['scores']
    with open(path, 'wb') as f:
        pickle.dump(records, f)
    with pytest.raises(
            ValueError,
            match=r"preds.pkl: field 'scores' is required; "
            r'records \[0\] lack it'):
        load_predictions(path, allow_pickle=True)


def test_object_array_in_npz_is_refused_and_runs_nothing(tmp_path):
    path = str(tmp_path / 'preds.npz')
    save_predictions(path, _records())
    marker = tmp_path / 'ran'
    members = _members(path)
    members['data.scores'] = np.array([RunsCode(str(marker))] * 3, object)
    _write_members(path, members, allow_pickle=True)
    with pytest.raises(
            ValueError,
            match=r"preds.npz: member 'data.scores' cannot be "
            'read .*allow_pickle=False'):
        load_predictions(path)
    assert not marker.exists()


def _members(path):
    with np.load(path) as npz:
        return {name: npz[name] for name in npz.files}


def _write_members(path, members, allow_pickle=False):
    with open(path, 'wb') as f:
        np.savez(f, allow_pickle=allow_pickle, **members)


def _drop(member):

    def change(members):
        del members[member]

    return change


def _set(member, value):

    def change(members):
        members[member] = value

    return change


def _meta(**changes):

    def change(members):
        import json
        meta = json.loads(str(members['meta']))
        meta.update(changes)
        members['meta'] = np.array(json.dumps(meta))

    return change


def _drop_field(name):

    def change(members):
        _meta()(members)
        import json
        meta = json.loads(str(members['meta']))
        del meta['fields'][name]
        members['meta'] = np.array(json.dumps(meta))
        for prefix in ('data', 'offsets', 'present'):
            members.pop(f'{prefix}.{name}', None)

    return change


@pytest.mark.parametrize('change, message', [
    (_drop('data.scores'), r"field 'scores': the file lacks \['data.scores'"),
    (_drop('offsets.embeddings'),
     r"field 'embeddings': the file lacks \['offsets.embeddings'"),
    (_drop_field('bboxes'), r"lacks the field 'bboxes' \(required"),
    (_drop('meta'), "lacks the member 'meta': not a predictions file"),
    (_set('meta', np.array('{')), 'meta is not a JSON string'),
    (_meta(format_version=2), 'format_version 2; this mmps reads version 1'),
    (_meta(format='other'), "meta does not name the format"),
    (_set('offsets.bboxes', np.array([0, 2, 1, 3])),
     "field 'bboxes': offsets must rise from 0 to the 3 rows"),
    (_set('offsets.bboxes', np.array(
        [0, 2, 3])), r"field 'bboxes': offsets must be \(4, \) integers"),
    (_set('data.img_path', np.array(['a.jpg', 'b.jpg'])),
     r"field 'img_path': expected one value per record, \(3, \)"),
    (_set('data.query_index', np.array([-1., -1., 0.])),
     "field 'query_index': expected integers, got float64"),
    (_set('data.scores', np.array(['0.9', '0.4', '1'])),
     r"field 'scores': expected numbers \(bool, int, float\), got <U3"),
    (_set('present.context_bboxes', np.zeros(3, bool)),
     "field 'context_bboxes': records without the field have rows"),
    (_set('extra', np.zeros(3)), r"members \['extra'\] are not fields"),
])
def test_damaged_file_names_file_and_field(tmp_path, change, message):
    path = str(tmp_path / 'preds.npz')
    save_predictions(path, _records())
    members = _members(path)
    change(members)
    _write_members(path, members)
    with pytest.raises(ValueError, match='preds.npz: .*' + message):
        load_predictions(path)


def test_truncated_or_corrupt_file(tmp_path):
    path = str(tmp_path / 'preds.npz')
    save_predictions(path, _records())
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match='preds.npz: damaged .npz file'):
        load_predictions(path)
    # one byte of the scores changed: the member's checksum fails
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo('data.scores.npy')
    start = info.header_offset + 30 + len(info.filename) + len(
        info.extra) + info.compress_size - 1
    with open(path, 'wb') as f:
        f.write(data[:start] + bytes([data[start] ^ 1]) + data[start + 1:])
    with pytest.raises(
            ValueError,
            match="preds.npz: member 'data.scores' cannot be "
            'read .*CRC'):
        load_predictions(path)
    with pytest.raises(FileNotFoundError, match='missing.npz not found'):
        load_predictions(str(tmp_path / 'missing.npz'))
    with open(path, 'w') as f:
        f.write('img_path,bboxes\n')
    with pytest.raises(ValueError, match='is not a predictions .npz file'):
        load_predictions(path)


@pytest.mark.parametrize('change, message', [
    (lambda r: r[1].pop('cam_id'), r"field 'cam_id' is required; records "
     r'\[1\] lack it'),
    (lambda r: r[1].update(cam_id='2'), "record 1: field 'cam_id' is str, "
     'int in the records before it'),
    (lambda r: r[1].update(embeddings=np.zeros((0, 4), np.float32)),
     r"field 'embeddings': every record needs a numeric array of shape "
     r'\(n, 3\)'),
    (lambda r: r[0].update(scores=np.float32(0.9)),
     "record 1: field 'scores' is array, float in the records before it"),
    (lambda r: r[2].update({'bad name': np.zeros(1)}),
     "field name 'bad name' is not an identifier"),
])
def test_writer_refuses_what_the_reader_would(tmp_path, change, message):
    path = str(tmp_path / 'preds.npz')
    save_predictions(path, _records())
    before = open(path, 'rb').read()
    records = _records()
    change(records)
    with pytest.raises(ValueError, match=message):
        save_predictions(path, records)
    # the file written before is intact and no temporary file is left
    assert open(path, 'rb').read() == before
    assert os.listdir(tmp_path) == ['preds.npz']
    with pytest.raises(ValueError, match=r"written as .npz files.*'p.pkl'"):
        save_predictions('p.pkl', _records())
