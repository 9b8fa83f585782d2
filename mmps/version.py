# Copyright (c) mmps contributors. All rights reserved.
__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string into a tuple of ints and strings.

    Args:
        version_str (str): The version string, e.g. ``'0.1.0rc1'``.

    Returns:
        tuple: The version info, e.g. ``(0, 1, 0, 'rc1')``.
    """
    version_info = []
    for part in version_str.split('.'):
        if part.isdigit():
            version_info.append(int(part))
        elif 'rc' in part:
            major, rc = part.split('rc')
            version_info.append(int(major))
            version_info.append(f'rc{rc}')
    return tuple(version_info)


version_info = parse_version_info(__version__)
