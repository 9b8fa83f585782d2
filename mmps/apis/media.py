# Copyright (c) mmps contributors. All rights reserved.
"""What a gallery file is (image or video) and how a frame is named."""
from typing import Tuple

#: File name endings (in any case) read as still images.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: File name endings (in any case) read as videos.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.m4v', '.mpg', '.mpeg',
                    '.webm', '.ts')
#: Separates a video's path from the frame number in a frame key.
FRAME_KEY_SEPARATOR = '#frame='


def is_video(path: str) -> bool:
    """Whether a file name ends with one of :data:`VIDEO_EXTENSIONS`."""
    return path.lower().endswith(VIDEO_EXTENSIONS)


def frame_key(source: str, frame: int) -> str:
    """The key of an indexed image: ``video.mp4#frame=000123``, or the path.

    A frame of a video has no file of its own, so it is named by its video
    and frame number, zero-padded to six digits (wider when larger) so that
    the keys of one video sort in frame order up to a million frames. A
    still image (frame -1) is named by its path.

    Args:
        source (str): The video or image file.
        frame (int): The frame number from 0, or -1 for a still image.

    Returns:
        str: The key.
    """
    frame = int(frame)
    return source if frame < 0 else f'{source}{FRAME_KEY_SEPARATOR}{frame:06d}'


def split_frame_key(key: str) -> Tuple[str, int]:
    """The ``(source, frame)`` of a frame key; frame -1 for a still."""
    source, separator, frame = key.rpartition(FRAME_KEY_SEPARATOR)
    if separator and frame.isdigit():
        return source, int(frame)
    return key, -1
