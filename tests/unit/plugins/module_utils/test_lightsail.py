# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of module_utils/lightsail: the whole run of lightsail_instance_info on any AnsibleAWSModule-like object,
with botocore's Stubber as Lightsail.

Its small functions are tested through the module, which still offers them (tests/unit/plugins/modules).
"""

from __future__ import annotations

import datetime

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.jada.agent.plugins.module_utils import lightsail
from ansible_collections.jada.agent.plugins.module_utils.aws_retry import retry_with_backoff
from ansible_collections.jada.agent.plugins.modules import lightsail_instance_info
from ansible_collections.jada.agent.tests.unit.plugins.modules.lightsail_fixtures import (
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    REGION,
    isolate_aws_environment,
    skip_retry_sleeps,
    stubbed_client,
)


@pytest.fixture(autouse=True)
def clean_aws_environment(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path)


class Ended(Exception):
    """How FakeModule's exit_json, fail_json and fail_json_aws end the run, as SystemExit ends a module."""

    def __init__(self, how, result):
        super().__init__(how)
        self.how = how
        self.result = result


class FakeModule:
    """What run() uses of AnsibleAWSModule; records warnings and the clients asked for."""

    def __init__(self, client, **params):
        self.params = dict(
            name=None, names=None, expected_state=None, wait=False, wait_timeout=300, wait_delay=0,
            wait_for_public_ip=False, fail_if_not_found=True, region=REGION, endpoint_url='http://127.0.0.1:9',
            access_key=FAKE_ACCESS_KEY, secret_key=FAKE_SECRET_KEY, session_token=None, profile=None,
            validate_certs=True, aws_ca_bundle=None, aws_config=None,
        )
        self.params.update(params)
        self._client = client
        self.warnings = []
        self.services = []

    def warn(self, warning):
        self.warnings.append(warning)

    def client(self, service, retry_decorator=None):
        self.services.append((service, retry_decorator))
        return self._client

    def exit_json(self, **result):
        raise Ended('exit_json', result)

    def fail_json(self, msg, **result):
        raise Ended('fail_json', dict(result, msg=msg))

    def fail_json_aws(self, exception, msg=None):
        raise Ended('fail_json_aws', dict(msg=msg, code=lightsail.error_code(exception)))


def instance(name, state='running', public_ip='203.0.113.10'):
    found = {'name': name, 'state': {'code': 16 if state == 'running' else 0, 'name': state},
             'createdAt': datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc), 'privateIpAddress': '172.26.0.10'}
    if public_ip:
        found['publicIpAddress'] = public_ip
    return found


def answer(operation, response=None, params=None, error=None):
    return dict(operation=operation, response=response, params=params, error=error)


# (id, parameters, what Lightsail answers in turn, how the run ends, what the result holds)
RUNS = [
    ('one-running', dict(name='web-1', expected_state='running'),
     [answer('get_instance', {'instance': instance('web-1')}, {'instanceName': 'web-1'})],
     'exit_json', dict(changed=False, exists=True, state='running', public_ip_address='203.0.113.10')),
    ('one-missing-tolerated', dict(name='web-1', fail_if_not_found=False),
     [answer('get_instance', params={'instanceName': 'web-1'}, error='NotFoundException')],
     'exit_json', dict(exists=False, state=None, instance={})),
    ('one-missing', dict(name='web-1'),
     [answer('get_instance', params={'instanceName': 'web-1'}, error='NotFoundException')],
     'fail_json', dict(exists=False, msg="Lightsail instance 'web-1' was not found in region us-east-1 "
                                         "(endpoint http://127.0.0.1:9)")),
    ('one-stopped', dict(name='web-1', expected_state='running'),
     [answer('get_instance', {'instance': instance('web-1', 'stopped')}, {'instanceName': 'web-1'})],
     'fail_json', dict(state='stopped', msg="Lightsail instance 'web-1' in region us-east-1 (endpoint "
                                            "http://127.0.0.1:9) is 'stopped', expected 'running', checked once "
                                            "without waiting (set wait=true to wait)")),
    ('one-waited-for', dict(name='web-1', expected_state='running', wait=True, wait_for_public_ip=True),
     [answer('get_instance', {'instance': instance('web-1', 'pending', None)}, {'instanceName': 'web-1'}),
      answer('get_instance', {'instance': instance('web-1', 'running', None)}, {'instanceName': 'web-1'}),
      answer('get_instance', {'instance': instance('web-1')}, {'instanceName': 'web-1'})],
     'exit_json', dict(state='running', public_ip_address='203.0.113.10')),
    ('several-in-order', dict(names=['web-2', 'gone-1', 'web-1', 'web-2'], fail_if_not_found=False),
     [answer('get_instances', {'instances': [instance('web-1')], 'nextPageToken': 't1'}, {}),
      answer('get_instances', {'instances': [instance('web-2', 'stopped')]}, {'pageToken': 't1'})],
     'exit_json', dict(exists=False)),
    ('several-missing', dict(names=['gone-1', 'web-1']),
     [answer('get_instances', {'instances': [instance('web-1')]}, {})],
     'fail_json', dict(msg="Lightsail instance 'gone-1' was not found in region us-east-1 "
                           "(endpoint http://127.0.0.1:9)")),
    ('access-denied', dict(names=['web-1']),
     [answer('get_instances', params={}, error='AccessDeniedException')],
     'fail_json_aws', dict(code='AccessDeniedException',
                           msg="Failed to read Lightsail instances 'web-1' in region us-east-1 (endpoint "
                               "http://127.0.0.1:9): the credentials are not allowed to read Lightsail instances "
                               "(lightsail:GetInstance/GetInstances)")),
    ('nothing-to-wait-for', dict(name='web-1', wait=True), [],
     'fail_json', dict(msg='wait=true needs expected_state (for example running) or wait_for_public_ip=true to know '
                           'what to wait for')),
]


