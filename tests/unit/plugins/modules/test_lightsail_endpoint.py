# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the local Lightsail endpoint itself: model validation, scripting, and its command line."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config
import botocore.exceptions
import pytest

from hypothesis import given, settings, strategies as st

from ansible_collections.jada.agent.tests.lightsail_endpoint import server
from ansible_collections.jada.agent.tests.lightsail_endpoint.server import (
    EndpointError,
    LightsailEndpoint,
    Scenario,
    ScenarioError,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.lightsail_fixtures import (
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    REGION,
    EndpointFactory,
    isolate_aws_environment,
    skip_retry_sleeps,
)


SERVER_SCRIPT = server.__file__
NO_RETRIES = botocore.config.Config(retries={'mode': 'legacy', 'max_attempts': 0})


@pytest.fixture(autouse=True)
def clean_aws_environment(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path)


@pytest.fixture
def lightsail():
    """Start endpoints for a scenario; after the test they are stopped and must have seen only valid traffic."""
    factory = EndpointFactory()
    yield factory
    factory.close()


def client_for(endpoint, region=REGION, config=None, access_key=FAKE_ACCESS_KEY):
    return boto3.session.Session().client(
        'lightsail', region_name=region, endpoint_url=endpoint.url, config=config,
        aws_access_key_id=access_key, aws_secret_access_key=FAKE_SECRET_KEY)


def raw_post(endpoint, body, target='Lightsail_20161128.GetInstance', content_type=server.JSON_CONTENT_TYPE,
             authorization='AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/lightsail/aws4_request, '
                           'SignedHeaders=host, Signature=00', path='/'):
    """POST without botocore, so a test can send what botocore never would; return (status, decoded JSON body)."""
    headers = {'Content-Type': content_type}
    if target is not None:
        headers['X-Amz-Target'] = target
    if authorization is not None:
        headers['Authorization'] = authorization
    data = body if isinstance(body, bytes) else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(endpoint.url + path, data=data, headers=headers, method='POST')
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# ---------------------------------------------------------------------------------------------------------------
# Scenario format
# ---------------------------------------------------------------------------------------------------------------

def test_example_scenario_is_valid():
    scenario = Scenario.from_dict(server.EXAMPLE_SCENARIO)
    assert list(scenario.instances) == ['jada-agent', 'jada-agent-2']
    assert [rule.code for rule in scenario.errors] == ['ThrottlingException', 'ServiceUnavailable']


def test_empty_scenario_defaults():
    scenario = Scenario.from_dict(None)
    assert (scenario.region, scenario.instances, scenario.errors) == ('us-east-1', {}, [])


def test_instance_defaults_are_distinct_per_instance():
    scenario = Scenario.from_dict({'instances': {'one-1': None, 'two-2': {}}})
    one, two = scenario.instances['one-1'], scenario.instances['two-2']
    assert one.states == two.states == ['running']
    assert one.public_ip != two.public_ip
    assert one.private_ip != two.private_ip


@pytest.mark.parametrize('data, fragment', [
    ({'bogus': 1}, "unknown keys ['bogus']"),
    ({'region': 'us-nowhere-1'}, 'not a Lightsail region'),
    ({'page_size': 0}, 'page_size must be a positive integer'),
    ({'account_id': '12'}, 'account_id must be twelve digits'),
    ({'access_keys': 'AKID'}, 'access_keys must be a list'),
    ({'instances': []}, 'instances must be an object'),
    ({'instances': {'web-1': {'states': ['runnin']}}}, "unknown state 'runnin'"),
    ({'instances': {'web-1': {'states': []}}}, 'at least one state'),
    ({'instances': {'web-1': {'colour': 'red'}}}, "instance 'web-1' has unknown keys ['colour']"),
    ({'instances': {'web-1': {'public_ip': '300.1.1.1'}}}, 'public_ip must be an IPv4 address'),
    ({'instances': {'web-1': {'public_ip_after': -1}}}, 'public_ip_after must be a non-negative integer'),
    ({'instances': {'web-1': {'created_at': 'yesterday'}}}, 'created_at must be epoch seconds'),
    ({'instances': {'x': {}}}, "instance name 'x' is not a valid Lightsail resource name"),
    ({'errors': {}}, 'errors must be a list'),
    ({'errors': [{'count': 1}]}, 'needs a code'),
    ({'errors': [{'code': 'ThrottlingException', 'operation': 'GetInstanz'}]}, 'not a Lightsail operation'),
    ({'errors': [{'code': 'ThrottlingException', 'count': -2}]}, 'count must be a non-negative integer'),
    ({'errors': [{'code': 'ThrottlingException', 'status': 200}]}, 'status must be an HTTP error status'),
])
def test_malformed_scenarios_are_rejected(data, fragment):
    with pytest.raises(ScenarioError, match=None) as caught:
        Scenario.from_dict(data)
    assert fragment in str(caught.value)


def test_scenario_file_errors(tmp_path):
    broken = tmp_path / 'broken.json'
    broken.write_text('{"instances": ', encoding='utf-8')
    with pytest.raises(ScenarioError, match='cannot read scenario'):
        Scenario.load(str(broken))
    with pytest.raises(ScenarioError, match='cannot read scenario'):
        Scenario.load(str(tmp_path / 'missing.json'))


def test_created_at_accepts_epoch_and_iso():
    scenario = Scenario.from_dict({'instances': {
        'epoch-1': {'created_at': 1700000000},
        'iso-1': {'created_at': '2024-02-03T04:05:06Z'},
    }})
    utc = datetime.timezone.utc
    assert scenario.instances['epoch-1'].created_at == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=utc)
    assert scenario.instances['iso-1'].created_at == datetime.datetime(2024, 2, 3, 4, 5, 6, tzinfo=utc)


