# Copyright (c) mmps contributors. All rights reserved.
import fnmatch
import os.path as osp
from typing import Dict, Mapping, Optional, Sequence

#: Where the camera of a file matched by no user entry comes from.
CAMERA_FROM = ('folder', 'filename', None)


def _entry_kind(entry: str) -> str:
    """``'file'``, ``'folder'`` or ``'pattern'`` (anything else)."""
    if osp.isfile(entry):
        return 'file'
    return 'folder' if osp.isdir(entry) else 'pattern'


def _camera_from_path(path: str, camera_from: Optional[str]) -> Optional[str]:
    """The name of a file's folder, its name without extension, or None."""
    if camera_from == 'folder':
        return osp.basename(osp.dirname(osp.abspath(path)))
    if camera_from == 'filename':
        return osp.splitext(osp.basename(path))[0]
    return None


def assign_cameras(
        sources: Sequence[str],
        cameras: Optional[Mapping[str, str]] = None,
        camera_from: Optional[str] = 'folder') -> Dict[str, Optional[str]]:
    """The camera of each image or video file.

    Each entry of ``cameras`` names a file, a folder (every file below it)
    or a glob pattern (``fnmatch``, where ``*`` also crosses ``/``, matched
    against the path as listed and its absolute path). A file takes the
    camera of the most specific entry matching it: its own path, then the
    deepest folder holding it, then the first matching pattern in the
    mapping's order. A file no entry matches takes its camera from
    ``camera_from``.

    Args:
        sources (Sequence[str]): The files.
        cameras (Mapping[str, str], optional): Camera names by file,
            folder or pattern.
        camera_from (str | None): ``'folder'`` (the name of the file's
            folder: ``site/cam3/0800.mp4`` is on ``cam3``), ``'filename'``
            (its name without extension: ``cam3``) or None (no camera).
            Defaults to ``'folder'``.

    Returns:
        dict[str, str | None]: The camera of each source.

    Raises:
        ValueError: If ``camera_from`` is not one of :data:`CAMERA_FROM`,
            a camera name is not a non-empty string, or entries of
            ``cameras`` match no source (all of them named).
    """
    if camera_from not in CAMERA_FROM:
        raise ValueError(f'camera_from must be one of {CAMERA_FROM}, got '
                         f'{camera_from!r}')
    cameras = {str(entry): name for entry, name in (cameras or {}).items()}
    bad = [
        entry for entry, name in cameras.items()
        if not name or not isinstance(name, str)
    ]
    if bad:
        raise ValueError('camera names must be non-empty strings; '
                         f'the entries {bad} map to '
                         f'{[cameras[entry] for entry in bad]}')
    kinds = {entry: _entry_kind(entry) for entry in cameras}
    files = {osp.abspath(e): e for e, kind in kinds.items() if kind == 'file'}
    # deepest first, so the first folder holding a file is the most specific
    folders = sorted(((osp.join(osp.abspath(e), ''), e)
                      for e, kind in kinds.items() if kind == 'folder'),
                     key=lambda item: -len(item[0]))
    patterns = [e for e, kind in kinds.items() if kind == 'pattern']
    assigned, used = {}, set()
    for source in sources:
        absolute = osp.abspath(source)
        matching = [files[absolute]] if absolute in files else []
        matching += [e for folder, e in folders if absolute.startswith(folder)]
        matching += [
            e for e in patterns if fnmatch.fnmatchcase(source, e)
            or fnmatch.fnmatchcase(absolute, e)
        ]
        used.update(matching)
        assigned[source] = cameras[matching[0]] if matching else \
            _camera_from_path(source, camera_from)
    unused = [entry for entry in cameras if entry not in used]
    if unused:
        raise ValueError(f'the camera entries {unused} match none of the '
                         f'{len(sources)} gallery files (each must be one of '
                         'them, a folder holding some, or a glob pattern '
                         'matching some)')
    return assigned
