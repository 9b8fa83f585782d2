# Copyright (c) mmps contributors. All rights reserved.
from .dump_search_results import DumpSearchResults
from .person_search_metric import PersonSearchMetric, make_record
from .search_protocols import SearchSetting, build_settings

__all__ = [
    'DumpSearchResults', 'PersonSearchMetric', 'SearchSetting',
    'build_settings', 'make_record'
]
