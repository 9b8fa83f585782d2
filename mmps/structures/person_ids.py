# Copyright (c) mmps contributors. All rights reserved.
"""Person ids as they travel from the datasets to the models and metrics.

Every dataset maps the identities it trains on to ``0..L-1`` (the rows of
the OIM lookup table) and marks a person without an identity label, whatever
its raw value in the dataset's files (PRW stores -2), with
:data:`UNLABELED_ID`.
"""

#: ``person_id`` of a person without an identity label.
UNLABELED_ID = -1
