# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of jada.agent.lightsail_instance_info: its pure functions, and the module against the local endpoint."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import botocore.exceptions
import botocore.httpsession
import pytest

from hypothesis import given, settings, strategies as st

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.jada.agent.plugins.modules import lightsail_instance_info as module
from ansible_collections.jada.agent.tests.lightsail_endpoint import server
from ansible_collections.jada.agent.tests.unit.plugins.modules.lightsail_fixtures import (
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    REGION,
    EndpointFactory,
    isolate_aws_environment,
    skip_retry_sleeps,
    stubbed_client,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module


# <root>/ansible_collections/jada/agent/plugins/modules/lightsail_instance_info.py -> <root>
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(module.__file__), *['..'] * 5))


# ---------------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def clean_aws_environment(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path)


class OffHostGuard:
    """Refuses every HTTP request that is not for this machine and remembers where it was going."""

    def __init__(self, original):
        self.original = original
        self.refused = []
        self.expected = False

    def __call__(self, session, request):
        if request.url.startswith(('http://127.0.0.1:', 'http://localhost:')):
            return self.original(session, request)
        self.refused.append(request.url)
        raise botocore.exceptions.EndpointConnectionError(endpoint_url=request.url)


@pytest.fixture(autouse=True)
def off_host_guard(monkeypatch):
    """No test may reach AWS: off-host requests fail as if there were no network, and must be expected."""
    guard = OffHostGuard(botocore.httpsession.URLLib3Session.send)

    def send(session, request):
        return guard(session, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, 'send', send)
    yield guard
    assert guard.expected or guard.refused == [], f'unexpected off-host requests: {guard.refused}'


@pytest.fixture
def lightsail():
    """Start endpoints for a scenario; after the test they are stopped and must have seen only valid, signed traffic."""
    factory = EndpointFactory()
    yield factory
    factory.close()


@pytest.fixture
def run(capsys):
    """Run the module in-process with the given args; return its parsed result."""

    def runner(args, check_mode=False):
        return run_module(module.main, args, capsys, check_mode=check_mode)

    return runner


@pytest.fixture
def fast_retries(monkeypatch):
    return skip_retry_sleeps(monkeypatch)


def args_for(endpoint, **extra):
    """Module args that reach ``endpoint`` with the fake credentials."""
    args = dict(region=REGION, endpoint_url=endpoint.url, access_key=FAKE_ACCESS_KEY, secret_key=FAKE_SECRET_KEY)
    args.update(extra)
    return args


def operations(endpoint):
    return [record['operation'] for record in endpoint.requests]


def as_ansible_json(value):
    """What a value looks like after Ansible serialised it: datetimes become ISO 8601 strings."""
    return json.loads(json.dumps(value, default=lambda item: item.isoformat()))


def assert_no_secret(result):
    assert FAKE_SECRET_KEY not in result.raw
    assert FAKE_SECRET_KEY.split('/', maxsplit=1)[0] not in result.raw


# ---------------------------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------------------------

API_INSTANCE = {
    'name': 'jada-agent',
    'arn': 'arn:aws:lightsail:us-east-1:123456789012:Instance/x',
    'createdAt': datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
    'state': {'code': 16, 'name': 'running'},
    'privateIpAddress': '172.26.0.10',
    'publicIpAddress': '203.0.113.10',
    'blueprintId': 'ubuntu_22_04',
    'isStaticIp': False,
}


def test_unique_keeps_first_order():
    assert module.unique(['b', 'a', 'b', 'c', 'a']) == ['b', 'a', 'c']


def test_summarize_an_instance():
    summary = module.summarize('jada-agent', API_INSTANCE)
    assert summary == {
        'name': 'jada-agent',
        'exists': True,
        'state': 'running',
        'public_ip_address': '203.0.113.10',
        'private_ip_address': '172.26.0.10',
        'instance': camel_dict_to_snake_dict(API_INSTANCE),
    }
    assert summary['instance']['blueprint_id'] == 'ubuntu_22_04'


def test_summarize_without_public_ip_or_state():
    instance = {key: value for key, value in API_INSTANCE.items() if key not in ('publicIpAddress', 'state')}
    summary = module.summarize('jada-agent', instance)
    assert (summary['state'], summary['public_ip_address']) == (None, None)


def test_summarize_missing():
    assert module.summarize('gone-1', None) == {'name': 'gone-1', 'exists': False, 'state': None,
                                                'public_ip_address': None, 'private_ip_address': None,
                                                'instance': {}}


def summary(state='running', public_ip='203.0.113.10', exists=True, name='web-1'):
    return {'name': name, 'exists': exists, 'state': state if exists else None,
            'public_ip_address': public_ip if exists else None, 'private_ip_address': None, 'instance': {}}


@pytest.mark.parametrize('entry, expected_state, want_ip, reason', [
    (summary(), None, False, None),
    (summary(), 'running', True, None),
    (summary(state='pending'), None, False, None),
    (summary(state='pending'), 'running', False, "is 'pending', expected 'running'"),
    (summary(public_ip=None), 'running', False, None),
    (summary(public_ip=None), None, True, "has no public IP address yet (state 'running')"),
    (summary(state='pending', public_ip=None), 'running', True,
     "is 'pending', expected 'running' and has no public IP address yet (state 'pending')"),
    (summary(exists=False), 'running', True, None),
])
def test_shortfall(entry, expected_state, want_ip, reason):
    assert module.shortfall(entry, expected_state, want_ip) == reason


