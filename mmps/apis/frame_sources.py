# Copyright (c) mmps contributors. All rights reserved.
"""The frames of a gallery of images, videos and folders, read lazily.

Videos are decoded with OpenCV's ``cv2.VideoCapture`` (FFmpeg backend),
read strictly sequentially: ``grab()`` for every frame, ``retrieve()`` only
for the sampled ones. mmcv's ``VideoReader`` wraps the same capture, but it
has no ``grab()`` (every skipped frame would be converted to BGR and
copied, or reached by ``CAP_PROP_POS_FRAMES`` seeks, which its docstring
calls inaccurate and which it only corrects forwards), it caches decoded
frames, and its ``read()`` returns ``None`` both at the end of a video and
on a decoding error, so a truncated file cannot be told from a short one.
Counting ``grab()`` calls makes each frame number the exact number of
frames decoded before it, whatever the container's seek accuracy.

Timestamps are ``frame / fps`` with the container's frame rate: exact for
constant-frame-rate footage (what cameras record), approximate for
variable-frame-rate files. PyAV would give each frame's presentation time,
but it is not a dependency of mmps, and OpenCV's capture does not expose
the time base.
"""
import copy
import math
import os
import os.path as osp
import sys
from pathlib import Path
from typing import (AbstractSet, Dict, Iterator, Mapping, NamedTuple, Optional,
                    Sequence, TextIO, Tuple, Union)

import cv2
import mmcv
import numpy as np
from mmengine.utils import track_iter_progress

from .cameras import assign_cameras
from .media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, frame_key, is_video

PathLike = Union[str, Path]


class Frame(NamedTuple):
    """One frame to index: a sampled video frame or a still image.

    Attributes:
        source (str): The video or image file.
        frame (int): 0-based frame number in the video; -1 for a still.
        timestamp (float): Seconds from the video's start, ``frame / fps``
            with the container's frame rate; NaN for a still.
        camera (str | None): The camera that recorded it (see
            :func:`mmps.apis.cameras.assign_cameras`).
        image (np.ndarray): The pixels, (H, W, 3) BGR uint8.
        key (str): Its identity in an index: ``video.mp4#frame=000123``
            for a video frame, the path for a still (see :func:`frame_key`).
    """
    source: str
    frame: int
    timestamp: float
    camera: Optional[str]
    image: np.ndarray
    key: str