# ---------------------------------------------------------------------------------------------------------------
# Model validation helpers
# ---------------------------------------------------------------------------------------------------------------

def test_built_instances_fit_the_model_in_every_state():
    output_shape = server.service_model().operation_model('GetInstance').output_shape
    scenario = Scenario.from_dict({'instances': {'web-1': {'states': sorted(server.STATE_CODES)}}})
    script = scenario.instances['web-1']
    for read in range(len(server.STATE_CODES)):
        assert server.validate_against_shape({'instance': server.build_instance(script, read)}, output_shape) == []


def test_validation_reports_types_enums_and_patterns():
    output_shape = server.service_model().operation_model('GetInstance').output_shape
    scenario = Scenario.from_dict({'instances': {'web-1': {}}})
    instance = server.build_instance(scenario.instances['web-1'], 0)
    instance['state'] = {'code': 'sixteen', 'name': 'running'}
    instance['resourceType'] = 'Potato'
    instance['privateIpAddress'] = 'not-an-ip'
    problems = ' '.join(server.validate_against_shape({'instance': instance}, output_shape))
    assert 'instance.state.code' in problems
    assert "'Potato'" in problems
    assert "'not-an-ip'" in problems


def test_error_bodies_fit_the_model_error_shapes():
    for code in server.LIGHTSAIL_ERROR_CODES:
        body = server.error_body(code, 'message')
        shape = server.service_model().shape_for(code)
        assert server.validate_against_shape({k: v for k, v in body.items() if k != '__type'}, shape) == []


@pytest.mark.parametrize('header, expected', [
    (None, (None, None, None)),
    ('', (None, None, None)),
    ('Bearer abc', (None, None, None)),
    ('AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/lightsail/aws4_request, SignedHeaders=host, Signature=1',
     ('AKID', 'eu-west-1', 'lightsail')),
])
def test_parse_authorization(header, expected):
    assert server.parse_authorization(header) == expected


@settings(max_examples=60, deadline=None)
@given(states=st.lists(st.sampled_from(sorted(server.STATE_CODES)), min_size=1, max_size=6),
       public_ip_after=st.integers(min_value=0, max_value=8), reads=st.integers(min_value=1, max_value=10))
