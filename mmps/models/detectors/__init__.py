# Copyright (c) mmps contributors. All rights reserved.
from .nae import NAE
from .person_search import QUERY_KEY, PersonSearch, is_query
from .seqnet import SeqNet

__all__ = ['NAE', 'QUERY_KEY', 'PersonSearch', 'SeqNet', 'is_query']
