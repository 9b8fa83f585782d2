# Copyright (c) mmps contributors. All rights reserved.
from .person_search_metric import PersonSearchMetric, make_record
from .search_protocols import SearchSetting, build_settings

__all__ = [
    'PersonSearchMetric', 'SearchSetting', 'build_settings', 'make_record'
]
