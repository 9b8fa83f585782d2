# Copyright (c) mmps contributors. All rights reserved.
from .person_search import QUERY_KEY, PersonSearch, is_query

__all__ = ['QUERY_KEY', 'PersonSearch', 'is_query']
