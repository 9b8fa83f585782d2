# Copyright (c) mmps contributors. All rights reserved.
"""A short video of an appearance: its footage, the matched box drawn."""
import math
import os.path as osp
from typing import NamedTuple, Tuple

import cv2
import numpy as np

from mmps.apis.appearances import Appearance, format_clock
from mmps.apis.frame_sources import read_frames
from mmps.apis.media import split_frame_key
from mmps.utils.atomic_write import atomic_path
from .search_visualizer import PersonSearchVisualizer

#: OpenCV codec of a clip by its file name's ending (both are in the
#: FFmpeg that OpenCV's wheels carry; H.264 encoders are not).
CLIP_CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}


class AppearanceClip(NamedTuple):
    """A clip written of an appearance.

    Attributes:
        path (str): The clip file.
        first_frame (int): The video's frame the clip starts with.
        last_frame (int): The video's frame it ends with (included).
        fps (float): The video's frame rate, which the clip keeps.
        cut (bool): Whether the clip was cut to its longest length, so
            that it shows less than the appearance and its margins.
    """
    path: str
    first_frame: int
    last_frame: int
    fps: float
    cut: bool

    @property
    def num_frames(self) -> int:
        """Frames in the clip."""
        return self.last_frame - self.first_frame + 1


def clip_span(first_match: int, last_match: int, best_frame: int,
              video_fps: float, num_frames: int, margin: float,
              max_seconds: float) -> Tuple[int, int, bool]:
    """The frames a clip of an appearance shows.

    From ``margin`` seconds (rounded to frames) before its first matched
    frame to as long after its last, within the video. A span longer than
    ``max_seconds`` is cut to that length around the best frame (centred
    on it where the span allows).

    Args:
        first_match (int): First matched frame of the appearance.
        last_match (int): Its last matched frame.
        best_frame (int): Its best frame.
        video_fps (float): The video's frame rate.
        num_frames (int): Frames in the video; 0 or less if unknown (the
            end is then not clamped; the clip ends where the video does).
        margin (float): Seconds shown before and after, >= 0.
        max_seconds (float): Longest clip in seconds, > 0 (at least one
            frame).

    Returns:
        tuple[int, int, bool]: The first and last frame (included) and
        whether the span was cut.
    """
    pad = int(round(margin * video_fps))
    first = max(0, first_match - pad)
    last = last_match + pad
    if num_frames > 0:
        last = min(last, num_frames - 1)
    longest = max(1, int(math.floor(max_seconds * video_fps + 1e-9)))
    if last - first + 1 <= longest:
        return first, last, False
    first = min(
        max(first, best_frame - (longest - 1) // 2), last - longest + 1)
    return first, first + longest - 1, True


def nearest_matched(frames: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """Per frame, the nearest matched frame within the matched run.

    Args:
        frames (np.ndarray): Frame numbers, (F, ).
        matched (np.ndarray): The matched frames, sorted, distinct, (M, ),
            M >= 1.

    Returns:
        np.ndarray: Per frame, the position in ``matched`` of the nearest
        matched frame (of two equally near, the earlier); -1 for a frame
        before the first or after the last matched frame. (F, ) int64.
    """
    frames = np.asarray(frames, dtype=np.int64)
    matched = np.asarray(matched, dtype=np.int64)
    after = np.searchsorted(matched, frames)
    right = np.minimum(after, len(matched) - 1)
    left = np.maximum(after - 1, 0)
    nearest = np.where(matched[right] - frames < frames - matched[left], right,
                       left)
    outside = (frames < matched[0]) | (frames > matched[-1])
    return np.where(outside, -1, nearest)


def clip_labels(appearance: Appearance, title: str, frames: np.ndarray,
                matched: np.ndarray, nearest: np.ndarray,
                best_similarity: np.ndarray, video_fps: float) -> list:
    """The text on each frame of a clip.

    Args:
        appearance (Appearance): The appearance (its camera).
        title (str): Text before the camera, e.g. the rank.
        frames (np.ndarray): The clip's frame numbers, (F, ).
        matched (np.ndarray): The appearance's matched frames, (M, ).
        nearest (np.ndarray): Per frame, the matched frame whose boxes it
            shows, as a position in ``matched`` or -1 (none), (F, ).
        best_similarity (np.ndarray): Best similarity of each matched
            frame, (M, ).
        video_fps (float): The video's frame rate.

    Returns:
        list[str]: Per frame: the title, camera and time, then the
        similarity of the boxes shown, and the time of their frame when
        that is another one.
    """
    head = ' '.join(part for part in (title, appearance.camera) if part)
    labels = []
    for frame, which in zip(frames, nearest):
        label = f'{head} {format_clock(frame / video_fps)}'.strip()
        if which >= 0:
            label += f' {best_similarity[which]:.3f}'
            if matched[which] != frame:
                held_at = format_clock(matched[which] / video_fps)
                label += f' (box of {held_at})'
        labels.append(label)
    return labels


def write_appearance_clip(appearance: Appearance,
                          out_file: str,
                          visualizer: PersonSearchVisualizer,
                          margin: float = 1.0,
                          max_seconds: float = 30.0,
                          title: str = '') -> AppearanceClip:
    """Write a clip of an appearance's video, its matched box drawn.

    Every frame of the span (:func:`clip_span`) is decoded and written, in
    one pass (:func:`~mmps.apis.frame_sources.read_frames`), at the video's
    frame rate and size. Each frame is labelled in its top-left corner with
    ``title``, the camera and its time. Between the first and the last
    matched frame, every frame shows the boxes of the nearest matched frame
    (sampled frames are far apart only at low sampling rates, and a box
    that stays put between them is easier to follow than one that
    flickers) with its best similarity; a frame that is not itself matched
    names the time of the frame whose box it shows. The margins show no
    box. The file appears only once complete (written under a temporary
    name in its folder, then renamed).

    Args:
        appearance (Appearance): An appearance in a video.
        out_file (str): The clip, ``.mp4`` (MPEG-4 part 2) or ``.avi``
            (motion JPEG); its folder is created if missing.
        visualizer (PersonSearchVisualizer): The drawer (boxes in its
            ``unknown_color``, as on the pictures of matches).
        margin (float): Seconds of footage before the first and after the
            last matched frame. Defaults to 1.
        max_seconds (float): Longest clip, in seconds. Defaults to 30.
        title (str): Text before the camera's name, e.g. the rank.

    Returns:
        AppearanceClip: What was written. A video that stops decoding
        before the span's end gives a shorter clip.

    Raises:
        ValueError: For an appearance in a still image, a file name
            without a known ending, or a negative margin or non-positive
            length.
        OSError: If the video cannot be read or the clip cannot be written.
    """
    if math.isnan(appearance.start):
        raise ValueError(f'{appearance.source} is a still image: an '
                         'appearance in it has no clip')
    extension = osp.splitext(out_file)[1].lower()
    if extension not in CLIP_CODECS:
        raise ValueError(f'clip {out_file}: the name must end with one of '
                         f'{", ".join(CLIP_CODECS)}')
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f'margin must be >= 0 seconds, got {margin}')
    if not (math.isfinite(max_seconds) and max_seconds > 0):
        raise ValueError(f'max_seconds must be > 0, got {max_seconds}')
    capture = cv2.VideoCapture(appearance.source)
    video_fps = capture.get(cv2.CAP_PROP_FPS)
    num_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    opened = capture.isOpened()
    capture.release()
    if not opened or not (math.isfinite(video_fps) and video_fps > 0):
        raise OSError(f'cannot read the video {appearance.source} (or its '
                      'frame rate) for a clip')

    match_frames = np.array(
        [split_frame_key(key)[1] for key in appearance.match_keys])
    matched, match_of = np.unique(match_frames, return_inverse=True)
    best_similarity = np.full(len(matched), -np.inf)
    np.maximum.at(best_similarity, match_of, appearance.match_similarities)
    first, last, cut = clip_span(
        int(matched[0]), int(matched[-1]),
        split_frame_key(appearance.best_key)[1], video_fps, num_frames, margin,
        max_seconds)
    frames = np.arange(first, last + 1)
    nearest = nearest_matched(frames, matched)
    labels = clip_labels(appearance, title, frames, matched, nearest,
                         best_similarity, video_fps)

    written = first - 1
    with atomic_path(out_file, suffix=extension) as tmp:
        writer = None
        try:
            for number, image in read_frames(appearance.source, first, last):
                if writer is None:
                    writer = cv2.VideoWriter(
                        tmp, cv2.VideoWriter_fourcc(*CLIP_CODECS[extension]),
                        video_fps, (image.shape[1], image.shape[0]))
                    if not writer.isOpened():
                        raise OSError(
                            f'cannot write the clip {out_file} (OpenCV '
                            f'{CLIP_CODECS[extension]} codec)')
                which = nearest[number - first]
                boxes = appearance.match_boxes[match_of == which]
                drawn = visualizer.draw_overlay(
                    image[..., ::-1],
                    boxes,
                    labels[number - first],
                    visualizer.unknown_color,
                    font_size=max(10, image.shape[0] // 30),
                    margin=4)
                writer.write(np.ascontiguousarray(drawn[..., ::-1]))
                written = number
        finally:
            if writer is not None:
                writer.release()
        if writer is None:
            raise OSError(f'cannot decode frame {first} of '
                          f'{appearance.source} for the clip {out_file}')
    return AppearanceClip(out_file, first, written, video_fps, cut)