def test_reads_step_through_states_and_the_last_one_sticks(states, public_ip_after, reads):
    scenario = Scenario.from_dict({'instances': {'web-1': {'states': states, 'public_ip_after': public_ip_after}}})
    script = scenario.instances['web-1']
    seen = [scenario.read(script) for dummy in range(reads)]
    assert [instance['state']['name'] for instance in seen] == [states[min(i, len(states) - 1)] for i in range(reads)]
    assert [instance['state']['code'] for instance in seen] == [server.STATE_CODES[i['state']['name']] for i in seen]
    assert ['publicIpAddress' in instance for instance in seen] == [i >= public_ip_after for i in range(reads)]
    assert script.reads == reads


# ---------------------------------------------------------------------------------------------------------------
# Served over HTTP to boto3
# ---------------------------------------------------------------------------------------------------------------

def test_get_instance_through_boto3(lightsail):
    endpoint = lightsail({'instances': {'jada-agent': {'tags': {'role': 'agent'}}}})
    instance = client_for(endpoint).get_instance(instanceName='jada-agent')['instance']
    assert instance['name'] == 'jada-agent'
    assert instance['state'] == {'code': 16, 'name': 'running'}
    assert instance['createdAt'] == datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    assert instance['location'] == {'availabilityZone': 'us-east-1a', 'regionName': 'us-east-1'}
    assert instance['tags'] == [{'key': 'role', 'value': 'agent'}]
    assert instance['publicIpAddress'] == '203.0.113.10'
    [record] = endpoint.requests
    assert record == {'seq': 1, 'operation': 'GetInstance', 'params': {'instanceName': 'jada-agent'}, 'signed': True,
                      'access_key_id': FAKE_ACCESS_KEY, 'signing_region': REGION, 'status': 200, 'error_code': None}


def test_the_secret_key_never_reaches_the_request_log(lightsail):
    endpoint = lightsail({'instances': {'jada-agent': {}}})
    client_for(endpoint).get_instance(instanceName='jada-agent')
    assert FAKE_SECRET_KEY not in json.dumps(endpoint.requests)


def test_state_sequence_and_late_public_ip(lightsail):
    endpoint = lightsail({'instances': {'jada-agent': {'states': ['pending', 'pending', 'running'],
                                                       'public_ip_after': 4}}})
    client = client_for(endpoint)
    seen = [client.get_instance(instanceName='jada-agent')['instance'] for dummy in range(6)]
    assert [i['state']['name'] for i in seen] == ['pending', 'pending', 'running', 'running', 'running', 'running']
    assert [i.get('publicIpAddress') for i in seen] == [None] * 4 + ['203.0.113.10'] * 2
    assert endpoint.reads('jada-agent') == 6


def test_an_instance_without_public_ip(lightsail):
    endpoint = lightsail({'instances': {'private-1': {'public_ip': None}}})
    assert 'publicIpAddress' not in client_for(endpoint).get_instance(instanceName='private-1')['instance']


def test_not_found(lightsail):
    endpoint = lightsail({'instances': {'jada-agent': {}}})
    client = client_for(endpoint)
    with pytest.raises(client.exceptions.NotFoundException) as caught:
        client.get_instance(instanceName='other-one')
    assert caught.value.response['Error'] == {'Code': 'NotFoundException',
                                              'Message': 'The Instance does not exist: other-one'}
    assert caught.value.response['ResponseMetadata']['HTTPStatusCode'] == 400
    assert endpoint.requests[0]['error_code'] == 'NotFoundException'


def test_get_instances_pages(lightsail):
    names = [f'web-{n}' for n in range(5)]
    endpoint = lightsail({'page_size': 2, 'instances': {name: {} for name in names}})
    pages = list(client_for(endpoint).get_paginator('get_instances').paginate())
    assert [[i['name'] for i in page['instances']] for page in pages] == [names[0:2], names[2:4], names[4:5]]
    assert 'nextPageToken' not in pages[-1]
    assert [r['operation'] for r in endpoint.requests] == ['GetInstances'] * 3
    assert all(endpoint.reads(name) == 1 for name in names)