def list_frame_sources(inputs: Union[PathLike, Sequence[PathLike]]) -> list:
    """The image and video files of a mixed list of files and folders.

    Args:
        inputs (str | Path | Sequence): Image files, video files and
            folders (their images and videos, sub-folders included, sorted
            by path), in any mix.

    Returns:
        list[str]: The files, in the given order, each once, as normalised
        paths (``os.path.normpath``: ``cam1//a.mp4`` and ``./cam1/a.mp4``
        are ``cam1/a.mp4``), so that the keys of a file do not depend on
        how it was named.

    Raises:
        FileNotFoundError: If an input does not exist.
        ValueError: If a file is neither an image nor a video by its name,
            or a folder holds none.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    extensions = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS
    kinds = (f'images ({", ".join(IMAGE_EXTENSIONS)}) or videos '
             f'({", ".join(VIDEO_EXTENSIONS)})')
    sources = []
    for item in map(osp.normpath, map(str, inputs)):
        if osp.isdir(item):
            found = sorted(
                osp.join(root, name) for root, _, names in os.walk(item)
                for name in names if name.lower().endswith(extensions))
            if not found:
                raise ValueError(f'no {kinds} in the folder {item}')
            sources.extend(found)
        elif osp.isfile(item):
            if not item.lower().endswith(extensions):
                raise ValueError(f'{item} is not one of the {kinds}')
            sources.append(item)
        else:
            raise FileNotFoundError(f'gallery input {item} does not exist')
    return list(dict.fromkeys(sources))


def check_sampling(fps: Optional[float], stride: Optional[int]) -> None:
    """Raise a ValueError unless exactly one valid sampling is given."""
    if (fps is None) == (stride is None):
        raise ValueError('give exactly one of fps= (frames per second to '
                         'sample) and stride= (every n-th frame) to sample '
                         f'videos, got fps={fps}, stride={stride}')
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f'fps must be a positive number, got {fps}')
    if stride is not None and not (isinstance(stride, (int, np.integer))
                                   and stride >= 1):
        raise ValueError(f'stride must be a positive integer, got {stride}')


def is_sampled(frames: Union[int, np.ndarray],
               video_fps: float,
               fps: Optional[float] = None,
               stride: Optional[int] = None) -> np.ndarray:
    """Whether frames are sampled: every ``stride``-th, or ``fps`` a second.

    At ``fps``, a frame is sampled when it is the first of a period of
    ``1 / fps`` seconds (periods counted from frame 0); every frame is
    sampled when ``fps`` is at least the video's frame rate.

    Args:
        frames (int | np.ndarray): Frame numbers, any shape.
        video_fps (float): The video's frame rate.
        fps (float, optional): Frames to sample per second.
        stride (int, optional): Sample every ``stride``-th frame.

    Returns:
        np.ndarray: Bool, the shape of ``frames``.
    """
    frames = np.asarray(frames, dtype=np.int64)
    if stride is not None:
        return frames % stride == 0
    # the epsilon keeps a period boundary that falls on a frame exactly
    # (e.g. 30 fps sampled at 3 fps) from rounding to the frame before
    period = np.floor(frames * (fps / video_fps) + 1e-9)
    before = np.floor((frames - 1) * (fps / video_fps) + 1e-9)
    return (frames == 0) | (period > before)


def sampling_step(video_fps: float,
                  fps: Optional[float] = None,
                  stride: Optional[int] = None) -> float:
    """Longest time between two consecutive sampled frames, in seconds.

    Args:
        video_fps (float): The video's frame rate.
        fps (float, optional): Frames sampled per second.
        stride (int, optional): Every ``stride``-th frame sampled.

    Returns:
        float: ``stride / video_fps``, or ``ceil(video_fps / fps) /
        video_fps`` (at least one frame).
    """
    if stride is not None:
        return stride / video_fps
    return max(1, math.ceil(video_fps / fps)) / video_fps


class FrameSources:
    """The frames to index of image files, video files and folders.

    Iterating yields :class:`Frame` records lazily, source after source:
    every still image, and the sampled frames of every video. At most one
    decoded frame per source is held at a time. Files that cannot be read
    are not raised but recorded in :attr:`report`, like
    :attr:`GalleryIndex.skipped`; read it after the iteration::

        frames = FrameSources(['cam1/', 'cam2/day2.mp4'], fps=2)
        for frame in track_frames(frames):
            ...
        frames.report  # {'cam2/day2.mp4': 'frames stop ... from frame 830'}

    Args:
        inputs (str | Path | Sequence): Image files, video files
            (:data:`VIDEO_EXTENSIONS`, in any case) and folders, mixed
            (see :func:`list_frame_sources`).
        fps (float, optional): Frames to sample per second of video, by the
            container's frame rate.
        stride (int, optional): Sample every ``stride``-th frame instead.
            Exactly one of ``fps`` and ``stride`` is required when there are
            videos; stills ignore both.
        cameras (Mapping[str, str], optional): Camera names by file, folder
            or glob pattern (see :func:`mmps.apis.cameras.assign_cameras`).
        camera_from (str | None): The camera of a file no entry of
            ``cameras`` matches: ``'folder'`` (the name of its folder),
            ``'filename'`` (its name without extension) or None.
            Defaults to ``'folder'``.
        skip (AbstractSet[str], optional): Keys (:func:`frame_key`) of frames
            indexed already; they are grabbed, not converted or yielded, and
            a video whose sampled frames are all in it is not read at all.

    Attributes:
        sources (list[str]): The image and video files, in order.
        cameras (dict[str, str | None]): The camera of each source.
        report (dict[str, str]): Files that could not be (fully) read, with
            the reason; complete once an iteration has ended.
        sampling_steps (dict[str, float]): Per video opened so far, the
            longest time between sampled frames (:func:`sampling_step`).

    Raises:
        FileNotFoundError: If an input does not exist.
        ValueError: For a file that is neither an image nor a video, a
            folder without either, videos without exactly one of ``fps``
            and ``stride``, or a ``cameras`` entry that matches no file.
    """

    def __init__(self,
                 inputs: Union[PathLike, Sequence[PathLike]],
                 fps: Optional[float] = None,
                 stride: Optional[int] = None,
                 cameras: Optional[Mapping[str, str]] = None,
                 camera_from: Optional[str] = 'folder',
                 skip: Optional[AbstractSet[str]] = None) -> None:
        self.sources = list_frame_sources(inputs)
        videos = [path for path in self.sources if is_video(path)]
        if videos or fps is not None or stride is not None:
            try:
                check_sampling(fps, stride)
            except ValueError as error:
                where = f' (videos: {videos[0]}, ...)' if videos else ''
                raise ValueError(f'{error}{where}') from None
        self.fps = fps
        self.stride = stride
        self.cameras = assign_cameras(self.sources, cameras, camera_from)
        self.skip = frozenset(skip or ())
        self.report: Dict[str, str] = {}
        self.sampling_steps: Dict[str, float] = {}

    def select(self, sources: Sequence[str]) -> 'FrameSources':
        """The same reading of some of the sources, e.g. one process's share.

        Args:
            sources (Sequence[str]): Some of :attr:`sources`, in the order
                to read them.

        Returns:
            FrameSources: A reader of those sources with this one's
            sampling, cameras and ``skip``, and an empty report.

        Raises:
            ValueError: If a source is not one of :attr:`sources`.
        """
        unknown = [s for s in sources if s not in self.cameras]
        if unknown:
            raise ValueError(f'{unknown[0]} is not one of the sources')
        selected = copy.copy(self)
        selected.sources = list(sources)
        selected.report = {}
        selected.sampling_steps = {}
        return selected

    def shard(self, rank: int, world_size: int) -> 'FrameSources':
        """One process's share of the sources, for indexing in parallel.

        The sources are cut into ``world_size`` consecutive runs of about
        equal numbers of frames to read (:meth:`count_frames`; by number of
        sources when there is nothing to count): a source goes to the
        process whose share holds the middle of its frames. Shares in rank
        order are the sources in order, so indexes of the shares appended
        in rank order equal the index of all sources.

        Args:
            rank (int): This process, in ``[0, world_size)``.
            world_size (int): Number of processes.

        Returns:
            FrameSources: See :meth:`select`; possibly without sources.
        """
        if not 0 <= rank < world_size:
            raise ValueError(f'rank must be in [0, {world_size}), got {rank}')
        counts = np.array(list(self.count_frames().values()), np.float64)
        if counts.sum() == 0:
            counts = np.ones(len(self.sources))
        middles = np.cumsum(counts) - counts / 2
        owner = np.minimum(
            np.floor(middles * world_size / counts.sum()), world_size - 1)
        return self.select(
            [s for s, o in zip(self.sources, owner) if o == rank])

    def __iter__(self) -> Iterator[Frame]:
        self.report.clear()
        for source in self.sources:
            if not osp.isfile(source):
                raise FileNotFoundError(f'gallery file {source} does not '
                                        'exist (any more)')
            if is_video(source):
                yield from self.video_frames(source)
            elif source not in self.skip:
                image = mmcv.imread(source)
                if image is None:
                    self.report[source] = 'cannot be decoded as an image'
                    continue
                yield Frame(source, -1, math.nan, self.cameras[source], image,
                            source)

    def _open(self, source: str) -> tuple:
        """The capture, frame rate and frame count of a video, or the reason
        it cannot be read.

        Returns:
            tuple: ``(capture, video_fps, count, None)``, the count being the
            container's (-1 if unknown); ``(None, nan, 0, reason)`` for a
            file that cannot be opened or has no frame rate.
        """
        capture = cv2.VideoCapture(source)
        video_fps = capture.get(cv2.CAP_PROP_FPS)
        if not capture.isOpened():
            reason = 'cannot be opened as a video'
        elif not (math.isfinite(video_fps) and video_fps > 0):
            reason = f'has no frame rate (fps {video_fps}) to time its frames'
        else:
            self.sampling_steps[source] = sampling_step(
                video_fps, self.fps, self.stride)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            return capture, video_fps, count if count > 0 else -1, None
        capture.release()
        return None, math.nan, 0, reason

    def _num_to_read(self, source: str, video_fps: float, count: int) -> int:
        """The number of sampled frames of a video not in ``skip``."""
        frames = np.flatnonzero(
            is_sampled(np.arange(count), video_fps, self.fps, self.stride))
        if not self.skip:
            return len(frames)
        return sum(frame_key(source, i) not in self.skip for i in frames)

    def video_frames(self, source: str) -> Iterator[Frame]:
        """The sampled frames of one video not in ``skip``, decoded one at a
        time; why the rest could not be read is in ``report[source]``."""
        capture, video_fps, count, reason = self._open(source)
        if capture is None:
            self.report[source] = reason
            return
        try:
            if count > 0 and not self._num_to_read(source, video_fps, count):
                return
            frame, decoded = 0, True
            while capture.grab():
                key = frame_key(source, frame)
                if (is_sampled(frame, video_fps, self.fps, self.stride)
                        and key not in self.skip):
                    decoded, image = capture.retrieve()
                    if not decoded:
                        break
                    yield Frame(source, frame, frame / video_fps,
                                self.cameras[source], image, key)
                frame += 1
            if not decoded or frame < count:
                announced = f' of the {count} its container announces' \
                    if count > 0 else ''
                self.report[source] = ('truncated or corrupt: frames stop '
                                       f'decoding from frame {frame}'
                                       f'{announced}')
        finally:
            capture.release()

    def count_frames(self) -> Dict[str, int]:
        """The number of frames to read of each source, for a progress bar.

        Opens each video for its frame rate and frame count (from its
        container's header, or estimated from its duration): the count is
        of the sampled frames not in ``skip``; 1 or 0 for a still; 0 for a
        video that cannot be opened or has no frame count. A truncated
        video yields fewer.

        Returns:
            dict[str, int]: Frames per source.
        """
        counts = {}
        for source in self.sources:
            if not is_video(source):
                counts[source] = int(source not in self.skip)
                continue
            capture, video_fps, count, _ = self._open(source)
            counts[source] = 0
            if capture is not None:
                capture.release()
                if count > 0:
                    counts[source] = self._num_to_read(source, video_fps,
                                                       count)
        return counts


def read_frame(video: str, frame: int) -> np.ndarray:
    """One frame of a video, e.g. to draw a match.

    Args:
        video (str): The video file.
        frame (int): The frame number, from 0 (see :func:`read_frames`).

    Returns:
        np.ndarray: The frame, (H, W, 3) BGR uint8.

    Raises:
        OSError: If the video cannot be opened or has no such frame.
    """
    for _, image in read_frames(video, frame, frame):
        return image
    raise OSError(f'cannot decode frame {frame} of {video}')


def read_frames(video: str, first: int,
                last: int) -> Iterator[Tuple[int, np.ndarray]]:
    """Frames ``first`` to ``last`` of a video, decoded in one pass.

    Seeks to ``first`` with ``CAP_PROP_POS_FRAMES`` and checks where the
    capture landed; where the container cannot seek exactly, the frame is
    reached by grabbing from the start, so frame numbers are those of
    :class:`FrameSources`' count. Then reads on, one frame after the other.

    Args:
        video (str): The video file.
        first (int): The first frame, from 0.
        last (int): The last frame (included).

    Yields:
        tuple[int, np.ndarray]: Each frame's number and pixels, (H, W, 3)
        BGR uint8; fewer than asked when the video ends (or stops
        decoding) before ``last``.

    Raises:
        OSError: If the video cannot be opened.
    """
    capture = cv2.VideoCapture(video)
    try:
        if not capture.isOpened():
            raise OSError(f'cannot open the video {video}')
        if first > 0 and not (capture.set(cv2.CAP_PROP_POS_FRAMES, first) and
                              capture.get(cv2.CAP_PROP_POS_FRAMES) == first):
            capture.release()
            capture = cv2.VideoCapture(video)
            for _ in range(first):
                if not capture.grab():
                    return
        for number in range(first, last + 1):
            decoded, image = capture.read()
            if not decoded:
                return
            yield number, image
    finally:
        capture.release()


def track_frames(frames: FrameSources,
                 file: Optional[TextIO] = None) -> Iterator[Frame]:
    """Iterate over frames with mmengine's progress bar.

    The bar counts frames (done, frames per second, elapsed time and ETA)
    towards the total of :meth:`FrameSources.count_frames`.

    Args:
        frames (FrameSources): The frames.
        file (TextIO, optional): Where the bar is written. Defaults to
            ``sys.stdout``.

    Yields:
        Frame: The frames of ``frames``, in order.
    """
    total = sum(frames.count_frames().values())
    yield from track_iter_progress((frames, total), file=file or sys.stdout)
