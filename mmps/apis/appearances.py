# Copyright (c) mmps contributors. All rights reserved.
"""Group a query's matches in footage into appearances, and per camera."""
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np

#: Relative slack on ``max_gap``: timestamps are ``frame / fps`` in floats,
#: so a gap of exactly two sampling steps may come out a hair above it.
GAP_TOLERANCE = 1e-9


class Appearance(NamedTuple):
    """A person's stay in one video: matched frames close in time.

    Attributes:
        camera (str | None): The camera of the video.
        source (str): The video (or still image) file.
        start (float): Time of its first matched frame, in seconds from the
            video's start; NaN for a still.
        end (float): Time of its last matched frame; NaN for a still.
        num_frames (int): Matched frames in it (1 for a still).
        best_key (str): Frame key of its most similar match.
        best_timestamp (float): Time of that frame (NaN for a still).
        best_box (np.ndarray): That match's box ``x1, y1, x2, y2``, (4, ).
        best_similarity (float): That match's similarity.
        best_index (int): That match's position in the input arrays.
        match_keys (list[str]): The frame keys of all its K matches, by
            time (then input order); a frame appears once per match.
        match_boxes (np.ndarray): Their boxes, (K, 4).
        match_similarities (np.ndarray): Their similarities, (K, ).
    """
    camera: Optional[str]
    source: str
    start: float
    end: float
    num_frames: int
    best_key: str
    best_timestamp: float
    best_box: np.ndarray
    best_similarity: float
    best_index: int
    match_keys: List[str]
    match_boxes: np.ndarray
    match_similarities: np.ndarray


class Interval(NamedTuple):
    """One appearance on a camera's timeline, in seconds of its video."""
    start: float
    end: float
    source: str


class CameraTimeline(NamedTuple):
    """When a person was seen by one camera.

    Attributes:
        intervals (list[Interval]): The camera's video appearances, sorted
            by start, then end and source. Times are seconds from the start
            of each video: two videos of a camera share the time axis only
            if they start together.
        total_seconds (float): Sum of ``end - start`` over the intervals
            (an appearance of one frame adds 0).
        num_stills (int): Still images of the camera that matched.
    """
    intervals: List[Interval]
    total_seconds: float
    num_stills: int


def _codes(values: np.ndarray) -> tuple:
    """Distinct values (None as '') and each value's index among them."""
    values = np.asarray(values, dtype=object)
    values = np.where(values == None, '', values).astype(str)  # noqa: E711
    return np.unique(values, return_inverse=True)


def _check_matches(arrays: Dict[str, np.ndarray], boxes: np.ndarray,
                   max_gap: np.ndarray) -> None:
    """Raise a ValueError naming the input that does not fit."""
    num = len(arrays['similarities'])
    for name, array in arrays.items():
        if array.shape != (num, ):
            raise ValueError(f'{name} must have shape ({num}, ) like the '
                             f'similarities, got {array.shape}')
    if boxes.shape != (num, 4):
        raise ValueError(f'boxes must have shape ({num}, 4), got '
                         f'{boxes.shape}')
    if max_gap.shape not in ((), (num, )):
        raise ValueError(f'max_gap must be a number or have shape ({num}, ),'
                         f' got {max_gap.shape}')
    if not np.isfinite(arrays['similarities']).all():
        raise ValueError('similarities must be finite')
    if np.isinf(arrays['timestamps']).any():
        raise ValueError('timestamps must be finite (NaN for stills)')
    if not (np.isfinite(max_gap) & (max_gap >= 0)).all():
        raise ValueError(
            'max_gap must be finite and >= 0, got '
            f'{max_gap[~(np.isfinite(max_gap) & (max_gap >= 0))]}')