def test_get_instances_with_no_instances(lightsail):
    endpoint = lightsail()
    assert client_for(endpoint).get_instances()['instances'] == []


def test_bad_page_token(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}}})
    client = client_for(endpoint)
    with pytest.raises(client.exceptions.InvalidInputException):
        client.get_instances(pageToken='garbage!')


def test_throttling_burst_is_seen_as_throttling_by_botocore(lightsail, monkeypatch):
    sleeps = skip_retry_sleeps(monkeypatch)
    endpoint = lightsail({'instances': {'jada-agent': {}},
                          'errors': [{'operation': 'GetInstance', 'code': 'ThrottlingException', 'count': 2}]})
    # botocore's own retry handler retries only what it recognises as throttling.
    instance = client_for(endpoint).get_instance(instanceName='jada-agent')['instance']
    assert instance['name'] == 'jada-agent'
    assert [r['error_code'] for r in endpoint.requests] == ['ThrottlingException', 'ThrottlingException', None]
    assert len(sleeps.sleeps) == 2


def test_throttling_error_surfaces_when_retries_are_off(lightsail):
    endpoint = lightsail({'instances': {'jada-agent': {}},
                          'errors': [{'code': 'ThrottlingException', 'count': 1}]})
    client = client_for(endpoint, config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_instance(instanceName='jada-agent')
    assert caught.value.response['Error']['Code'] == 'ThrottlingException'
    assert client.get_instance(instanceName='jada-agent')['instance']['name'] == 'jada-agent'


def test_error_rules_after_operation_and_instance(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}, 'web-2': {}}, 'errors': [
        {'operation': 'GetInstance', 'instance': 'web-2', 'code': 'AccessDeniedException', 'count': 1, 'after': 1},
        {'operation': 'GetInstances', 'code': 'ServiceException', 'count': None},
    ]})
    client = client_for(endpoint, config=NO_RETRIES)
    client.get_instance(instanceName='web-2')
    client.get_instance(instanceName='web-1')
    with pytest.raises(client.exceptions.AccessDeniedException) as caught:
        client.get_instance(instanceName='web-2')
    assert caught.value.response['Error']['Message'] == 'User is not authorized to perform: lightsail:GetInstance'
    client.get_instance(instanceName='web-2')
    for dummy in range(3):
        with pytest.raises(client.exceptions.ServiceException) as caught:
            client.get_instances()
        assert caught.value.response['ResponseMetadata']['HTTPStatusCode'] == 500


def test_custom_error_message_and_status(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}},
                          'errors': [{'code': 'SlowDown', 'message': 'take it {easy}', 'status': 429}]})
    client = client_for(endpoint, config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_instance(instanceName='web-1')
    assert caught.value.response['Error'] == {'Code': 'SlowDown', 'Message': 'take it {easy}'}
    assert caught.value.response['ResponseMetadata']['HTTPStatusCode'] == 429


def test_default_message_for_an_unknown_code(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}}, 'errors': [{'code': 'Teapot'}]})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client_for(endpoint, config=NO_RETRIES).get_instance(instanceName='web-1')
    assert caught.value.response['Error'] == {'Code': 'Teapot', 'Message': 'Scripted Teapot'}


def test_scripting_while_running(lightsail):
    endpoint = lightsail()
    client = client_for(endpoint, config=NO_RETRIES)
    endpoint.add_instance('late-1', states=['pending', 'running'])
    assert client.get_instance(instanceName='late-1')['instance']['state']['name'] == 'pending'
    endpoint.add_error('ThrottlingException', operation='GetInstance')
    with pytest.raises(botocore.exceptions.ClientError):
        client.get_instance(instanceName='late-1')
    assert client.get_instance(instanceName='late-1')['instance']['state']['name'] == 'running'
    endpoint.remove_instance('late-1')
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_instance(instanceName='late-1')


