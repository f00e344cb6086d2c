# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the one retry policy of the collection's AWS modules."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.jada.agent.plugins.module_utils.aws_retry import retry_with_backoff
from ansible_collections.jada.agent.tests.unit.plugins.modules.lightsail_fixtures import skip_retry_sleeps


def flaky(codes):
    """A call that fails once with each of ``codes`` in turn, then answers; it counts its attempts."""
    attempts = []

    @retry_with_backoff
    def call():
        attempts.append(len(attempts))
        if len(attempts) <= len(codes):
            raise botocore.exceptions.ClientError({'Error': {'Code': codes[len(attempts) - 1], 'Message': 'no'}},
                                                  'GetParametersByPath')
        return 'answer'

    return call, attempts


@pytest.mark.parametrize('codes, retried', [
    # What Lightsail and SSM send under a burst: not in AWSRetry's own list, so the reason for the policy.
    (['ThrottlingException'], True),
    (['ThrottlingException'] * 3, True),
    (['Throttling', 'RequestLimitExceeded', 'TooManyRequestsException'], True),
    (['AccessDeniedException'], False),
    (['ParameterNotFound'], False),
])
def test_throttled_calls_are_retried_and_others_are_not(monkeypatch, codes, retried):
    sleeps = skip_retry_sleeps(monkeypatch)
    call, attempts = flaky(codes)
    if retried:
        assert call() == 'answer'
        assert len(attempts) == len(codes) + 1 and len(sleeps.sleeps) == len(codes)
    else:
        with pytest.raises(botocore.exceptions.ClientError):
            call()
        assert len(attempts) == 1 and sleeps.sleeps == []


def test_a_call_that_never_stops_being_throttled_fails_after_the_last_retry(monkeypatch):
    sleeps = skip_retry_sleeps(monkeypatch)
    call, attempts = flaky(['ThrottlingException'] * 100)
    with pytest.raises(botocore.exceptions.ClientError):
        call()
    # Ten attempts in all, each back-off no longer than a minute.
    assert len(attempts) == 10
    assert len(sleeps.sleeps) == 9 and max(sleeps.sleeps) <= 60
