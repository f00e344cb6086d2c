# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the collection's AWS modules retry: one policy for every client and paginator.

Public API::

    RETRY_OPTIONS                # keyword arguments of AWSRetry.jittered_backoff
    retry_with_backoff           # the decorator: module.client(..., retry_decorator=retry_with_backoff)
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


__all__ = ['RETRY_OPTIONS', 'retry_with_backoff']

# botocore already retries a throttled call a few times; this outer layer rides out longer bursts. Lightsail and
# SSM answer a burst with ThrottlingException, which AWSRetry does not retry unless told to.
RETRY_OPTIONS = dict(retries=10, delay=3, backoff=2.0, max_delay=60, catch_extra_error_codes=['ThrottlingException'])

retry_with_backoff = AWSRetry.jittered_backoff(**RETRY_OPTIONS)
