# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers shared by the Lightsail tests: an AWS-free environment, instant retries, running a module in-process."""

from __future__ import annotations

import os
import time

import boto3
import botocore.endpoint
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils import cloud as aws_cloud
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.jada.agent.plugins.module_utils.aws_retry import retry_with_backoff
from ansible_collections.jada.agent.tests.lightsail_endpoint.server import LightsailEndpoint


# Recognisable, so a test can prove neither ever shows up in module output.
FAKE_ACCESS_KEY = 'AKIAJADAFAKEKEY00001'
FAKE_SECRET_KEY = 'jadaFAKEsecret/NeverPrintMe+0123456789abcdefgh'
REGION = 'us-east-1'


def isolate_aws_environment(monkeypatch, tmp_path):
    """No AWS_* variable, ~/.aws file or instance metadata service may reach the code under test."""
    for name in list(os.environ):
        if name.startswith('AWS_') or name.startswith('BOTO_'):
            monkeypatch.delenv(name)
    monkeypatch.setenv('AWS_CONFIG_FILE', str(tmp_path / 'no-aws-config'))
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', str(tmp_path / 'no-aws-credentials'))
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')


class SleepRecorder:
    """Stands in for the ``time`` module: records sleeps instead of sleeping, everything else is real."""

    def __init__(self):
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


def skip_retry_sleeps(monkeypatch):
    """Make botocore's and AWSRetry's retry back-off instant; return the recorder of the skipped sleeps."""
    recorder = SleepRecorder()
    monkeypatch.setattr(botocore.endpoint, 'time', recorder)
    monkeypatch.setattr(aws_cloud, 'time', recorder)
    return recorder


class EndpointFactory:
    """Starts endpoints for one test; on teardown stops them and fails if any saw invalid or unsigned traffic."""

    def __init__(self):
        self._started = []

    def __call__(self, scenario=None, expect_problems=False):
        endpoint = LightsailEndpoint(scenario).start()
        self._started.append((endpoint, expect_problems))
        return endpoint

    def close(self):
        for endpoint, expect_problems in self._started:
            endpoint.stop()
        for endpoint, expect_problems in self._started:
            if not expect_problems:
                endpoint.assert_clean()


def stubbed_client():
    """A fixture body (yield from it): (a Lightsail client with the module's retries, its botocore Stubber); every
    queued answer must be used."""
    client = boto3.session.Session().client('lightsail', region_name=REGION, aws_access_key_id=FAKE_ACCESS_KEY,
                                            aws_secret_access_key=FAKE_SECRET_KEY)
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, retry_with_backoff), stubber
        stubber.assert_no_pending_responses()