def group_appearances(
        sources: Sequence[str],
        timestamps: np.ndarray,
        cameras: Sequence[Optional[str]],
        similarities: np.ndarray,
        boxes: np.ndarray,
        keys: Sequence[str],
        max_gap: Union[float, np.ndarray, None] = None,
        sampling_step: Union[float, np.ndarray,
                             None] = None) -> List[Appearance]:
    """Group the matches of one query into appearances.

    An appearance is a maximal run of matched frames of one video whose
    consecutive matched timestamps are at most ``max_gap`` seconds apart.
    With the default ``max_gap`` of two sampling steps, one sampled frame
    without a match (a missed detection, an occlusion) does not split an
    appearance; two do. Several matches in one frame count as one frame.
    Each matched still image (NaN timestamp) is an appearance of its own.

    Args:
        sources (Sequence[str]): File of each match, (M, ).
        timestamps (np.ndarray): Its frame's time in seconds, (M, ); NaN
            for a still image.
        cameras (Sequence[str | None]): Camera of each match, (M, ); None
            or '' for none. One camera per source.
        similarities (np.ndarray): Similarity of each match, (M, ).
        boxes (np.ndarray): Box of each match ``x1, y1, x2, y2``, (M, 4).
        keys (Sequence[str]): Frame key of each match, (M, ).
        max_gap (float | np.ndarray, optional): Largest time between two
            matched frames of an appearance, in seconds, for all matches or
            for each, (M, ) (e.g. per video). Defaults to
            ``2 * sampling_step``.
        sampling_step (float | np.ndarray, optional): Time between sampled
            frames, for all matches or each, (M, ) (see
            :func:`mmps.apis.frame_sources.sampling_step`); only read when
            ``max_gap`` is None.

    Returns:
        list[Appearance]: By decreasing best similarity; ties by earlier
        start (videos before stills), then source.

    Raises:
        ValueError: For inputs of different lengths, a non-finite
            similarity, neither ``max_gap`` nor ``sampling_step``, a source
            with two cameras, or one with both NaN and finite timestamps.
    """
    if max_gap is None:
        if sampling_step is None:
            raise ValueError('give max_gap (seconds) or sampling_step (its '
                             'default is twice the sampling step)')
        max_gap = 2 * np.asarray(sampling_step, dtype=np.float64)
    max_gap = np.asarray(max_gap, dtype=np.float64)
    timestamps = np.asarray(timestamps, dtype=np.float64)
    similarities = np.asarray(similarities, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    keys = np.asarray(keys, dtype=object)
    sources = np.asarray(sources, dtype=object)
    cameras = np.asarray(cameras, dtype=object)
    _check_matches(
        dict(
            sources=sources,
            timestamps=timestamps,
            cameras=cameras,
            similarities=similarities,
            keys=keys), boxes, max_gap)
    num = len(similarities)
    if num == 0:
        return []
    source_names, source_codes = _codes(sources)
    camera_names, camera_codes = _codes(cameras)
    still = np.isnan(timestamps)
    _check_per_source(source_names, source_codes, camera_codes, still)

    time = np.where(still, 0.0, timestamps)
    # by source, then time (stable: then input order), so the first of a
    # run's largest similarities is in the earliest frame that has it
    order = np.lexsort((time, source_codes))
    time, codes = time[order], source_codes[order]
    gap = np.broadcast_to(max_gap, (num, ))[order]
    step = np.diff(time)
    new_run = np.ones(num, bool)
    new_run[1:] = (codes[1:] != codes[:-1]) | (
        step > gap[1:] * (1 + GAP_TOLERANCE))
    new_frame = new_run.copy()
    new_frame[1:] |= step > 0
    run_starts = np.flatnonzero(new_run)
    run_ends = np.append(run_starts[1:], num) - 1
    run_of = np.cumsum(new_run) - 1
    sims = similarities[order]
    best_sims = np.maximum.reduceat(sims, run_starts)
    is_best = sims == best_sims[run_of]
    best = order[np.minimum.reduceat(
        np.where(is_best, np.arange(num), num), run_starts)]
    starts = timestamps[order[run_starts]]
    ends = timestamps[order[run_ends]]
    num_frames = np.add.reduceat(new_frame.astype(np.int64), run_starts)

    members = np.split(order, run_starts[1:])
    # the runs are in source order; the stable sort keeps it for ties
    ranking = np.lexsort((starts, -best_sims))
    camera_of_run = camera_codes[order[run_starts]]
    return [
        Appearance(
            camera=str(camera_names[camera_of_run[run]]) or None,
            source=str(source_names[codes[run_starts[run]]]),
            start=float(starts[run]),
            end=float(ends[run]),
            num_frames=int(num_frames[run]),
            best_key=str(keys[best[run]]),
            best_timestamp=float(timestamps[best[run]]),
            best_box=boxes[best[run]].copy(),
            best_similarity=float(similarities[best[run]]),
            best_index=int(best[run]),
            match_keys=[str(k) for k in keys[members[run]]],
            match_boxes=boxes[members[run]].copy(),
            match_similarities=similarities[members[run]].copy())
        for run in ranking
    ]


def _check_per_source(source_names: np.ndarray, source_codes: np.ndarray,
                      camera_codes: np.ndarray, still: np.ndarray) -> None:
    """Raise a ValueError for a source with two cameras, or with both
    still (NaN) and video timestamps."""
    num_sources = len(source_names)
    pairs = np.unique(source_codes * (camera_codes.max() + 1) + camera_codes)
    cameras_per_source = np.bincount(
        pairs // (camera_codes.max() + 1), minlength=num_sources)
    if (cameras_per_source > 1).any():
        name = source_names[np.argmax(cameras_per_source > 1)]
        raise ValueError(f'the matches of {name} have different cameras')
    stills = np.bincount(source_codes, weights=still, minlength=num_sources)
    counts = np.bincount(source_codes, minlength=num_sources)
    mixed = (stills > 0) & (stills < counts)
    if mixed.any():
        raise ValueError(f'the matches of {source_names[np.argmax(mixed)]} '
                         'have both NaN (still image) and finite timestamps')


def sampling_steps(sources: Sequence[str],
                   timestamps: np.ndarray) -> np.ndarray:
    """Per image, the longest time between consecutive images of its video.

    The images of a video in an index are its sampled frames, so this is
    the video's sampling step (:func:`mmps.apis.frame_sources.sampling_step`)
    as it was indexed, read back from the timestamps; with frames of two
    samplings of one video (appended at another rate) it is that of the
    union.

    Args:
        sources (Sequence[str]): The file of each image, (N, ).
        timestamps (np.ndarray): Its time in seconds, (N, ); NaN for a
            still image.

    Returns:
        np.ndarray: Seconds, (N, ) float64; 0 for a still image and for the
        only frame of a video.
    """
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if len(sources) != len(timestamps):
        raise ValueError(f'{len(sources)} sources but {len(timestamps)} '
                         'timestamps')
    names, codes = _codes(np.asarray(sources, dtype=object))
    time = np.where(np.isnan(timestamps), 0.0, timestamps)
    order = np.lexsort((time, codes))
    sorted_codes = codes[order]
    same = sorted_codes[1:] == sorted_codes[:-1]
    longest = np.zeros(len(names))
    np.maximum.at(longest, sorted_codes[1:][same], np.diff(time[order])[same])
    return longest[codes]


def group_matches(matches: Sequence,
                  steps: Optional[np.ndarray] = None,
                  max_gap: Optional[float] = None) -> List[Appearance]:
    """Group the search matches of one query into appearances.

    Args:
        matches (Sequence[SearchMatch]): One query's matches (any order).
        steps (np.ndarray, optional): Sampling step of each image of the
            index the matches come from, (N, ) (:func:`sampling_steps`);
            read when ``max_gap`` is None.
        max_gap (float, optional): Largest time between two matched frames
            of an appearance, in seconds. Defaults to twice the sampling
            step of each match's video.

    Returns:
        list[Appearance]: See :func:`group_appearances`; ``best_index`` is
        the position of the best match in ``matches``.
    """
    if max_gap is None and steps is None:
        raise ValueError('give max_gap (seconds) or the sampling steps of '
                         'the index')
    images = np.array([m.image_index for m in matches], dtype=np.int64)
    return group_appearances(
        sources=[m.source for m in matches],
        timestamps=np.array([m.timestamp for m in matches], np.float64),
        cameras=[m.camera for m in matches],
        similarities=np.array([m.similarity for m in matches], np.float64),
        boxes=np.array([m.bbox for m in matches], np.float64).reshape(-1, 4),
        keys=[m.image_path for m in matches],
        max_gap=max_gap,
        sampling_step=None
        if max_gap is not None else np.asarray(steps)[images])


def camera_timelines(
        appearances: Sequence[Appearance]
) -> Dict[Optional[str], CameraTimeline]:
    """Per camera, when the appearances happened.

    Args:
        appearances (Sequence[Appearance]): From :func:`group_appearances`.

    Returns:
        dict[str | None, CameraTimeline]: By camera name (None last).
    """
    by_camera: Dict[Optional[str], list] = {}
    for appearance in appearances:
        by_camera.setdefault(appearance.camera, []).append(appearance)
    timelines = {}
    for camera in sorted(by_camera, key=lambda c: (c is None, c or '')):
        videos = [a for a in by_camera[camera] if not np.isnan(a.start)]
        intervals = sorted(Interval(a.start, a.end, a.source) for a in videos)
        timelines[camera] = CameraTimeline(
            intervals=intervals,
            total_seconds=float(sum(i.end - i.start for i in intervals)),
            num_stills=len(by_camera[camera]) - len(videos))
    return timelines


def format_clock(seconds: float) -> str:
    """``h:mm:ss.s`` of a time in seconds; ``-`` for a still (NaN)."""
    if seconds != seconds:
        return '-'
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f'{hours}:{minutes:02d}:{secs:04.1f}'


def _seconds_or_none(seconds: float) -> Optional[float]:
    """A time for JSON: None for a still's NaN."""
    return None if math.isnan(seconds) else float(seconds)


def appearance_record(appearance: Appearance) -> dict:
    """An appearance as plain JSON types, for other programs.

    Times are seconds from the start of the video, ``None`` for a still
    image; boxes are ``[x1, y1, x2, y2]`` in pixels of the frame.

    Args:
        appearance (Appearance): The appearance.

    Returns:
        dict: ``camera``, ``source``, ``start``, ``end``, ``num_frames``,
        ``best`` (``key``, ``timestamp``, ``box``, ``similarity``) and
        ``matches`` (per match, by time: ``key``, ``box``,
        ``similarity``).
    """
    return dict(
        camera=appearance.camera,
        source=appearance.source,
        start=_seconds_or_none(appearance.start),
        end=_seconds_or_none(appearance.end),
        num_frames=int(appearance.num_frames),
        best=dict(
            key=appearance.best_key,
            timestamp=_seconds_or_none(appearance.best_timestamp),
            box=[float(v) for v in appearance.best_box],
            similarity=float(appearance.best_similarity)),
        matches=[
            dict(key=key, box=[float(v) for v in box],
                 similarity=float(sim)) for key, box, sim in zip(
                     appearance.match_keys, appearance.match_boxes,
                     appearance.match_similarities)
        ])