def test_settled():
    ready, pending, gone = summary(name='a'), summary(name='b', state='pending'), summary(name='c', exists=False)
    assert module.settled([ready], 'running')
    assert not module.settled([ready, pending], 'running')
    assert module.settled([ready, gone], 'running', fail_if_not_found=True)
    assert module.settled([pending, gone], 'running', fail_if_not_found=True)
    assert not module.settled([pending, gone], 'running', fail_if_not_found=False)
    assert module.settled([ready, gone], 'running', fail_if_not_found=False)


class FakeClock:
    """A clock that only moves when slept on, so waiting can be tested exactly and instantly."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def polled(results, wait=True, timeout=10, delay=3):
    clock = FakeClock()
    calls = []

    def fetch():
        calls.append(clock.now)
        return results[min(len(calls), len(results)) - 1]

    result, elapsed = module.poll(fetch, lambda value: value == 'done', wait=wait, timeout=timeout, delay=delay,
                                  clock=clock.monotonic, sleep=clock.sleep)
    return result, elapsed, calls, clock.sleeps


def test_poll_without_wait_reads_once():
    assert polled(['not yet', 'done'], wait=False) == ('not yet', 0, [100.0], [])


def test_poll_until_done():
    assert polled(['a', 'b', 'done']) == ('done', 6.0, [100.0, 103.0, 106.0], [3, 3])


def test_poll_gives_up_at_the_deadline_after_a_last_read():
    result, elapsed, calls, sleeps = polled(['never'])
    assert (result, elapsed) == ('never', 10.0)
    assert calls == [100.0, 103.0, 106.0, 109.0, 110.0]
    assert sleeps == [3, 3, 3, 1.0]


def test_poll_with_zero_timeout_reads_once():
    assert polled(['never'], timeout=0)[2] == [100.0]


def test_poll_with_zero_delay():
    result, elapsed, calls, sleeps = polled(['a', 'b', 'done'], delay=0)
    assert result == 'done' and sleeps == [0, 0]


@settings(max_examples=80, deadline=None)
@given(timeout=st.integers(min_value=0, max_value=50), delay=st.floats(min_value=0.1, max_value=20),
       ready_after=st.integers(min_value=1, max_value=30))
def test_poll_never_overruns_the_timeout(timeout, delay, ready_after):
    clock = FakeClock()
    calls = []

    def fetch():
        calls.append(clock.now)
        return 'done' if len(calls) >= ready_after else 'no'

    result, elapsed = module.poll(fetch, lambda value: value == 'done', wait=True, timeout=timeout, delay=delay,
                                  clock=clock.monotonic, sleep=clock.sleep)
    assert elapsed <= timeout + 1e-9
    assert result == 'done' or abs(elapsed - timeout) < 1e-9
    assert all(later > earlier for earlier, later in zip(calls, calls[1:]))


def test_location():
    assert module.location('us-east-1') == 'region us-east-1'
    assert module.location(None) == 'region (none)'
    assert module.location('eu-west-1', 'http://127.0.0.1:9') == 'region eu-west-1 (endpoint http://127.0.0.1:9)'


def test_not_found_messages():
    assert module.not_found_message(['a-1'], 'region us-east-1') == \
        "Lightsail instance 'a-1' was not found in region us-east-1"
    assert module.not_found_message(['a-1', 'b-2'], 'region us-east-1') == \
        "Lightsail instances 'a-1', 'b-2' were not found in region us-east-1"


def test_mismatch_messages():
    assert module.mismatch_message([('a-1', "is 'pending', expected 'running'")], 1, 'region us-east-1',
                                   True, 300.04, 300) == \
        "Lightsail instance 'a-1' in region us-east-1 is 'pending', expected 'running', " \
        "after waiting 300.0s (wait_timeout 300s)"
    assert module.mismatch_message([('a-1', "is 'stopped', expected 'running'"),
                                    ('c-3', 'has no public IP address yet')], 3, 'region us-east-1',
                                   False, 0.01, 300) == \
        "2 of 3 Lightsail instances in region us-east-1 do not meet the expected condition checked once " \
        "without waiting (set wait=true to wait): 'a-1' is 'stopped', expected 'running'; " \
        "'c-3' has no public IP address yet"


@pytest.mark.parametrize('code, fragment', [
    ('UnrecognizedClientException', 'did not accept the credentials'),
    ('NoCredentialsError', 'did not accept the credentials'),
    ('InvalidSignatureException', 'that region is the one the instance is in'),
    ('AccessDeniedException', 'not allowed to read Lightsail instances'),
    ('EndpointConnectionError', 'could not reach the Lightsail endpoint'),
    ('ThrottlingException', 'retries ran out'),
])
def test_error_hints(code, fragment):
    assert fragment in module.error_hint(code)
    message = module.failure_message(code, "Lightsail instance 'web-1'", 'region us-east-1')
    assert message.startswith("Failed to read Lightsail instance 'web-1' in region us-east-1: ")


def test_failure_message_without_hint():
    assert module.failure_message('Weird', 'x', 'region y') == 'Failed to read x in region y'


def test_error_code():
    client_error = botocore.exceptions.ClientError({'Error': {'Code': 'NotFoundException'}}, 'GetInstance')
    assert module.error_code(client_error) == 'NotFoundException'
    assert module.error_code(botocore.exceptions.NoCredentialsError()) == 'NoCredentialsError'
    assert module.error_code(botocore.exceptions.ClientError({}, 'GetInstance')) == 'ClientError'


def test_region_warning():
    known = {'us-east-1', 'eu-west-1'}
    assert module.region_warning('us-east-1', known) is None
    assert module.region_warning(None, known) is None
    warning = module.region_warning('us-nowhere-1', known)
    assert "'us-nowhere-1' is not a Lightsail region known to botocore" in warning
    assert 'eu-west-1, us-east-1' in warning


def test_known_regions_come_from_botocore():
    regions = module.known_lightsail_regions()
    assert {'us-east-1', 'eu-west-1'} <= regions


def params(**overrides):
    values = dict(name='web-1', names=None, expected_state=None, wait=False, wait_timeout=300, wait_delay=5,
                  wait_for_public_ip=False)
    values.update(overrides)
    return values


@pytest.mark.parametrize('overrides, problem', [
    (dict(), None),
    (dict(name=None, names=['', '']), 'names must list at least one instance name'),
    (dict(name=''), 'name must not be empty'),
    (dict(wait=True), 'wait=true needs expected_state'),
    (dict(wait=True, expected_state='running'), None),
    (dict(wait=True, wait_for_public_ip=True), None),
    (dict(wait_timeout=-1), 'wait_timeout must not be negative'),
    (dict(wait_delay=-0.5), 'wait_delay must not be negative'),
])
def test_parameter_problem(overrides, problem):
    found = module.parameter_problem(params(**overrides))
    assert found == problem if problem is None else problem in found


def test_build_result():
    one = module.build_result([summary()], True, 1.23456)
    assert one == {'changed': False, 'exists': True, 'elapsed': 1.235, 'state': 'running',
                   'public_ip_address': '203.0.113.10', 'private_ip_address': None, 'instance': {}}
    many = module.build_result([summary(), summary(name='b', exists=False)], False, 0)
    assert many['exists'] is False and [entry['name'] for entry in many['instances']] == ['web-1', 'b']
    assert 'instance' not in many


# ---------------------------------------------------------------------------------------------------------------
# API helpers with botocore's Stubber
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def stubbed():
    yield from stubbed_client()


def api_instance(name, state='running'):
    instance = dict(API_INSTANCE, name=name, state={'code': server.STATE_CODES[state], 'name': state})
    return instance


def test_get_instance_with_stubber(stubbed):
    client, stubber = stubbed
    stubber.add_response('get_instance', {'instance': api_instance('web-1')}, {'instanceName': 'web-1'})
    stubber.add_client_error('get_instance', 'NotFoundException', 'The Instance does not exist: web-2', 400,
                             expected_params={'instanceName': 'web-2'})
    assert module.get_instance(client, 'web-1')['name'] == 'web-1'
    assert module.get_instance(client, 'web-2') is None


def test_get_instance_other_errors_propagate(stubbed, fast_retries):
    client, stubber = stubbed
    stubber.add_client_error('get_instance', 'AccessDeniedException', 'no', 400)
    with pytest.raises(botocore.exceptions.ClientError):
        module.get_instance(client, 'web-1')


def test_list_instances_follows_pages_with_stubber(stubbed):
    client, stubber = stubbed
    stubber.add_response('get_instances', {'instances': [api_instance('a-1')], 'nextPageToken': 't1'}, {})
    stubber.add_response('get_instances', {'instances': [api_instance('b-2')], 'nextPageToken': 't2'},
                         {'pageToken': 't1'})
    stubber.add_response('get_instances', {'instances': [api_instance('c-3')]}, {'pageToken': 't2'})
    assert list(module.list_instances(client)) == ['a-1', 'b-2', 'c-3']


def test_list_instances_stops_on_a_repeated_token(stubbed):
    client, stubber = stubbed
    stubber.add_response('get_instances', {'instances': [api_instance('a-1')], 'nextPageToken': 't1'}, {})
    stubber.add_response('get_instances', {'instances': [], 'nextPageToken': 't1'}, {'pageToken': 't1'})
    assert list(module.list_instances(client)) == ['a-1']


def test_throttling_is_retried_by_awsretry_with_stubber(stubbed, fast_retries):
    client, stubber = stubbed
    stubber.add_client_error('get_instance', 'ThrottlingException', 'Rate exceeded', 400)
    stubber.add_response('get_instance', {'instance': api_instance('web-1')}, {'instanceName': 'web-1'})
    assert module.get_instance(client, 'web-1')['name'] == 'web-1'
    assert len(fast_retries.sleeps) == 1


# ---------------------------------------------------------------------------------------------------------------
# The module against the local endpoint: reading one instance
# ---------------------------------------------------------------------------------------------------------------

def test_reads_one_running_instance(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'tags': {'role': 'agent'}}}})
    result = run(args_for(endpoint, name='jada-agent'))
    assert not result.failed, result['msg']
    assert result['changed'] is False
    assert result['exists'] is True
    assert result['state'] == 'running'
    assert result['public_ip_address'] == '203.0.113.10'
    assert result['private_ip_address'] == '172.26.0.10'
    assert 'instances' not in result
    assert operations(endpoint) == ['GetInstance']
    assert endpoint.requests[0]['params'] == {'instanceName': 'jada-agent'}

    # The same shape community.aws.lightsail returns: the API's instance, snake cased.
    api = boto3.session.Session().client(
        'lightsail', region_name=REGION, endpoint_url=endpoint.url, aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY).get_instance(instanceName='jada-agent')['instance']
    assert result['instance'] == as_ansible_json(camel_dict_to_snake_dict(api))
    assert result['instance']['state'] == {'code': 16, 'name': 'running'}
    assert result['instance']['tags'] == [{'key': 'role', 'value': 'agent'}]
    assert result['instance']['created_at'] == '2025-01-01T00:00:00+00:00'


CHECK_MODE_CASES = [
    ({'instances': {'jada-agent': {}}}, dict(name='jada-agent')),
    ({'instances': {'jada-agent': {'states': ['pending', 'running']}}},
     dict(name='jada-agent', expected_state='running', wait=True, wait_delay=0.01)),
    ({'instances': {'jada-agent': {'states': ['stopped']}}}, dict(name='jada-agent', expected_state='running')),
    ({}, dict(name='jada-agent')),
    ({'instances': {'web-1': {}, 'web-2': {}}}, dict(names=['web-2', 'web-1', 'web-3'], fail_if_not_found=False)),
]


@pytest.mark.parametrize('scenario, extra', CHECK_MODE_CASES)
def test_check_mode_behaves_exactly_the_same(lightsail, run, scenario, extra):
    normal = run(args_for(lightsail(scenario), **extra))
    checked = run(args_for(lightsail(scenario), **extra), check_mode=True)
    for result in (normal, checked):
        result.pop('elapsed')
        result.pop('invocation', None)
        result['msg'] = result.get('msg', '').split(' (endpoint ')[0]
    assert checked == normal
    assert checked['changed'] is False


def test_not_found_names_instance_and_region(lightsail, run):
    endpoint = lightsail({'instances': {'other-1': {}}})
    result = run(args_for(endpoint, name='jada-agent'))
    assert result.failed
    assert result['msg'] == (f"Lightsail instance 'jada-agent' was not found in region us-east-1 "
                             f"(endpoint {endpoint.url})")
    assert result['exists'] is False
    assert operations(endpoint) == ['GetInstance']


def test_not_found_tolerated(lightsail, run):
    endpoint = lightsail()
    result = run(args_for(endpoint, name='jada-agent', fail_if_not_found=False, expected_state='running'))
    assert not result.failed
    assert (result['exists'], result['state'], result['instance']) == (False, None, {})
    assert (result['public_ip_address'], result['private_ip_address']) == (None, None)


def test_report_only_never_fails_on_state(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['stopped'], 'public_ip': None}}})
    result = run(args_for(endpoint, name='jada-agent'))
    assert not result.failed
    assert (result['state'], result['public_ip_address']) == ('stopped', None)


def test_state_mismatch_without_wait_fails_at_once(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['stopped', 'running']}}})
    result = run(args_for(endpoint, name='jada-agent', expected_state='running'))
    assert result.failed
    assert result['msg'] == ("Lightsail instance 'jada-agent' in region us-east-1 (endpoint "
                             f"{endpoint.url}) is 'stopped', expected 'running', checked once without waiting "
                             "(set wait=true to wait)")
    assert result['state'] == 'stopped'
    assert operations(endpoint) == ['GetInstance']


def test_expected_state_met_without_wait(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['stopped']}}})
    result = run(args_for(endpoint, name='jada-agent', expected_state='stopped'))
    assert not result.failed and result['state'] == 'stopped'


def test_waits_from_pending_to_running(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['pending', 'pending', 'running']}}})
    result = run(args_for(endpoint, name='jada-agent', expected_state='running', wait=True, wait_delay=0.01))
    assert not result.failed, result['msg']
    assert result['state'] == 'running'
    assert operations(endpoint) == ['GetInstance'] * 3
    assert 0.02 <= result['elapsed'] < 20


def test_wait_timeout_reports_expected_actual_and_time(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['pending']}}})
    started = time.monotonic()
    result = run(args_for(endpoint, name='jada-agent', expected_state='running', wait=True, wait_timeout=1,
                          wait_delay=0.1))
    took = time.monotonic() - started
    assert result.failed
    assert "Lightsail instance 'jada-agent' in region us-east-1" in result['msg']
    assert re.search(r"is 'pending', expected 'running', after waiting \d+\.\ds \(wait_timeout 1s\)$", result['msg'])
    assert result['state'] == 'pending'
    # Loose upper bounds: a loaded machine makes each poll slower, never the wait shorter.
    assert 1.0 <= result['elapsed'] < 10
    assert 1.0 <= took < 20
    assert 2 <= len(endpoint.requests) <= 12


def test_wait_stops_at_once_when_the_instance_is_missing(lightsail, run):
    endpoint = lightsail()
    result = run(args_for(endpoint, name='jada-agent', expected_state='running', wait=True, wait_timeout=30,
                          wait_delay=0.01))
    assert result.failed and 'was not found' in result['msg']
    assert operations(endpoint) == ['GetInstance']


def test_waits_for_a_late_public_ip(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['running'], 'public_ip_after': 3}}})
    result = run(args_for(endpoint, name='jada-agent', expected_state='running', wait=True, wait_delay=0.01,
                          wait_for_public_ip=True))
    assert not result.failed, result['msg']
    assert result['public_ip_address'] == '203.0.113.10'
    assert result['instance']['public_ip_address'] == '203.0.113.10'
    assert endpoint.reads('jada-agent') == 4


def test_wait_for_public_ip_alone_is_a_condition(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['pending', 'running'], 'public_ip_after': 2}}})
    result = run(args_for(endpoint, name='jada-agent', wait=True, wait_delay=0.01, wait_for_public_ip=True))
    assert not result.failed, result['msg']
    assert (result['state'], result['public_ip_address']) == ('running', '203.0.113.10')
    assert endpoint.reads('jada-agent') == 3


def test_running_is_not_enough_when_the_public_ip_is_required(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['running'], 'public_ip_after': 100}}})
    result = run(args_for(endpoint, name='jada-agent', expected_state='running', wait_for_public_ip=True))
    assert result.failed
    assert "'jada-agent'" in result['msg'] and 'us-east-1' in result['msg']
    assert "has no public IP address yet (state 'running')" in result['msg']
    assert result['public_ip_address'] is None


def test_without_wait_for_public_ip_a_missing_ip_is_reported_not_awaited(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['running'], 'public_ip_after': 100}}})
    result = run(args_for(endpoint, name='jada-agent', expected_state='running', wait=True, wait_delay=0.01))
    assert not result.failed
    assert result['public_ip_address'] is None
    assert operations(endpoint) == ['GetInstance']


def test_wait_for_public_ip_times_out(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['running'], 'public_ip': None}}})
    result = run(args_for(endpoint, name='jada-agent', wait=True, wait_timeout=1, wait_delay=0.2,
                          wait_for_public_ip=True))
    assert result.failed
    assert re.search(r"has no public IP address yet \(state 'running'\), after waiting \d+\.\ds \(wait_timeout 1s\)$",
                     result['msg'])


@pytest.mark.parametrize('extra, fragment', [
    (dict(name='jada-agent', wait=True), 'wait=true needs expected_state'),
    (dict(name='jada-agent', wait_timeout=-5), 'wait_timeout must not be negative'),
    (dict(name='jada-agent', wait_delay=-1), 'wait_delay must not be negative'),
    (dict(name=''), 'name must not be empty'),
    (dict(names=[]), 'names must list at least one instance name'),
    (dict(), 'one of the following is required: name, names'),
    (dict(name='a-1', names=['b-2']), 'parameters are mutually exclusive: name|names'),
    (dict(name='jada-agent', wait_delay='soon'), "'wait_delay' is of type str and we were unable to convert to float"),
])
def test_bad_parameters_fail_before_any_request(lightsail, run, extra, fragment):
    endpoint = lightsail({'instances': {'jada-agent': {}}})
    result = run(args_for(endpoint, **extra))
    assert result.failed
    assert fragment in result['msg']
    assert endpoint.requests == []


# ---------------------------------------------------------------------------------------------------------------
# Several instances: one listing
# ---------------------------------------------------------------------------------------------------------------

def test_names_use_one_listing_in_the_order_given(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {}, 'web-2': {'states': ['stopped']}, 'web-3': {}}})
    result = run(args_for(endpoint, names=['web-3', 'web-1', 'web-2']))
    assert not result.failed, result.get('msg')
    assert operations(endpoint) == ['GetInstances']
    assert [entry['name'] for entry in result['instances']] == ['web-3', 'web-1', 'web-2']
    assert [entry['state'] for entry in result['instances']] == ['running', 'running', 'stopped']
    assert result['exists'] is True
    assert result['changed'] is False
    assert not {'instance', 'state', 'public_ip_address'} & set(result)
    entry = result['instances'][1]
    assert set(entry) == {'name', 'exists', 'state', 'public_ip_address', 'private_ip_address', 'instance'}
    assert entry['instance']['name'] == 'web-1'
    assert entry['public_ip_address'] == entry['instance']['public_ip_address'] == '203.0.113.10'


def test_names_follow_every_page(lightsail, run):
    endpoint = lightsail({'page_size': 2, 'instances': {f'web-{n}': {} for n in range(5)}})
    result = run(args_for(endpoint, names=['web-4', 'web-0']))
    assert not result.failed
    assert operations(endpoint) == ['GetInstances'] * 3
    assert [entry['name'] for entry in result['instances']] == ['web-4', 'web-0']


def test_names_are_deduplicated(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {}, 'web-2': {}}})
    result = run(args_for(endpoint, names=['web-2', 'web-1', 'web-2', '']))
    assert [entry['name'] for entry in result['instances']] == ['web-2', 'web-1']


def test_names_missing_fail_listing_all_of_them(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {}}})
    result = run(args_for(endpoint, names=['gone-1', 'web-1', 'gone-2']))
    assert result.failed
    assert result['msg'] == (f"Lightsail instances 'gone-1', 'gone-2' were not found in region us-east-1 "
                             f"(endpoint {endpoint.url})")
    assert [entry['exists'] for entry in result['instances']] == [False, True, False]
    assert result['exists'] is False


def test_names_failure_lists_missing_and_mismatched_together(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {}, 'web-2': {'states': ['stopped']}}})
    result = run(args_for(endpoint, names=['web-1', 'web-2', 'gone-1'], expected_state='running'))
    assert result.failed
    where = f'region us-east-1 (endpoint {endpoint.url})'
    assert result['msg'] == (f"Lightsail instance 'gone-1' was not found in {where}; 1 of 3 Lightsail instances in "
                             f"{where} do not meet the expected condition checked once without waiting (set wait=true "
                             "to wait): 'web-2' is 'stopped', expected 'running'")


def test_unmet_message():
    assert module.unmet_message([], [('a-1', 'has no public IP address yet')], 1, 'region r', False, 0, 9) == \
        "Lightsail instance 'a-1' in region r has no public IP address yet, checked once without waiting " \
        "(set wait=true to wait)"
    assert module.unmet_message(['b-2'], [], 2, 'region r', True, 0, 9) == \
        "Lightsail instance 'b-2' was not found in region r"


def test_names_missing_tolerated_and_not_state_checked(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {}}})
    result = run(args_for(endpoint, names=['gone-1', 'web-1'], fail_if_not_found=False, expected_state='running'))
    assert not result.failed
    assert result['exists'] is False
    gone, web = result['instances']
    assert gone == {'name': 'gone-1', 'exists': False, 'state': None, 'public_ip_address': None,
                    'private_ip_address': None, 'instance': {}}
    assert web['exists'] is True


def test_names_wait_until_all_are_running(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {'states': ['pending', 'pending', 'running']},
                                        'web-2': {'states': ['running']}}})
    result = run(args_for(endpoint, names=['web-1', 'web-2'], expected_state='running', wait=True,
                          wait_delay=0.01))
    assert not result.failed, result['msg']
    assert [entry['state'] for entry in result['instances']] == ['running', 'running']
    assert operations(endpoint) == ['GetInstances'] * 3


def test_names_mismatch_lists_every_offender(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {'states': ['pending']}, 'web-2': {},
                                        'web-3': {'public_ip': None}}})
    result = run(args_for(endpoint, names=['web-1', 'web-2', 'web-3'], expected_state='running',
                          wait_for_public_ip=True))
    assert result.failed
    assert result['msg'] == (
        f"2 of 3 Lightsail instances in region us-east-1 (endpoint {endpoint.url}) do not meet the expected "
        "condition checked once without waiting (set wait=true to wait): 'web-1' is 'pending', expected 'running'; "
        "'web-3' has no public IP address yet (state 'running')")


def test_names_wait_timeout_lists_offenders(lightsail, run):
    endpoint = lightsail({'instances': {'web-1': {'states': ['stopping']}, 'web-2': {'states': ['pending']}}})
    result = run(args_for(endpoint, names=['web-1', 'web-2'], expected_state='stopped', wait=True,
                          wait_timeout=1, wait_delay=0.25))
    assert result.failed
    assert re.search(r'after waiting \d+\.\ds \(wait_timeout 1s\)', result['msg'])
    assert "'web-1' is 'stopping', expected 'stopped'; 'web-2' is 'pending', expected 'stopped'" in result['msg']


# ---------------------------------------------------------------------------------------------------------------
# Throttling
# ---------------------------------------------------------------------------------------------------------------

def test_short_throttling_burst_is_absorbed(lightsail, run, fast_retries):
    endpoint = lightsail({'instances': {'jada-agent': {}},
                          'errors': [{'operation': 'GetInstance', 'code': 'ThrottlingException', 'count': 2}]})
    result = run(args_for(endpoint, name='jada-agent'))
    assert not result.failed, result['msg']
    assert [r['error_code'] for r in endpoint.requests] == ['ThrottlingException'] * 2 + [None]


def test_a_burst_longer_than_botocore_retries_is_ridden_out_by_awsretry(lightsail, run, fast_retries):
    # botocore makes five attempts per call; the seventh request can only come from AWSRetry calling again.
    endpoint = lightsail({'instances': {'jada-agent': {}},
                          'errors': [{'operation': 'GetInstance', 'code': 'ThrottlingException', 'count': 7}]})
    result = run(args_for(endpoint, name='jada-agent'))
    assert not result.failed, result['msg']
    assert [r['error_code'] for r in endpoint.requests] == ['ThrottlingException'] * 7 + [None]
    assert len(fast_retries.sleeps) >= 7


def test_throttling_during_a_listing_is_retried(lightsail, run, fast_retries):
    endpoint = lightsail({'page_size': 1, 'instances': {'web-1': {}, 'web-2': {}},
                          'errors': [{'operation': 'GetInstances', 'code': 'ThrottlingException', 'count': 6,
                                      'after': 1}]})
    result = run(args_for(endpoint, names=['web-1', 'web-2']))
    assert not result.failed, result['msg']
    assert operations(endpoint) == ['GetInstances'] * 8


def test_persistent_throttling_fails_clearly(lightsail, run, fast_retries):
    endpoint = lightsail({'instances': {'jada-agent': {}},
                          'errors': [{'code': 'ThrottlingException', 'count': None}]})
    result = run(args_for(endpoint, name='jada-agent'))
    assert result.failed
    assert result['msg'].startswith("Failed to read Lightsail instance 'jada-agent' in region us-east-1")
    assert 'retries ran out' in result['msg'] and 'ThrottlingException' in result['msg']
    assert len(endpoint.requests) == 50
    assert_no_secret(result)


# ---------------------------------------------------------------------------------------------------------------
# Credentials, permissions, regions, reachability: clear messages, never a secret
# ---------------------------------------------------------------------------------------------------------------

AUTH_CASES = [
    pytest.param({'access_keys': ['AKIAOTHERKEY00000001']}, {}, 'UnrecognizedClientException',
                 'did not accept the credentials', id='unknown-access-key'),
    pytest.param({'errors': [{'code': 'InvalidSignatureException'}]}, {}, 'InvalidSignatureException',
                 'rejected the request signature', id='bad-signature'),
    pytest.param({'errors': [{'code': 'AccessDeniedException'}]}, {}, 'AccessDeniedException',
                 'not allowed to read Lightsail instances', id='access-denied'),
    pytest.param({'errors': [{'code': 'UnauthenticatedException'}]}, {}, 'UnauthenticatedException',
                 'did not accept the credentials', id='unauthenticated'),
    pytest.param({'errors': [{'code': 'ExpiredTokenException'}]}, dict(session_token='FwoGZXIvYXdzEXAMPLE'),
                 'ExpiredTokenException', 'did not accept the credentials', id='expired-token'),
    pytest.param({'region': 'eu-west-1'}, {}, 'InvalidSignatureException',
                 "Credential should be scoped to a valid region, not 'us-east-1'", id='wrong-region'),
    pytest.param({'errors': [{'code': 'ServiceException', 'count': None}]}, {}, 'ServiceException',
                 'An internal error occurred', id='server-error'),
]


@pytest.mark.parametrize('scenario, extra, code, fragment', AUTH_CASES)
@pytest.mark.parametrize('target', ['name', 'names'])
def test_aws_errors_are_clear_and_leak_nothing(lightsail, run, fast_retries, scenario, extra, code, fragment,
                                               target):
    scenario = dict(scenario, instances={'jada-agent': {}})
    endpoint = lightsail(scenario)
    selector = dict(name='jada-agent') if target == 'name' else dict(names=['jada-agent'])
    result = run(args_for(endpoint, **selector, **extra))
    assert result.failed
    subject = "Lightsail instance 'jada-agent'" if target == 'name' else "Lightsail instances 'jada-agent'"
    assert result['msg'].startswith(f'Failed to read {subject} in region us-east-1 (endpoint {endpoint.url})')
    assert code in result['msg']
    assert fragment in result['msg']
    assert result['error']['code'] == code
    assert_no_secret(result)
    if 'session_token' in extra:
        assert extra['session_token'] not in result.raw


def test_unreachable_endpoint(run, fast_retries):
    # Bound but not listening: connections are refused, and no other test can take the port meanwhile.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as placeholder:
        placeholder.bind(('127.0.0.1', 0))
        port = placeholder.getsockname()[1]
        result = run(dict(region=REGION, endpoint_url=f'http://127.0.0.1:{port}', access_key=FAKE_ACCESS_KEY,
                          secret_key=FAKE_SECRET_KEY, name='jada-agent'))
    assert result.failed
    assert result['msg'].startswith(f"Failed to read Lightsail instance 'jada-agent' in region us-east-1 "
                                    f"(endpoint http://127.0.0.1:{port}): could not reach the Lightsail endpoint")
    assert 'Could not connect to the endpoint URL' in result['msg']
    assert_no_secret(result)


def test_unknown_region_warns_and_fails_to_connect(run, fast_retries, off_host_guard):
    off_host_guard.expected = True
    result = run(dict(region='us-nowhere-1', access_key=FAKE_ACCESS_KEY, secret_key=FAKE_SECRET_KEY,
                      name='jada-agent'))
    assert result.failed
    assert any("'us-nowhere-1' is not a Lightsail region known to botocore" in w for w in result.warnings)
    assert result['msg'].startswith("Failed to read Lightsail instance 'jada-agent' in region us-nowhere-1: "
                                    'could not reach the Lightsail endpoint')
    assert off_host_guard.refused and all('lightsail.us-nowhere-1.amazonaws.com' in url
                                          for url in off_host_guard.refused)
    assert_no_secret(result)


def test_malformed_region(run, lightsail):
    endpoint = lightsail()
    result = run(args_for(endpoint, region='not a region!', name='jada-agent'))
    assert result.failed
    assert "not a region!" in result['msg']
    assert endpoint.requests == []
    assert_no_secret(result)


def test_no_region(run, lightsail):
    endpoint = lightsail()
    args = args_for(endpoint, name='jada-agent')
    del args['region']
    result = run(args)
    assert result.failed
    assert 'requires a region and none was found' in result['msg']
    assert endpoint.requests == []


def test_region_from_the_environment(run, lightsail, monkeypatch):
    monkeypatch.setenv('AWS_REGION', 'eu-west-1')
    endpoint = lightsail({'region': 'eu-west-1', 'instances': {'jada-agent': {}}})
    args = args_for(endpoint, name='jada-agent')
    del args['region']
    result = run(args)
    assert not result.failed, result['msg']
    assert result['instance']['location']['region_name'] == 'eu-west-1'
    assert endpoint.requests[0]['signing_region'] == 'eu-west-1'


def test_no_credentials_at_all(run, lightsail):
    endpoint = lightsail({'instances': {'jada-agent': {}}})
    result = run(dict(region=REGION, endpoint_url=endpoint.url, name='jada-agent'))
    assert result.failed
    assert "Failed to read Lightsail instance 'jada-agent' in region us-east-1" in result['msg']
    assert 'did not accept the credentials' in result['msg'] and 'Unable to locate credentials' in result['msg']
    assert endpoint.requests == []


def write_credentials(tmp_path, monkeypatch, profile='jada'):
    credentials = tmp_path / 'credentials'
    credentials.write_text(f'[{profile}]\naws_access_key_id = {FAKE_ACCESS_KEY}\n'
                           f'aws_secret_access_key = {FAKE_SECRET_KEY}\n', encoding='utf-8')
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', str(credentials))


@pytest.mark.parametrize('scenario, ok', [
    ({'instances': {'jada-agent': {}}}, True),
    ({'access_keys': ['AKIAOTHERKEY00000001']}, False),
    ({'errors': [{'code': 'InvalidSignatureException'}]}, False),
    ({'errors': [{'code': 'AccessDeniedException'}]}, False),
])
def test_profile_credentials_work_and_never_leak(run, lightsail, monkeypatch, tmp_path, scenario, ok):
    # A secret from a credentials file is not a module parameter, so Ansible's no_log masking cannot hide it:
    # only the module's own care keeps it out of the output.
    write_credentials(tmp_path, monkeypatch)
    endpoint = lightsail(dict(scenario, instances={'jada-agent': {}}))
    result = run(dict(region=REGION, endpoint_url=endpoint.url, profile='jada', name='jada-agent'))
    assert result.failed is not ok
    assert endpoint.requests[0]['access_key_id'] == FAKE_ACCESS_KEY
    assert_no_secret(result)


def test_secret_from_the_environment_never_leaks(run, lightsail, monkeypatch):
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', FAKE_ACCESS_KEY)
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', FAKE_SECRET_KEY)
    endpoint = lightsail({'access_keys': ['AKIAOTHERKEY00000001']})
    result = run(dict(region=REGION, endpoint_url=endpoint.url, name='jada-agent'))
    assert result.failed and 'UnrecognizedClientException' in result['msg']
    assert_no_secret(result)


def test_unknown_profile(run, lightsail):
    endpoint = lightsail()
    result = run(dict(region=REGION, endpoint_url=endpoint.url, profile='nobody', name='jada-agent'))
    assert result.failed
    assert 'nobody' in result['msg']
    assert endpoint.requests == []


def test_standard_aws_option_aliases(run, lightsail):
    endpoint = lightsail({'region': 'eu-west-2', 'instances': {'jada-agent': {}}})
    result = run(dict(aws_region='eu-west-2', aws_endpoint_url=endpoint.url, aws_access_key=FAKE_ACCESS_KEY,
                      aws_secret_key=FAKE_SECRET_KEY, name='jada-agent'))
    assert not result.failed, result['msg']
    assert endpoint.requests[0]['signing_region'] == 'eu-west-2'
    assert_no_secret(result)


def test_every_request_is_signed_and_valid(lightsail, run):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['pending', 'running']}}})
    run(args_for(endpoint, name='jada-agent', expected_state='running', wait=True, wait_delay=0.01))
    run(args_for(endpoint, names=['jada-agent', 'other-1'], fail_if_not_found=False))
    assert all(record['signed'] and record['access_key_id'] == FAKE_ACCESS_KEY for record in endpoint.requests)
    assert endpoint.violations == []


# ---------------------------------------------------------------------------------------------------------------
# End to end: the endpoint's command line and the module as separate processes, as the demo runs them
# ---------------------------------------------------------------------------------------------------------------

def test_module_process_against_endpoint_process(tmp_path):
    scenario = tmp_path / 'scenario.json'
    scenario.write_text(json.dumps({'instances': {'jada-agent': {'states': ['pending', 'running'],
                                                                 'public_ip_after': 2}}}), encoding='utf-8')
    port_file = tmp_path / 'port'
    endpoint = subprocess.Popen([sys.executable, server.__file__, '--scenario', str(scenario), '--port-file',
                                 str(port_file), '--quiet'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(endpoint.stdout.readline())
        args = {'ANSIBLE_MODULE_ARGS': dict(
            name='jada-agent', region=REGION, endpoint_url=f'http://127.0.0.1:{port}', access_key=FAKE_ACCESS_KEY,
            secret_key=FAKE_SECRET_KEY, expected_state='running', wait=True, wait_delay=0.05,
            wait_for_public_ip=True)}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([COLLECTIONS_ROOT] + [entry for entry in sys.path if entry]))
        completed = subprocess.run([sys.executable, '-m', module.__name__, json.dumps(args)], capture_output=True,
                                   text=True, env=env, timeout=120, check=False)
        result = json.loads(completed.stdout)
        assert completed.returncode == 0, result
        assert (result['state'], result['public_ip_address']) == ('running', '203.0.113.10')
        assert FAKE_SECRET_KEY not in completed.stdout + completed.stderr
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/_fake/violations') as response:
            assert json.loads(response.read()) == []
    finally:
        endpoint.send_signal(signal.SIGTERM)
        endpoint.communicate(timeout=30)
    assert endpoint.returncode == 0