# ---------------------------------------------------------------------------------------------------------------
# Authentication and region
# ---------------------------------------------------------------------------------------------------------------

def test_unknown_access_key_is_unrecognized(lightsail):
    endpoint = lightsail({'access_keys': ['AKIAOTHERKEY00000001'], 'instances': {'web-1': {}}})
    client = client_for(endpoint, config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_instance(instanceName='web-1')
    assert caught.value.response['Error']['Code'] == 'UnrecognizedClientException'
    assert client_for(endpoint, access_key='AKIAOTHERKEY00000001').get_instance(instanceName='web-1')


def test_request_signed_for_another_region_is_rejected(lightsail):
    endpoint = lightsail({'region': 'eu-west-1', 'instances': {'web-1': {}}})
    client = client_for(endpoint, region='us-east-1', config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_instance(instanceName='web-1')
    assert caught.value.response['Error']['Code'] == 'InvalidSignatureException'
    assert "'us-east-1'" in caught.value.response['Error']['Message']
    instance = client_for(endpoint, region='eu-west-1').get_instance(instanceName='web-1')['instance']
    assert instance['location']['regionName'] == 'eu-west-1'
    assert instance['arn'].startswith('arn:aws:lightsail:eu-west-1:')


def test_unsigned_requests_are_rejected_and_logged(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}}}, expect_problems=True)
    status, body = raw_post(endpoint, {'instanceName': 'web-1'}, authorization=None)
    assert (status, body['__type']) == (400, 'MissingAuthenticationTokenException')
    assert endpoint.requests[0]['signed'] is False
    assert endpoint.violations == []
    with pytest.raises(AssertionError, match='not signed'):
        endpoint.assert_clean()


def test_signature_for_another_service_is_rejected(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}}})
    status, body = raw_post(endpoint, {'instanceName': 'web-1'},
                            authorization='AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ec2/aws4_request, '
                                          'SignedHeaders=host, Signature=00')
    assert (status, body['__type']) == (400, 'InvalidSignatureException')


# ---------------------------------------------------------------------------------------------------------------
# Invalid requests and responses are answered and recorded
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('kwargs, code, status, detail', [
    (dict(body={'instanceName': 5}), 'ValidationException', 400, 'Invalid type for parameter instanceName'),
    (dict(body={}), 'ValidationException', 400, 'Missing required parameter'),
    (dict(body={'instanceName': 'web-1', 'extra': 1}), 'ValidationException', 400, 'Unknown parameter'),
    (dict(body={'instanceName': '!!'}), 'ValidationException', 400, 'must match pattern'),
    (dict(body=b'{not json'), 'SerializationException', 400, 'not JSON'),
    (dict(body=[1]), 'SerializationException', 400, 'not a JSON object'),
    (dict(body={}, content_type='application/json'), 'SerializationException', 400, 'Content-Type'),
    (dict(body={}, target='Lightsail_20161128.LaunchRockets'), 'UnknownOperationException', 400,
     'unknown operation'),
    (dict(body={}, target=None), 'UnknownOperationException', 400, 'unknown operation'),
    (dict(body={}, target='DynamoDB_20120810.ListTables'), 'UnknownOperationException', 400, 'unknown operation'),
    (dict(body={}, path='/other'), 'UnknownOperationException', 400, 'unknown operation'),
    (dict(body={}, target='Lightsail_20161128.GetBundles'), 'NotImplemented', 501, 'not implemented'),
])
def test_invalid_requests_are_rejected_and_recorded(lightsail, kwargs, code, status, detail):
    endpoint = lightsail({'instances': {'web-1': {}}}, expect_problems=True)
    got_status, body = raw_post(endpoint, **kwargs)
    assert (got_status, body['__type']) == (status, code)
    [violation] = endpoint.violations
    assert violation['kind'] == 'request'
    assert detail in violation['detail']
    with pytest.raises(AssertionError, match='the Lightsail endpoint saw problems'):
        endpoint.assert_clean()