@pytest.fixture
def stubbed():
    yield from stubbed_client()


def ended(module):
    with pytest.raises(Ended) as caught:
        lightsail.run(module)
    return caught.value


@pytest.mark.parametrize('params, answers, how, expected', [run[1:] for run in RUNS], ids=[run[0] for run in RUNS])
def test_run(stubbed, monkeypatch, params, answers, how, expected):
    skip_retry_sleeps(monkeypatch)
    client, stubber = stubbed
    for item in answers:
        if item['error']:
            stubber.add_client_error(item['operation'], item['error'], 'no', 400, expected_params=item['params'])
        else:
            stubber.add_response(item['operation'], item['response'], item['params'])
    module = FakeModule(client, **params)
    end = ended(module)
    assert end.how == how
    assert {key: end.result.get(key) for key in expected} == expected
    assert module.warnings == []
    assert module.services == ([('lightsail', retry_with_backoff)] if answers else [])
    assert FAKE_SECRET_KEY not in repr(end.result)


def test_run_returns_the_instances_in_the_order_asked(stubbed):
    client, stubber = stubbed
    stubber.add_response('get_instances', {'instances': [instance('web-1'), instance('web-2', 'stopped')]}, {})
    result = ended(FakeModule(client, names=['web-2', 'gone-1', 'web-1'], fail_if_not_found=False)).result
    assert [(entry['name'], entry['exists'], entry['state']) for entry in result['instances']] == \
        [('web-2', True, 'stopped'), ('gone-1', False, None), ('web-1', True, 'running')]
    created = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    assert result['instances'][2]['instance']['created_at'] == created


@pytest.mark.parametrize('region, endpoint_url, warned', [
    ('us-east-1', None, False),
    ('us-nowhere-1', None, True),
    ('us-nowhere-1', 'http://127.0.0.1:9', False),
])
def test_run_warns_of_a_region_botocore_does_not_know_before_any_request(region, endpoint_url, warned):
    class Refused(Exception):
        pass

    def refuse(service, retry_decorator=None):
        raise Refused(service)

    module = FakeModule(None, name='web-1', region=region, endpoint_url=endpoint_url)
    module.client = refuse
    with pytest.raises(Refused):
        lightsail.run(module)
    assert bool(module.warnings) is warned
    assert all("'us-nowhere-1' is not a Lightsail region known to botocore" in warning for warning in module.warnings)


def test_module_kwargs_build_an_ansible_aws_module():
    kwargs = lightsail.module_kwargs()
    assert kwargs['argument_spec'] == lightsail.argument_spec()
    assert kwargs['mutually_exclusive'] == kwargs['required_one_of'] == [('name', 'names')]
    assert kwargs['supports_check_mode'] is True
    # AnsibleAWSModule hands them on to AnsibleModule, which must know every one.
    accepted = AnsibleModule.__init__.__code__.co_varnames[:AnsibleModule.__init__.__code__.co_argcount]
    assert set(kwargs) <= set(accepted)
    assert lightsail.module_kwargs() is not kwargs and lightsail.module_kwargs() == kwargs


@pytest.mark.parametrize('name', lightsail.__all__)
def test_the_module_still_offers_every_function(name):
    assert getattr(lightsail_instance_info, name) is getattr(lightsail, name)
