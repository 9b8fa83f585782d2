# Copyright (c) mmps contributors. All rights reserved.
