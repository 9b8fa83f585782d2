# Copyright (c) mmps contributors. All rights reserved.
"""What mmps expects of an embedding."""

#: Largest accepted deviation of an embedding's L2 norm from 1 (the
#: predictions the metric scores, the embeddings a gallery index holds).
NORM_TOLERANCE = 1e-3
