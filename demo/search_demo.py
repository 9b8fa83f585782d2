# Copyright (c) mmps contributors. All rights reserved.
"""Find a query person in a folder of images and draw the best matches.

Example::

    python demo/search_demo.py query.jpg --box 120 40 180 220 gallery/ \\
        configs/oim/oim_r18-w32-c4_1xb4-16e_synthetic.py epoch_16.pth \\
        --out result.jpg --index gallery_index
"""
import argparse
import os.path as osp

from mmengine.logging import print_log

from mmps.apis import GalleryIndex
from mmps.apis.command_line import (add_match_arguments, add_query_arguments,
                                    add_runtime_arguments, save_if_grown,
                                    searcher_from_args)
from mmps.utils.warning_filters import ignore_pkg_resources_warning
from mmps.visualization import PersonSearchVisualizer

ignore_pkg_resources_warning()


def parse_args():
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_query_arguments(parser)
    parser.add_argument('gallery', help='folder of gallery images')
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='the model checkpoint')
    parser.add_argument(
        '--out', default='search_result.jpg', help='the picture to write')
    parser.add_argument(
        '--index',
        help='folder of a gallery index: loaded if it exists (images of the '
        'gallery folder not in it are added; an index that lists images '
        'outside the gallery folder is refused), written otherwise')
    parser.add_argument('--top-k', type=int, default=10)
    add_match_arguments(parser)
    add_runtime_arguments(parser)
    parser.add_argument(
        '--panel-height',
        type=int,
        default=256,
        help='height of the drawn query and matches')
    return parser.parse_args()


def load_index(path: str, gallery: str) -> GalleryIndex:
    """Load a gallery index whose images all lie in the gallery folder.

    The matches are drawn by reading their image files: an index that
    lists files elsewhere (e.g. edited to name ``/etc/passwd`` or
    ``../x.jpg``) would make the demo read them, so it is refused.
    """
    index = GalleryIndex.load(path)
    outside = index.paths_outside(gallery)
    if outside:
        listing = '\n'.join(f'  {p}' for p in outside[:10])
        more = f'\n  ... and {len(outside) - 10} more' \
            if len(outside) > 10 else ''
        raise SystemExit(
            f'the gallery index {path} lists {len(outside)} images outside '
            f'the gallery folder {gallery}; the demo reads the images of '
            f'the matches, so it uses only an index of that folder. Pass '
            f'the folder the index was built from, or another --index '
            f'folder:\n{listing}{more}')
    print_log(f'loaded {index} from {path}', logger='current')
    return index


def main():
    """Index the gallery (or load its index), search, print and draw."""
    args = parse_args()
    index = None
    if args.index and osp.isfile(osp.join(args.index, 'index.json')):
        index = load_index(args.index, args.gallery)
    searcher = searcher_from_args(args)
    grown = searcher.build_index(args.gallery, index=index)
    save_if_grown(index, grown, args.index)

    matches = searcher.search(
        args.query,
        args.box,
        grown,
        top_k=args.top_k,
        score_thr=args.score_thr,
        min_similarity=args.min_similarity)
    print(f'{len(matches)} matches for {args.query} {args.box}:')
    for rank, match in enumerate(matches, 1):
        box = ' '.join(f'{v:.1f}' for v in match.bbox)
        print(f'{rank:3d}  similarity {match.similarity:.4f}  score '
              f'{match.score:.3f}  {match.image_path}  [{box}]')

    visualizer = PersonSearchVisualizer(panel_height=args.panel_height)
    visualizer.add_search(
        'search',
        args.query,
        args.box, [m.image_path for m in matches], [m.bbox for m in matches],
        [m.similarity for m in matches],
        out_file=args.out)
    print(f'drew the matches in {args.out}')


if __name__ == '__main__':
    main()
