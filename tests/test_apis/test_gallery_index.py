# Copyright (c) mmps contributors. All rights reserved.
import json

import numpy as np
import pytest

from mmps.apis import GalleryIndex, SearchMatch, frame_key
from mmps.testing import assert_top_k_matches


def random_index(num_images=5,
                 boxes_per_image=(3, 0, 4, 2, 5),
                 dim=8,
                 seed=0,
                 fingerprint='model-a',
                 prefix='img'):
    rng = np.random.default_rng(seed)
    num_boxes = sum(boxes_per_image)
    embeddings = rng.normal(size=(num_boxes, dim)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    xy = rng.uniform(0, 50, size=(num_boxes, 2))
    wh = rng.uniform(5, 40, size=(num_boxes, 2))
    return GalleryIndex(
        image_paths=[f'{prefix}{i}.jpg' for i in range(num_images)],
        image_shapes=np.tile([[120, 100]], (num_images, 1)),
        bboxes=np.concatenate([xy, xy + wh], axis=1),
        scores=rng.uniform(0, 1, size=num_boxes),
        embeddings=embeddings,
        image_index=np.repeat(np.arange(num_images), boxes_per_image),
        fingerprint=fingerprint)


def slow_scores(index, queries, score_thr):
    """Every query's similarity to every detection, one pair at a time, in
    float64; ``-inf`` for detections under the threshold."""
    scores = np.full((len(queries), len(index)), -np.inf)
    for q, query in enumerate(queries):
        for i in range(len(index)):
            if index.scores[i] >= score_thr:
                scores[q, i] = sum(
                    float(a) * float(b)
                    for a, b in zip(query, index.embeddings[i]))
    return scores


@pytest.mark.parametrize('top_k,score_thr', [(1, 0.0), (5, 0.5), (50, 0.3),
                                             (3, 1.1)])
def test_search_matches_a_slow_loop(top_k, score_thr):
    index = random_index()
    queries = random_index(seed=1).embeddings[:6]
    results = index.search(queries, top_k=top_k, score_thr=score_thr)
    assert len(results) == len(queries)
    found = np.full((len(queries), top_k), -1)
    sims = np.full((len(queries), top_k), -np.inf)
    for q, matches in enumerate(results):
        found[q, :len(matches)] = [m.box_index for m in matches]
        sims[q, :len(matches)] = [m.similarity for m in matches]
        for match in matches:
            i = match.box_index
            assert match.image_path == f'img{index.image_index[i]}.jpg'
            assert match.image_index == index.image_index[i]
            np.testing.assert_array_equal(match.bbox, index.bboxes[i])
            assert match.score == pytest.approx(index.scores[i])
            assert match.score >= score_thr
    # the best detections by similarity; near-ties may come in any order
    assert_top_k_matches(found, sims, slow_scores(index, queries, score_thr))


def test_confidence_weighted_similarity():
    index = random_index()
    queries = random_index(seed=4).embeddings[:5]
    reference = slow_scores(index, queries, 0.2) * index.scores
    found, sims = index.rank(queries, top_k=6, score_thr=0.2, cws=True)
    assert_top_k_matches(found, sims, reference)
    # the weights change the ranking of this gallery
    plain, _ = index.rank(queries, top_k=6, score_thr=0.2)
    assert (plain != found).any()
    matches = index.search(queries[:1], top_k=3, score_thr=0.2, cws=True)[0]
    for match in matches:
        assert match.similarity == pytest.approx(
            float(queries[0] @ index.embeddings[match.box_index]) *
            match.score,
            abs=1e-5)


def test_search_many_queries_in_chunks():
    index = random_index()
    queries = random_index(seed=2, boxes_per_image=(5, 5, 5, 5, 3)).embeddings
    reference = slow_scores(index, queries, 0.2)
    # chunks make other matrix products than the whole: compare each to the
    # reference, up to near-ties, never bit for bit
    whole = index.rank(queries, top_k=4, score_thr=0.2)
    assert_top_k_matches(*whole, reference)
    chunked = index.rank(queries, top_k=4, score_thr=0.2, chunk_size=3)
    assert_top_k_matches(*chunked, reference)
    # fewer matches than top_k: padded with -1 / -inf
    indices, sims = index.rank(queries[:1], top_k=20, score_thr=0.0)
    assert (indices[0, len(index):] == -1).all()
    assert np.isneginf(sims[0, len(index):]).all()


ARRAY_NAMES = ('bboxes', 'scores', 'embeddings', 'image_index', 'image_shapes',
               'frames', 'timestamps')


def footage_index(seed=0):
    """An index of two frames of a video and three still images."""
    index = random_index(seed=seed)
    return GalleryIndex(
        [frame_key('cam1.mp4', 12),
         frame_key('cam1.mp4', 250)] + ['a.jpg', 'b.jpg', 'c.jpg'],
        index.image_shapes,
        index.bboxes,
        index.scores,
        index.embeddings,
        index.image_index,
        index.fingerprint,
        sources=['cam1.mp4', 'cam1.mp4', 'a.jpg', 'b.jpg', 'c.jpg'],
        frames=[12, 250, -1, -1, -1],
        timestamps=[0.48, 10.0, np.nan, np.nan, np.nan],
        cameras=['cam1', 'cam1', '', 'cam2', ''])


def _memory_mapped(array):
    while isinstance(array, np.ndarray):
        if isinstance(array, np.memmap):
            return True
        array = array.base
    return False


@pytest.mark.parametrize('mmap', [False, True])
def test_save_load_round_trips_bit_for_bit(tmp_path, mmap):
    index = footage_index()
    index.skipped['broken.jpg'] = 'OSError: truncated'
    index.save(str(tmp_path / 'idx'))
    loaded = GalleryIndex.load(str(tmp_path / 'idx'), mmap=mmap)
    for name in ARRAY_NAMES:
        a, b = getattr(index, name), getattr(loaded, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
        # memory-mapped read-only, or read into memory
        assert _memory_mapped(b) == mmap, name
        assert b.flags.writeable != mmap, name
    for name in ('image_paths', 'sources', 'cameras', 'fingerprint',
                 'skipped'):
        assert getattr(loaded, name) == getattr(index, name), name
    assert loaded.image_paths[0] == 'cam1.mp4#frame=000012'
    meta = json.loads((tmp_path / 'idx' / 'index.json').read_text())
    assert meta['format_version'] == 2 and meta['num_boxes'] == len(index)
    assert sorted(p.name for p in (
        tmp_path /
        'idx').iterdir()) == sorted([f'{name}.npy'
                                     for name in ARRAY_NAMES] + ['index.json'])
    # each .npy file is plain numpy: readable without mmps
    np.testing.assert_array_equal(
        np.load(tmp_path / 'idx' / 'frames.npy'), [12, 250, -1, -1, -1])
    queries = random_index(seed=1).embeddings[:3]
    for a, b in zip(index.rank(queries, 4, 0.2), loaded.rank(queries, 4, 0.2)):
        np.testing.assert_array_equal(a, b)


def test_append_equals_one_index_of_both():
    first = random_index()
    second = random_index(
        num_images=2, boxes_per_image=(1, 3), seed=3, prefix='new')
    merged = first.append(second)
    assert merged.num_images == 7 and len(merged) == len(first) + 4
    assert merged.image_paths[5:] == ['new0.jpg', 'new1.jpg']
    np.testing.assert_array_equal(merged.image_index[len(first):],
                                  [5, 6, 6, 6])
    np.testing.assert_array_equal(merged.embeddings[len(first):],
                                  second.embeddings)
    with pytest.raises(ValueError, match='another model'):
        first.append(random_index(fingerprint='model-b', prefix='x'))
    with pytest.raises(ValueError, match='in both indexes, e.g. img0.jpg'):
        first.append(random_index())


def test_bad_indexes_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='index.json not found'):
        GalleryIndex.load(str(tmp_path))
    index = random_index()
    with pytest.raises(ValueError, match='query embeddings have 3 dims'):
        index.search(np.ones(3))
    with pytest.raises(ValueError, match=r'image_index must lie in \[0, 5\)'):
        GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                     index.scores, index.embeddings, index.image_index + 1,
                     'x')
    with pytest.raises(ValueError, match='13 scores for 14 boxes'):
        GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                     index.scores[1:], index.embeddings, index.image_index,
                     'x')
    index.save(str(tmp_path / 'idx'))
    meta_file = tmp_path / 'idx' / 'index.json'
    meta = json.loads(meta_file.read_text())
    meta['format_version'] = 7
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match='format_version 7'):
        GalleryIndex.load(str(tmp_path / 'idx'))


