# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest

from mmps.datasets.transforms.person_id_labels import (LABEL_SLOTS,
                                                       MAX_PERSON_ID,
                                                       decode_person_ids,
                                                       encode_person_ids)


def test_codes_by_hand():
    labels = np.array([0, 0, 3, 0])
    person_ids = np.array([-1, 0, 0, 7])
    codes = encode_person_ids(labels, person_ids, 'here')
    # -1 - (label + 65536 * (person_id + 1))
    assert codes.tolist() == [-1, -65537, -65540, -1 - 8 * 65536]
    assert codes.dtype == np.int64
    decoded_labels, decoded_ids = decode_person_ids(codes, 'here')
    assert decoded_labels.tolist() == [0, 0, 3, 0]
    assert decoded_ids.tolist() == [-1, 0, 0, 7]


def test_codes_of_the_extreme_values_round_trip():
    labels = np.array([LABEL_SLOTS - 1, 0, LABEL_SLOTS - 1])
    person_ids = np.array([MAX_PERSON_ID, MAX_PERSON_ID, -1])
    codes = encode_person_ids(labels, person_ids, 'here')
    assert (codes < 0).all()
    decoded_labels, decoded_ids = decode_person_ids(codes, 'here')
    assert decoded_labels.tolist() == labels.tolist()
    assert decoded_ids.tolist() == person_ids.tolist()
    empty = encode_person_ids(np.zeros(0), np.zeros(0), 'here')
    assert [v.shape for v in decode_person_ids(empty, 'here')] == [(0, )] * 2


@pytest.mark.parametrize('labels,person_ids,message', [
    ([0, -1], [1, 2], 'instance 1 has label -1, expected 0..65535'),
    ([LABEL_SLOTS], [1], 'instance 0 has label 65536'),
    ([0, 0], [1, -2], 'instance 1 has person_id -2, expected -1..'),
    ([0], [MAX_PERSON_ID + 1
           ], f'instance 0 has person_id {MAX_PERSON_ID + 1}'),
    ([0, 0], [1], r'\(2,\) labels and \(1,\) person ids'),
])
def test_values_that_do_not_fit_a_code_are_refused(labels, person_ids,
                                                   message):
    with pytest.raises(ValueError, match=f'img.jpg: {message}'):
        encode_person_ids(np.array(labels), np.array(person_ids), 'img.jpg')


def test_a_label_that_is_not_a_code_is_refused():
    codes = encode_person_ids(np.zeros(3), np.array([4, 5, 6]), 'img.jpg')
    codes[1] = 0  # a transform set the label of a box
    with pytest.raises(
            ValueError,
            match=r'img.jpg: gt_bboxes_labels\[1\] is 0, not a label '
            'carrying a person id'):
        decode_person_ids(codes, 'img.jpg')