def test_botocore_with_validation_off_cannot_sneak_past(lightsail):
    endpoint = lightsail({'instances': {'web-1': {}}}, expect_problems=True)
    client = client_for(endpoint, config=botocore.config.Config(parameter_validation=False,
                                                                retries={'max_attempts': 0}))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_instance(instanceName=42)
    assert caught.value.response['Error']['Code'] == 'ValidationException'
    assert 'instanceName' in endpoint.violations[0]['detail']


def test_a_response_that_does_not_fit_the_model_is_a_500_and_recorded(lightsail):
    endpoint = lightsail({'instances': {'web-1': {'raw': {'state': {'code': 'x', 'name': 'running'}}}}},
                         expect_problems=True)
    client = client_for(endpoint, config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_instance(instanceName='web-1')
    assert caught.value.response['Error']['Code'] == 'InternalFailure'
    assert caught.value.response['ResponseMetadata']['HTTPStatusCode'] == 500
    [violation] = endpoint.violations
    assert violation['kind'] == 'response'
    assert 'instance.state.code' in violation['detail']


def test_an_unknown_response_member_is_caught(lightsail):
    endpoint = lightsail({'instances': {'web-1': {'raw': {'favouriteColour': 'blue'}}}}, expect_problems=True)
    with pytest.raises(botocore.exceptions.ClientError):
        client_for(endpoint, config=NO_RETRIES).get_instances()
    assert 'favouriteColour' in endpoint.violations[0]['detail']


def test_handle_never_raises_on_garbage():
    endpoint = LightsailEndpoint()
    status, payload = endpoint.handle('/', {}, b'\xff\xfe')
    assert status == 400
    assert json.loads(payload)['__type'] == 'UnknownOperationException'


def test_endpoint_error_default_status():
    assert EndpointError('NotFoundException', 'x').status == 400
    assert EndpointError('ServiceUnavailable', 'x').status == 503
    assert EndpointError('Whatever', 'x', 418).status == 418


# ---------------------------------------------------------------------------------------------------------------
# Control paths, lifecycle
# ---------------------------------------------------------------------------------------------------------------

def test_control_paths(lightsail):
    endpoint = lightsail({'instances': {'web-1': {'states': ['pending', 'running']}},
                          'errors': [{'code': 'ThrottlingException', 'count': 3}]})
    client = client_for(endpoint, config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError):
        client.get_instance(instanceName='web-1')
    assert get_json(endpoint.url + '/_fake/health') == (200, {'ok': True, 'region': 'us-east-1'})
    status, requests = get_json(endpoint.url + '/_fake/requests')
    assert status == 200 and requests == endpoint.requests
    assert get_json(endpoint.url + '/_fake/violations') == (200, [])
    status, summary = get_json(endpoint.url + '/_fake/scenario')
    assert summary['instances'] == {'web-1': {'reads': 0, 'next_state': 'pending'}}
    assert summary['pending_errors'] == [{'code': 'ThrottlingException', 'operation': '*', 'count': 2, 'after': 0}]
    status, body = get_json(endpoint.url + '/_fake/nothing')
    assert status == 404 and 'health' in body['message']


def test_context_manager_and_stop_are_idempotent():
    with LightsailEndpoint({'instances': {'web-1': {}}}) as endpoint:
        url = endpoint.url
        assert get_json(url + '/_fake/health')[0] == 200
    endpoint.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + '/_fake/health', timeout=2)


def test_concurrent_clients(lightsail):
    endpoint = lightsail({'instances': {f'web-{n}': {} for n in range(4)}})
    client = client_for(endpoint)

    def read(n):
        return client.get_instance(instanceName=f'web-{n % 4}')['instance']['name']

    with ThreadPoolExecutor(max_workers=8) as pool:
        names = list(pool.map(read, range(24)))
    assert sorted(set(names)) == [f'web-{n}' for n in range(4)]
    assert len(endpoint.requests) == 24
    assert sorted(r['seq'] for r in endpoint.requests) == list(range(1, 25))


