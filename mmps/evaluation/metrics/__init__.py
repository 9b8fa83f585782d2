# Copyright (c) mmps contributors. All rights reserved.
from .dump_search_results import DumpSearchResults
from .person_search_metric import PersonSearchMetric
from .search_protocols import SearchSetting, build_settings
from .search_records import make_record

__all__ = [
    'DumpSearchResults', 'PersonSearchMetric', 'SearchSetting',
    'build_settings', 'make_record'
]
