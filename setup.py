#!/usr/bin/env python
# Copyright (c) mmps contributors. All rights reserved.
import os
import os.path as osp
import platform
import shutil
import sys
import warnings
from setuptools import find_packages, setup


def readme():
    """Read the README for the long description."""
    with open('README.md', encoding='utf-8') as f:
        return f.read()


version_file = 'mmps/version.py'


def get_version():
    """Read ``__version__`` from mmps/version.py without importing mmps."""
    with open(version_file) as f:
        exec(compile(f.read(), version_file, 'exec'))
    return locals()['__version__']


def parse_requirements(fname='requirements.txt', with_version=True):
    """Parse the package dependencies listed in a requirements file.

    Args:
        fname (str): Path to the requirements file.
        with_version (bool): Whether to keep version specifiers.

    Returns:
        list[str]: Requirements, following ``-r`` includes.
    """
    require_fpath = fname

    def parse_line(line):
        if line.startswith('-r '):
            target = osp.join(osp.dirname(fname), line.split(' ')[1])
            yield from parse_require_file(target)
            return
        yield line if with_version else line.split(';')[0].split('<')[0].split(
            '>')[0].split('=')[0].strip()

    def parse_require_file(fpath):
        with open(fpath) as f:
            for line in f.readlines():
                line = line.split('#')[0].strip()
                if line:
                    yield from parse_line(line)

    return list(parse_require_file(require_fpath)) if osp.exists(
        require_fpath) else []


def add_mim_extension():
    """Add extra files that are required to support MIM into the package.

    These files will be added by creating a symlink to the originals if the
    package is installed in `editable` mode (``develop`` of old setuptools,
    or ``editable_wheel`` of PEP 660 installs, which ``pip install -e .``
    runs today), or by copying from the originals otherwise.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        # installed by `pip install -e .`
        mode = 'copy' if platform.system() == 'Windows' else 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        # installed by `pip install .` or creating a source distribution
        mode = 'copy'
    else:
        return

    filenames = ['tools', 'configs', 'demo', 'model-index.yml']
    repo_path = osp.dirname(osp.abspath(__file__))
    mim_path = osp.join(repo_path, 'mmps', '.mim')
    os.makedirs(mim_path, exist_ok=True)

    for filename in filenames:
        src_path = osp.join(repo_path, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)

        if mode == 'symlink':
            src_relpath = osp.relpath(src_path, osp.dirname(tar_path))
            os.symlink(src_relpath, tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        elif osp.isdir(src_path):
            shutil.copytree(src_path, tar_path)
        else:
            warnings.warn(f'Cannot copy file {src_path}.')


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmps',
        version=get_version(),
        description='OpenMMLab person search toolbox (OIM) on MMDetection 3',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='computer vision, person search, re-identification, '
        'object detection',
        packages=find_packages(
            exclude=('configs', 'tools', 'demo', 'tests', 'tests.*')),
        include_package_data=True,
        python_requires='>=3.8',
        classifiers=[
            'Development Status :: 3 - Alpha',
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.11',
        ],
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'all': parse_requirements('requirements.txt'),
            'tests': parse_requirements('requirements/tests.txt'),
            'build': parse_requirements('requirements/build.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'faiss': parse_requirements('requirements/faiss.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