def test_on_request_callback():
    seen = []
    with LightsailEndpoint({'instances': {'web-1': {}}}, on_request=seen.append) as endpoint:
        client_for(endpoint).get_instance(instanceName='web-1')
    assert [record['operation'] for record in seen] == ['GetInstance']


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------

def _wait_for_file(path, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return open(path, encoding='utf-8').read()
        if process.poll() is not None:
            raise AssertionError(f'the endpoint exited early: {process.stderr.read()}')
        time.sleep(0.05)
    raise AssertionError('the endpoint never wrote its port file')


@pytest.fixture
def cli(tmp_path):
    """Start ``server.py`` as a process, the way the demo and the playbook tests do; stop it afterwards."""
    processes = []

    def start(*args):
        # No PYTHONPATH: the script must run on its own, outside any collection tree.
        env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
        process = subprocess.Popen([sys.executable, SERVER_SCRIPT] + list(args), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_cli_serves_a_scenario_and_stops_cleanly(cli, tmp_path):
    scenario = tmp_path / 'scenario.json'
    scenario.write_text(json.dumps({'instances': {'jada-agent': {'states': ['pending', 'running']}}}), encoding='utf-8')
    port_file = tmp_path / 'port'
    request_log = tmp_path / 'requests.jsonl'
    process = cli('--port', '0', '--scenario', str(scenario), '--port-file', str(port_file),
                  '--request-log', str(request_log), '--quiet')
    port = int(_wait_for_file(str(port_file), process).strip())
    assert process.stdout.readline().strip() == str(port)

    class Bound:
        url = f'http://127.0.0.1:{port}'

    client = client_for(Bound)
    states = [client.get_instance(instanceName='jada-agent')['instance']['state']['name'] for dummy in range(3)]
    assert states == ['pending', 'running', 'running']
    assert get_json(Bound.url + '/_fake/violations') == (200, [])
    assert len(get_json(Bound.url + '/_fake/requests')[1]) == 3

    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert not port_file.exists()
    logged = [json.loads(line) for line in request_log.read_text(encoding='utf-8').splitlines()]
    assert [record['operation'] for record in logged] == ['GetInstance'] * 3
    assert f'serving http://127.0.0.1:{port}' in stderr


def test_cli_logs_requests_to_stderr_unless_quiet(cli, tmp_path):
    port_file = tmp_path / 'port'
    process = cli('--port-file', str(port_file))
    port = int(_wait_for_file(str(port_file), process).strip())
    get_json(f'http://127.0.0.1:{port}/_fake/health')
    process.send_signal(signal.SIGINT)
    dummy, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert 'GET /_fake/health' in stderr


def test_cli_rejects_a_bad_scenario(cli, tmp_path):
    scenario = tmp_path / 'scenario.json'
    scenario.write_text(json.dumps({'instances': {'web-1': {'states': ['exploded']}}}), encoding='utf-8')
    process = cli('--scenario', str(scenario))
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "invalid scenario: instance 'web-1': unknown state 'exploded'" in stderr
    assert stdout == ''


def test_cli_reports_a_port_in_use(cli, lightsail):
    endpoint = lightsail()
    process = cli('--port', str(endpoint.port))
    dummy, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f'cannot bind 127.0.0.1:{endpoint.port}' in stderr


def test_cli_prints_the_example_scenario(cli):
    process = cli('--example-scenario')
    stdout, dummy = process.communicate(timeout=30)
    assert process.returncode == 0
    assert json.loads(stdout) == server.EXAMPLE_SCENARIO


def test_write_port_file_replaces_atomically(tmp_path):
    target = tmp_path / 'port'
    target.write_text('old', encoding='utf-8')
    server.write_port_file(str(target), 4242)
    assert target.read_text(encoding='utf-8') == '4242\n'
    assert os.listdir(tmp_path) == ['port']