def _saved(tmp_path, **kwargs):
    folder = tmp_path / 'idx'
    random_index(**kwargs).save(str(folder))
    return folder


def _saved_v1(tmp_path, **kwargs):
    """An index folder of format version 1, as mmps wrote it before 2:
    ``arrays.npz`` and ``index.json`` with its SHA-256."""
    import hashlib
    index = random_index(**kwargs)
    folder = tmp_path / 'idx'
    folder.mkdir(parents=True)
    np.savez(
        folder / 'arrays.npz',
        bboxes=index.bboxes,
        scores=index.scores,
        embeddings=index.embeddings,
        image_index=index.image_index,
        image_shapes=index.image_shapes)
    meta = dict(
        format_version=1,
        fingerprint=index.fingerprint,
        embedding_dim=index.embedding_dim,
        num_boxes=len(index),
        image_paths=index.image_paths,
        skipped=index.skipped,
        arrays_sha256=hashlib.sha256(
            (folder / 'arrays.npz').read_bytes()).hexdigest())
    (folder / 'index.json').write_text(json.dumps(meta, indent=1))
    return folder


def _edit_meta(folder, edit):
    meta_file = folder / 'index.json'
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps(edit(meta)))


@pytest.mark.parametrize('mmap', [False, True])
def test_a_version_1_index_still_loads(tmp_path, mmap):
    folder = _saved_v1(tmp_path)
    index = random_index()
    loaded = GalleryIndex.load(str(folder), mmap=mmap)
    for name in ARRAY_NAMES[:5]:
        a, b = getattr(index, name), getattr(loaded, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    # images without footage metadata
    assert loaded.sources == loaded.image_paths == index.image_paths
    assert loaded.cameras == [''] * 5
    assert (loaded.frames == -1).all() and np.isnan(loaded.timestamps).all()
    # saved again, it becomes version 2; arrays.npz is gone
    loaded.save(str(folder))
    assert not (folder / 'arrays.npz').exists()
    again = GalleryIndex.load(str(folder))
    assert again.embeddings.tobytes() == index.embeddings.tobytes()


@pytest.mark.parametrize('text,message', [
    ('{"format_version": 1, ', r'index.json is not valid JSON'),
    ('[1, 2]', r'index.json must hold a JSON object, got list'),
    (b'\xff\xfe'.decode('latin-1'), r'index.json is not valid JSON'),
])
def test_index_json_that_is_not_an_object_is_refused(tmp_path, text, message):
    folder = _saved(tmp_path)
    (folder / 'index.json').write_text(text, encoding='latin-1')
    with pytest.raises(ValueError, match=message):
        GalleryIndex.load(str(folder))


@pytest.mark.parametrize('key,value,message', [
    ('image_paths', None, r"index.json has no 'image_paths'"),
    ('fingerprint', None, r"index.json has no 'fingerprint'"),
    ('skipped', None, r"index.json has no 'skipped'"),
    ('image_paths', 'img0.jpg', r"'image_paths' must be a JSON list"),
    ('image_paths', [0, 1, 2, 3, 4], r'image_paths must be strings'),
    ('fingerprint', 7, r"'fingerprint' must be a JSON str, got 7"),
    ('num_boxes', '14', r"'num_boxes' must be a JSON int"),
    ('num_boxes', True, r"'num_boxes' must be a JSON int"),
    ('num_boxes', 13, r'bboxes.npy: bboxes must be float32 of shape \(13, '
     r'4\) \(num_boxes 13 in .*index.json\), got float32 of shape '
     r'\(14, 4\)'),
    ('embedding_dim', 9, r'embeddings must be float32 of shape \(14, 9\)'),
    ('num_images', 4, r'image_shapes must be int64 of shape \(4, 2\)'),
    ('files', None, r"index.json has no 'files'"),
    ('sources', ['a'] * 4 + [5], r'sources must be strings'),
    ('cameras', ['a'] * 4, r'is not a valid gallery index: 4 cameras for 5 '
     r'images'),
    ('skipped', {
        'a.jpg': 1
    }, r'skipped must map paths to reasons'),
    ('image_paths', ['img0.jpg'] * 5, r'is not a valid gallery index: 4 '
     r'image paths appear twice'),
    ('image_paths', ['img0.jpg'], r'is not a valid gallery index: 5 '
     r'image_shapes for 1 images'),
])
def test_damaged_index_json_is_a_clear_error(tmp_path, key, value, message):
    folder = _saved(tmp_path)

    def edit(meta):
        if value is None:
            del meta[key]
        else:
            meta[key] = value
        return meta

    _edit_meta(folder, edit)
    with pytest.raises(ValueError, match=message):
        GalleryIndex.load(str(folder))


def _write_arrays(folder, **changes):
    """Replace arrays of a saved index; index.json is updated to match, as
    by someone who made the files on purpose."""
    import hashlib
    with np.load(folder / 'arrays.npz') as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(changes)
    np.savez(folder / 'arrays.npz', **{
        k: v
        for k, v in arrays.items() if v is not None
    })
    digest = hashlib.sha256((folder / 'arrays.npz').read_bytes()).hexdigest()
    _edit_meta(folder, lambda meta: {**meta, 'arrays_sha256': digest})


@pytest.mark.parametrize('name,damage,message', [
    ('embeddings', lambda a: np.where(np.arange(8) == 2, np.nan, a),
     r'embeddings of box 0 are not finite'),
    ('embeddings', lambda a: a * 1.01, r'embedding of box \d+ has the norm '
     r'1.01; embeddings must be unit-norm'),
    ('image_shapes', lambda a: -a, r'image img0.jpg has the image_shape '
     r'\[-120, -100\]; expected a positive height and width'),
    ('bboxes', lambda a: np.concatenate([a[:3], [[np.inf, 0, 5, 5]], a[4:]]),
     r'bboxes of box 3 are not finite'),
    ('scores', lambda a: np.full_like(a, np.nan),
     r'scores of box 0 are not finite'),
    ('bboxes', lambda a: a.reshape(-1, 2), r'bboxes must have 4 columns, '
     r'got shape \(28, 2\)'),
    ('bboxes', lambda a: a.astype(str), r'bboxes must be a 2-d array of '
     r'floats, got 2-d <U'),
    ('image_index', lambda a: a.astype(np.float64),
     r'image_index must be a 1-d array of integers'),
    ('embeddings', lambda a: a.astype(object),
     r'arrays.npz is not a readable npz file of numeric arrays'),
    ('scores', lambda a: None, r"arrays.npz lacks \['scores'\]"),
])
def test_damaged_version_1_arrays_are_refused(tmp_path, name, damage, message):
    folder = _saved_v1(tmp_path)
    with np.load(folder / 'arrays.npz') as npz:
        array = npz[name]
    _write_arrays(folder, **{name: damage(array)})
    with pytest.raises(ValueError, match=message):
        GalleryIndex.load(str(folder))


def test_version_1_arrays_not_saved_with_the_index_json_are_refused(tmp_path):
    folder = _saved_v1(tmp_path)
    other = _saved_v1(tmp_path / 'other', seed=5)
    # same shapes, other detections: would pass every count
    (folder / 'arrays.npz').write_bytes((other / 'arrays.npz').read_bytes())
    with pytest.raises(ValueError, match='SHA-256 differs'):
        GalleryIndex.load(str(folder))
    (folder / 'arrays.npz').write_bytes(b'not a zip file')
    with pytest.raises(ValueError, match='SHA-256 differs'):
        GalleryIndex.load(str(folder))
    _edit_meta(
        folder, lambda meta: {
            k: v
            for k, v in meta.items() if k != 'arrays_sha256'
        })
    with pytest.raises(ValueError, match='arrays.npz is not a readable npz'):
        GalleryIndex.load(str(folder))


@pytest.mark.parametrize('mmap', [False, True])
def test_an_interrupted_save_never_leaves_a_half_written_index(
        tmp_path, monkeypatch, mmap):
    import mmps.apis.index_storage as module
    folder = _saved(tmp_path)
    files = sorted(p.name for p in folder.iterdir())
    old = GalleryIndex.load(str(folder))
    new = random_index(seed=9)

    def disk_full(file, array, **kwargs):
        file.write(b'\x93NUMPY the first bytes')
        raise OSError('No space left on device')

    # dies while writing the arrays: the old index is intact
    with monkeypatch.context() as patch:
        patch.setattr(module.np.lib.format, 'write_array', disk_full)
        with pytest.raises(OSError, match='No space'):
            new.save(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == files
    again = GalleryIndex.load(str(folder), mmap=mmap)
    assert again.embeddings.tobytes() == old.embeddings.tobytes()

    # dies between the arrays and index.json: refused, not mixed, even
    # memory-mapped without verify (same sizes; the ends differ)
    class BrokenJson:

        @staticmethod
        def dumps(*args, **kwargs):
            raise KeyboardInterrupt

        dump = dumps

    with monkeypatch.context() as patch:
        patch.setattr(module, 'json', BrokenJson)
        with pytest.raises(KeyboardInterrupt):
            new.save(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == files
    with pytest.raises(ValueError, match='a save was interrupted'):
        GalleryIndex.load(str(folder), mmap=mmap)
    new.save(str(folder))
    loaded = GalleryIndex.load(str(folder), mmap=mmap)
    assert loaded.embeddings.tobytes() == new.embeddings.tobytes()


def test_paths_outside_a_folder(tmp_path):
    gallery = tmp_path / 'gallery'
    inside = [str(gallery / 'a.jpg'), str(gallery / 'sub' / 'b.jpg')]
    outside = [
        '/etc/passwd',
        str(gallery / '..' / 'x.jpg'),
        str(tmp_path / 'gallery2' / 'c.jpg')
    ]
    index = random_index()
    index = GalleryIndex(inside[:1] + outside + inside[1:], index.image_shapes,
                         index.bboxes, index.scores, index.embeddings,
                         index.image_index, 'x')
    assert index.paths_outside(str(gallery)) == outside
    assert index.paths_outside(str(gallery) + '/') == outside
    assert index.paths_outside(str(tmp_path)) == ['/etc/passwd']


def _write_npy(folder, name, array):
    """Replace one array of a version 2 index; index.json is updated to
    match, as by someone who made the files on purpose."""
    from mmps.apis.index_storage import ends_sha256, sha256_of
    file = folder / f'{name}.npy'
    np.save(file, array, allow_pickle=True)
    record = dict(
        bytes=file.stat().st_size,
        sha256=sha256_of(str(file)),
        ends_sha256=ends_sha256(str(file)))
    _edit_meta(folder, lambda meta: {
        **meta, 'files': {
            **meta['files'], name: record
        }
    })


@pytest.mark.parametrize('mmap', [False, True])
@pytest.mark.parametrize('name,damage,message', [
    ('bboxes', lambda a: np.concatenate([a[:3], [[np.inf, 0, 5, 5]], a[4:]]).
     astype(np.float32), r'bboxes of box 3 are not finite'),
    ('frames', lambda a: a - 2, r'image img0.jpg has the frame -3; expected '
     r'a frame number >= 0, or -1 for a still image'),
    ('timestamps', lambda a: np.full_like(a, np.inf), r'image img0.jpg has '
     r'the timestamp inf; expected seconds'),
    ('scores', lambda a: a.astype(np.float64), r'scores.npy: scores must be '
     r'float32 of shape \(14,\) .*got float64 of shape \(14,\)'),
    ('bboxes', lambda a: a.reshape(-1, 2), r'bboxes must be float32 of shape '
     r'\(14, 4\) .* got float32 of shape \(28, 2\)'),
    ('embeddings', lambda a: a.astype(object),
     r'embeddings.npy is not a readable .npy file of a numeric array'),
])
def test_damaged_arrays_are_refused(tmp_path, mmap, name, damage, message):
    folder = _saved(tmp_path)
    _write_npy(folder, name, damage(np.load(folder / f'{name}.npy')))
    with pytest.raises(ValueError, match=message):
        GalleryIndex.load(str(folder), mmap=mmap)


def test_memory_mapped_loading_checks_the_embeddings_only_with_verify(
        tmp_path, monkeypatch):
    import mmps.apis.index_storage as module
    folder = _saved(tmp_path)
    _write_npy(folder, 'embeddings', np.load(folder / 'embeddings.npy') * 1.01)
    with pytest.raises(ValueError, match='has the norm 1.01'):
        GalleryIndex.load(str(folder))
    with pytest.raises(ValueError, match='has the norm 1.01'):
        GalleryIndex.load(str(folder), mmap=True, verify=True)

    # without verify nothing reads the whole embeddings file
    def no_full_read(file):
        raise AssertionError(f'{file} read whole')

    monkeypatch.setattr(module, 'sha256_of', no_full_read)
    loaded = GalleryIndex.load(str(folder), mmap=True)
    assert len(loaded) == 14


def test_verify_finds_an_edit_inside_a_big_file(tmp_path):
    # 3000 x 256 float32: 3 MB, more than the two ends of 1 MiB hashed
    folder = _saved(tmp_path, num_images=1, boxes_per_image=(3000, ), dim=256)
    file = folder / 'embeddings.npy'
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 1
    file.write_bytes(bytes(data))
    # the documented trade-off: unseen without verify
    GalleryIndex.load(str(folder), mmap=True)
    with pytest.raises(
            ValueError,
            match=r'embeddings.npy is not the file '
            r'.* was saved with \(its SHA-256 differs\)'):
        GalleryIndex.load(str(folder), mmap=True, verify=True)
    with pytest.raises(ValueError, match='SHA-256 differs'):
        GalleryIndex.load(str(folder))
    file.write_bytes(bytes(data[:-4]))
    with pytest.raises(ValueError, match=r'\(its size differs\)'):
        GalleryIndex.load(str(folder), mmap=True)


def test_matches_say_where_and_when():
    index = footage_index()
    queries = random_index(seed=1).embeddings[:4]
    for matches in index.search(queries, top_k=14, score_thr=0):
        assert len(matches) == 14
        for match in matches:
            image = index.image_index[match.box_index]
            assert match.image_index == image
            assert match.source == index.sources[image]
            assert match.camera == index.cameras[image]
            assert match.frame == index.frames[image]
            if image < 2:
                assert match.source == 'cam1.mp4' and match.camera == 'cam1'
                assert match.frame == [12, 250][image]
                assert match.timestamp == [0.48, 10.0][image]
                assert match.image_path == f'cam1.mp4#frame=' \
                    f'{[12, 250][image]:06d}'
            else:
                assert match.frame == -1 and np.isnan(match.timestamp)
    # an index of images: each image is its own source, no time
    match = random_index().search(queries[:1], top_k=1, score_thr=0)[0][0]
    assert match.source == match.image_path
    assert (match.frame, match.camera) == (-1, '')
    assert np.isnan(match.timestamp)
    # the six fields of before still make a match, by position
    old = SearchMatch('a.jpg', np.zeros(4), 0.9, 0.5, 0, 3)
    assert old.box_index == 3 and old.frame == -1 and old.source == ''


def test_append_keeps_the_footage_metadata():
    first = footage_index()
    second = random_index(
        num_images=2, boxes_per_image=(1, 3), seed=3, prefix='new')
    merged = first.append(second)
    assert merged.sources == first.sources + ['new0.jpg', 'new1.jpg']
    assert merged.cameras == first.cameras + ['', '']
    np.testing.assert_array_equal(merged.frames, [12, 250, -1, -1, -1, -1, -1])
    np.testing.assert_array_equal(merged.timestamps[:2], [0.48, 10.0])
    assert np.isnan(merged.timestamps[2:]).all()


@pytest.mark.parametrize('field,value,message', [
    ('sources', ['a.mp4'] * 4, r'4 sources for 5 images'),
    ('cameras', [''] * 4 + [7], r'cameras must be strings, got 7'),
    ('frames', [0, 1, 2, 3, -5], r'image img4.jpg has the frame -5'),
    ('timestamps', [0, 1, 2, -np.inf, 0], r'image img3.jpg has the timestamp '
     r'-inf'),
])
def test_bad_footage_metadata_is_refused(field, value, message):
    index = random_index()
    with pytest.raises(ValueError, match=message):
        GalleryIndex(index.image_paths, index.image_shapes, index.bboxes,
                     index.scores, index.embeddings, index.image_index, 'x',
                     **{field: value})


@pytest.mark.parametrize('cws', [False, True])
@pytest.mark.parametrize('min_similarity', [-1.0, 0.0, 0.2, 0.5, 1.01])
def test_min_similarity_returns_only_matches_above_it(cws, min_similarity):
    index = random_index()
    queries = random_index(seed=1).embeddings[:6]
    reference = slow_scores(index, queries, 0.3)
    if cws:
        reference = reference * index.scores
    reference[reference < min_similarity] = -np.inf
    found, sims = index.rank(
        queries,
        top_k=5,
        score_thr=0.3,
        cws=cws,
        min_similarity=min_similarity)
    assert_top_k_matches(found, sims, reference)
    results = index.search(
        queries,
        top_k=5,
        score_thr=0.3,
        cws=cws,
        min_similarity=min_similarity)
    counts = [len(matches) for matches in results]
    assert counts == [min(5, int(np.isfinite(row).sum())) for row in reference]
    assert all(m.similarity >= min_similarity for r in results for m in r)
    if min_similarity > 1:
        assert counts == [0] * 6


@pytest.mark.parametrize('chunk_size', [1, 3, 5, 14, 1000])
def test_gallery_chunks_give_the_whole_ranking(chunk_size):
    index = random_index()
    queries = random_index(seed=2).embeddings[:7]
    reference = slow_scores(index, queries, 0.2)
    found, sims = index.rank(
        queries, top_k=6, score_thr=0.2, chunk_size=chunk_size)
    assert_top_k_matches(found, sims, reference)
    with pytest.raises(ValueError, match='chunk_size must be positive'):
        index.rank(queries, chunk_size=0)
    with pytest.raises(ValueError, match="unknown search backend 'annoy'"):
        index.rank(queries, backend='annoy')


@pytest.mark.parametrize('row,scale', [(10, 1.01), (13, np.nan)])
def test_embeddings_are_checked_chunk_by_chunk(row, scale):
    index = random_index()
    embeddings = index.embeddings.copy()
    embeddings[row] *= scale
    index.embeddings = embeddings
    # the row is numbered in the whole index, not in its chunk
    with pytest.raises(
            ValueError,
            match=f'(embedding|embeddings) of box '
            f'{row} (has the norm 1.01|are not finite)'):
        index._check_embeddings(chunk_size=4)


@pytest.mark.parametrize('compact_fraction', [0.0, 0.5, 1.0])
@pytest.mark.parametrize('cws', [False, True])
def test_scoring_only_the_detections_that_pass_gives_the_same_ranking(
        compact_fraction, cws):
    from mmps.apis import ExactBackend
    index = random_index()
    queries = random_index(seed=3).embeddings[:5]
    backend = ExactBackend(chunk_size=4, compact_fraction=compact_fraction)
    # thresholds in turn on one backend: its gathered copy follows them
    for score_thr in (0.2, 0.7, 0.2, 1.1):
        reference = slow_scores(index, queries, score_thr)
        if cws:
            reference = reference * index.scores
        found, sims = index.rank(
            queries, top_k=4, score_thr=score_thr, cws=cws, backend=backend)
        assert_top_k_matches(found, sims, reference)
        share = (index.scores >= score_thr).mean()
        assert (backend.compact(index, score_thr) is not None) == (
            share <= compact_fraction)
    # another index with the same backend is not answered from the copy
    other = random_index(seed=5)
    found, sims = other.rank(queries, top_k=4, score_thr=0.2, backend=backend)
    assert_top_k_matches(found, sims, slow_scores(other, queries, 0.2))
    with pytest.raises(ValueError, match='compact_fraction must be in'):
        ExactBackend(compact_fraction=1.5)
