# Copyright (c) mmps contributors. All rights reserved.
import json
import os
import os.path as osp
from typing import List, Optional

from .search_visualizer import PersonSearchVisualizer


def draw_worst_queries(worst_queries_file: str,
                       out_dir: str,
                       visualizer: Optional[PersonSearchVisualizer] = None,
                       top_k: int = 10) -> List[str]:
    """Draw each query of a worst-queries JSON beside its top matches.

    The JSON is the one :class:`~mmps.evaluation.PersonSearchMetric` writes
    with ``worst_queries_file`` (``tools/test.py --show-dir``). Matches are
    framed green or red by the protocol's verdict.

    Args:
        worst_queries_file (str): The JSON file.
        out_dir (str): Folder of the pictures, one per query, named
            ``{rank:03d}_query{query_index}.jpg`` from the worst query on.
        visualizer (PersonSearchVisualizer, optional): The drawer; a
            default one when None.
        top_k (int): Matches drawn per query. Defaults to 10.

    Returns:
        list[str]: The written files.
    """
    with open(worst_queries_file) as f:
        queries = json.load(f)['queries']
    if visualizer is None:
        visualizer = PersonSearchVisualizer.get_instance('mmps_worst_queries')
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for rank, query in enumerate(queries):
        top = query['top'][:top_k]
        out_file = osp.join(out_dir,
                            f'{rank:03d}_query{query["query_index"]}.jpg')
        visualizer.add_search(
            f'query {query["query_index"]}',
            query['img_path'],
            query['bbox'], [match['img_path'] for match in top],
            [match['bbox']
             for match in top], [match['score'] for match in top],
            [match['correct'] for match in top],
            out_file=out_file)
        files.append(out_file)
    return files
