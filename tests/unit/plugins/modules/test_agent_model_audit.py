# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of jada.agent.agent_model_audit: the rows of agent_model_files read from real files, and a real moto_server
for SSM and Lambda."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

import boto3
import botocore.client
import botocore.exceptions
import botocore.httpsession
import pytest

from ansible_collections.jada.agent.plugins.modules import agent_model_audit as module
from ansible_collections.jada.agent.plugins.modules import agent_model_files
from ansible_collections.jada.agent.tests.unit.plugins.modules.model_files_fixtures import (
    API_KEY,
    DEFAULT_VOLUME,
    VOLUMES,
    by_source,
    file_sources,
    run_without,
    write_tree,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module


REGION = 'us-east-1'
ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE'
SECRET_KEY = 'not-a-real-secret-key-d41d8cd98f00'
# A SecureString value that appears nowhere else (policy, pricing, files), so any leak is visible.
SECRET_MODEL = 'claude-sonnet-4-5-20250929'
SECRET_COMPLIANT = 'us.anthropic.claude-haiku-4-5-20251001-v1:0'


# -- moto_server ------------------------------------------------------------------------------------------------

# ansible-test runs every test in a fork that ends with os._exit, so no fixture teardown runs there and a
# session fixture would start a server per test. Instead one server per pytest process (the one that
# imported this module) is shared through a registry file, and a watchdog ends it when that process exits.
OWNER_PID = os.getpid()
REGISTRY = os.path.join(tempfile.gettempdir(), 'jada-agent-model-audit-moto-%d.json' % OWNER_PID)
WATCHDOG = """
import os, signal, subprocess, sys, time
owner, registry = int(sys.argv[1]), sys.argv[2]
server = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
try:
    while server.poll() is None:
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
finally:
    server.kill()
    server.wait()
    for path in (registry, registry + '.lock'):
        try:
            os.unlink(path)
        except OSError:
            pass
"""


def moto_command(port):
    found = shutil.which('moto_server') or os.path.join(os.path.dirname(sys.executable), 'moto_server')
    if os.path.exists(found):
        return [found, '-H', '127.0.0.1', '-p', str(port)]
    return [sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p', str(port)]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def answers(url, timeout=2):
    try:
        urllib.request.urlopen(url + '/moto-api/', timeout=timeout).read()
        return True
    except OSError:
        return False


def start_moto():
    for attempt in range(3):
        port = free_port()
        url = 'http://127.0.0.1:%d' % port
        watchdog = subprocess.Popen([sys.executable, '-c', WATCHDOG, str(OWNER_PID), REGISTRY] + moto_command(port),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while watchdog.poll() is None and time.monotonic() < deadline:
            if answers(url):
                return url
            time.sleep(0.1)
        # Lost the port to another process between choosing and binding it: try another one.
        if watchdog.poll() is None:
            watchdog.terminate()
            watchdog.wait()
    pytest.fail('moto_server did not start')


@pytest.fixture(scope='session')
def moto_url():
    with open(REGISTRY + '.lock', 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(REGISTRY) as handle:
                url = json.load(handle)['url']
            if answers(url):
                return url
        except (OSError, ValueError, KeyError):
            pass
        url = start_moto()
        with open(REGISTRY, 'w') as handle:
            json.dump(dict(url=url), handle)
        return url


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch, tmp_path):
    """No AWS settings of the machine leak in, and no request leaves the machine."""
    for name in list(os.environ):
        if name.startswith('AWS_') or name == 'ANSIBLE_DEBUG_BOTOCORE_LOGS':
            monkeypatch.delenv(name)
    monkeypatch.setenv('AWS_CONFIG_FILE', str(tmp_path / 'no-aws-config'))
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', str(tmp_path / 'no-aws-credentials'))
    original = botocore.httpsession.URLLib3Session.send

    def send(session, request):
        if not request.url.startswith('http://127.0.0.1:'):
            raise AssertionError('request off this machine: %s' % request.url)
        return original(session, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, 'send', send)


class Aws(object):
    """boto3 clients on a freshly reset moto_server, and the module arguments that reach it."""

    def __init__(self, url):
        self.url = url
        urllib.request.urlopen(urllib.request.Request(url + '/moto-api/reset', method='POST')).read()
        kwargs = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY)
        self.ssm = boto3.client('ssm', **kwargs)
        self.iam = boto3.client('iam', **kwargs)
        self.lambda_ = boto3.client('lambda', **kwargs)
        self.role = None

    def args(self, **more):
        args = dict(endpoint_url=self.url, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        args.update(more)
        return args

    def put(self, name, value, kind='String', **extra):
        self.ssm.put_parameter(Name=name, Value=value, Type=kind, **extra)

    def parameter(self, name):
        parameter = self.ssm.get_parameter(Name=name, WithDecryption=True)['Parameter']
        described = self.ssm.describe_parameters(
            ParameterFilters=[dict(Key='Name', Option='Equals', Values=[name])])['Parameters'][0]
        return dict(value=parameter['Value'], type=parameter['Type'], version=parameter['Version'],
                    key_id=described.get('KeyId'), tier=described.get('Tier'))

    def function(self, name, variables):
        if self.role is None:
            policy = json.dumps({'Version': '2012-10-17', 'Statement': [{
                'Effect': 'Allow', 'Principal': {'Service': 'lambda.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]})
            self.role = self.iam.create_role(RoleName='jada-agent-lambda', AssumeRolePolicyDocument=policy)['Role']['Arn']
        code = io.BytesIO()
        with zipfile.ZipFile(code, 'w') as archive:
            archive.writestr('index.py', 'def handler(event, context):\n    return event\n')
        extra = {'Environment': {'Variables': variables}} if variables is not None else {}
        return self.lambda_.create_function(FunctionName=name, Runtime='python3.12', Role=self.role,
                                            Handler='index.handler', Code={'ZipFile': code.getvalue()},
                                            **extra)['FunctionArn']

    def variables(self, name):
        configuration = self.lambda_.get_function_configuration(FunctionName=name)
        return (configuration.get('Environment') or {}).get('Variables') or {}

    def seed(self):
        """The agents of the docs: SSM under /jada/agents/ and three Lambda functions."""
        self.put('/jada/agents/orchestrator/model', 'claude-sonnet-4-6')
        self.put('/jada/agents/validator/model', 'claude-sonnet-4-6')
        self.put('/jada/agents/summarizer/model', 'claude-haiku-4-5-20251001', 'StringList')
        self.put('/jada/agents/scout/model', SECRET_MODEL, 'SecureString', KeyId='alias/jada-agents',
                 Tier='Advanced')
        self.put('/jada/agents/triage/model', SECRET_COMPLIANT, 'SecureString')
        self.put('/jada/agents/scout/api_key', API_KEY, 'SecureString')
        self.put('/jada/other/writer/model', 'claude-opus-4-5')
        self.arns = dict(
            classifier=self.function('jada-classifier', {'ANTHROPIC_MODEL': 'claude-sonnet-4-6', 'LOG_LEVEL': 'info',
                                                         'ANTHROPIC_API_KEY': API_KEY}),
            router=self.function('jada-router', {'ANTHROPIC_MODEL': 'haiku'}),
            thumbnail=self.function('thumbnailer', {'SIZE': '128'}),
            bare=self.function('jada-bare', None),
        )


@pytest.fixture
def aws(moto_url):
    return Aws(moto_url)


def run(capsys, args, check_mode=False, diff=False):
    return run_module(module.main, args, capsys, check_mode=check_mode, diff=diff)


def read_files(capsys, args, check_mode=False, diff=False):
    """What agent_model_files returns on a host, for include_rows and include_errors."""
    return run_module(agent_model_files.main, args, capsys, check_mode=check_mode, diff=diff)


@pytest.fixture
def tree(tmp_path):
    return write_tree(tmp_path)


# -- the hosts' rows --------------------------------------------------------------------------------------------

def test_host_rows_are_rated_with_costs_summary_and_table(tree, capsys):
    root, paths = tree
    host = read_files(capsys, dict(json_files=file_sources(root)))
    result = run(capsys, dict(include_rows=host['rows'], include_errors=host['errors'], token_volumes=VOLUMES,
                              default_token_volume=DEFAULT_VOLUME))
    assert not result.failed and result['changed'] is False
    rows = by_source(result)
    assert set(rows) == set(paths.values()) - {paths['broken']}
    assert [(row['agent'], row['source']) for row in result['rows']] == sorted(
        (row['agent'], row['source']) for row in result['rows'])

    validator = rows[paths['validator']]
    assert validator == dict(agent='validator', source_type='json_file', source=paths['validator'],
                             source_name='lambda-configs', model='claude-sonnet-4-6', secure=False,
                             policy_model='claude-haiku-4-5', policy_rule='default', compliant=False, fixed=False,
                             monthly_cost_usd=10.5, policy_monthly_cost_usd=3.5, note=None)
    orchestrator = rows[paths['orchestrator']]
    assert (orchestrator['compliant'], orchestrator['policy_rule']) == (True, 'agent')
    assert (orchestrator['monthly_cost_usd'], orchestrator['policy_monthly_cost_usd']) == (60.0, 60.0)
    summarizer = rows[paths['summarizer']]
    assert (summarizer['model'], summarizer['compliant'], summarizer['note']) == (None, False, 'no model set')
    research = rows[paths['research']]
    # "opus" has no price.
    assert (research['agent'], research['model'], research['compliant']) == ('research', 'opus', False)
    assert (research['monthly_cost_usd'], research['note']) == (None, 'model not in the pricing table')
    writer = rows[paths['writer']]
    assert (writer['agent'], writer['compliant'], writer['monthly_cost_usd']) == ('writer', True, 3.5)

    assert result['errors'] == host['errors'] and len(result['errors']) == 1
    summary = result['summary']
    assert summary == dict(sources=5, agents=5, compliant=2, non_compliant=3,
                           non_compliant_agents=['research', 'summarizer', 'validator'], fixed=0, errors=1,
                           monthly_cost_usd=74.0, policy_monthly_cost_usd=74.0,
                           uniform_monthly_cost_usd={'claude-sonnet-4-6': 102.0, 'claude-haiku-4-5': 34.0},
                           agents_without_cost=['research', 'summarizer'])
    assert API_KEY not in result.text
    assert 'validator' in result['table'] and '(no model set)' in result['table']


def test_the_verdict_a_host_acted_on_is_reported_as_it_is(tree, capsys):
    root, paths = tree
    host = read_files(capsys, dict(json_files=file_sources(root), fix=True))
    # Another default here: were the verdict made a second time, the corrected files would be reported against it.
    result = run(capsys, dict(include_rows=[dict(row, host='agent-host-1') for row in host['rows']],
                              include_errors=host['errors'], default_model='claude-sonnet-4-6'))
    rows = by_source(result)
    assert sorted(row['agent'] for row in result['rows'] if row['fixed']) == ['research', 'summarizer', 'validator']
    validator = rows[paths['validator']]
    assert (validator['model'], validator['policy_model'], validator['compliant']) == (
        'claude-sonnet-4-6', 'claude-haiku-4-5', False)
    assert rows[paths['writer']]['compliant'] is True
    assert result['summary']['fixed'] == 3 and result['summary']['non_compliant'] == 3
    assert 'no (fixed)' in result['table'] and '3 fixed' in result['table']
    assert result['table'].startswith('HOST')


def test_unfixable_host_row_keeps_its_note_after_the_cost_notes(tmp_path, capsys):
    (tmp_path / 'agent-b').mkdir()
    (tmp_path / 'agent-b' / 'config.json').write_text('{"list": [{"model": "claude-sonnet-4-6"}]}')
    host = read_files(capsys, dict(json_files=[dict(glob=str(tmp_path / '*' / 'config.json'),
                                                    query='list[0].model')], fix=True))
    result = run(capsys, dict(include_rows=host['rows']))
    row = result['rows'][0]
    assert (row['fixed'], row['compliant']) == (False, False)
    assert row['note'] == 'no token volume for this agent; not fixable: the query is not a plain field path'


def test_check_mode_table_says_would_fix(tree, capsys):
    root, paths = tree
    host = read_files(capsys, dict(json_files=file_sources(root), fix=True), check_mode=True)
    result = run(capsys, dict(include_rows=host['rows']), check_mode=True)
    assert result['changed'] is False and result['summary']['fixed'] == 3
    assert 'no (would fix)' in result['table'] and '3 would be fixed' in result['table']


def test_empty_include_rows_gives_an_empty_report(capsys):
    result = run(capsys, dict(include_rows=[]))
    assert result['rows'] == [] and result['errors'] == [] and result['summary']['agents'] == 0
    assert result['table'].splitlines()[0].startswith('AGENT')


def test_rating_host_rows_needs_no_boto3(tree):
    """On a controller without boto3 and botocore, host rows are rated; an AWS source says what is missing."""
    root, paths = tree
    rows = [dict(agent='validator', source_type='json_file', source=paths['validator'], source_name=None,
                 model='claude-sonnet-4-6', fixed=False, note=None)]
    result = run_without(['boto3', 'botocore'], 'agent_model_audit', dict(include_rows=rows))
    assert not result.get('failed'), result
    assert result['summary']['non_compliant'] == 1
    result = run_without(['boto3', 'botocore'], 'agent_model_audit', dict(ssm_paths=[dict(path='/jada/agents/')],
                                                                          region=REGION))
    assert result['failed'] and 'boto3' in result['msg'] and 'ssm_paths' in result['msg']


# -- SSM and Lambda ---------------------------------------------------------------------------------------------

def aws_sources(**lambda_options):
    return dict(ssm_paths=[dict(path='/jada/agents/')], lambda_functions=dict(name_filter='jada-*', **lambda_options),
                token_volumes=VOLUMES, default_token_volume=DEFAULT_VOLUME)


def test_ssm_and_lambda_report(monkeypatch, aws, capsys):
    aws.seed()
    result = run(capsys, aws.args(**aws_sources()))
    assert not result.failed and result['changed'] is False
    rows = by_source(result)
    assert sorted(rows) == sorted(['/jada/agents/orchestrator/model', '/jada/agents/validator/model',
                                   '/jada/agents/summarizer/model', '/jada/agents/scout/model',
                                   '/jada/agents/triage/model', aws.arns['classifier'], aws.arns['router']])
    assert rows['/jada/agents/validator/model'] == dict(
        agent='validator', source_type='ssm', source='/jada/agents/validator/model', source_name=None,
        model='claude-sonnet-4-6', secure=False, policy_model='claude-haiku-4-5', policy_rule='default',
        compliant=False, fixed=False, monthly_cost_usd=10.5, policy_monthly_cost_usd=3.5, note=None)
    assert rows['/jada/agents/summarizer/model']['compliant'] is True
    scout = rows['/jada/agents/scout/model']
    assert (scout['model'], scout['secure'], scout['compliant'], scout['monthly_cost_usd']) == (
        '(SecureString, hidden)', True, False, 10.5)
    triage = rows['/jada/agents/triage/model']
    assert (triage['model'], triage['compliant']) == ('(SecureString, hidden)', True)
    classifier = rows[aws.arns['classifier']]
    assert classifier['agent'] == 'jada-classifier'
    assert (classifier['source_type'], classifier['compliant']) == ('lambda', False)
    # jada-* volume: 4 * 3 + 1 * 15 on Sonnet, 4 * 1 + 1 * 5 under the policy.
    assert (classifier['monthly_cost_usd'], classifier['policy_monthly_cost_usd']) == (27.0, 9.0)
    assert rows[aws.arns['router']]['compliant'] is True
    assert result['summary']['monthly_cost_usd'] == 60.0 + 10.5 + 3.5 + 10.5 + 3.5 + 27.0 + 9.0
    for leak in (SECRET_MODEL, SECRET_COMPLIANT, API_KEY, SECRET_KEY, 'LOG_LEVEL'):
        assert leak not in result.text


def test_lambda_functions_without_the_variable(monkeypatch, aws, capsys):
    aws.seed()
    result = run(capsys, aws.args(lambda_functions=dict(report_unset=True)))
    rows = by_source(result)
    assert sorted(row['agent'] for row in result['rows']) == ['jada-bare', 'jada-classifier', 'jada-router',
                                                              'thumbnailer']
    bare = rows[aws.arns['bare']]
    assert (bare['model'], bare['compliant'], bare['fixed']) == (None, False, False)
    assert bare['note'] == 'no model set; no token volume for this agent'
    result = run(capsys, aws.args(lambda_functions=dict(variable='SIZE')))
    assert [row['agent'] for row in result['rows']] == ['thumbnailer']


def test_ssm_naming_and_filters(monkeypatch, aws, capsys):
    aws.put('/jada/agent-models/orchestrator', 'claude-sonnet-4-6')
    aws.put('/jada/agent-models/deep/validator', 'claude-sonnet-4-6')
    aws.put('/model', 'claude-sonnet-4-6')
    result = run(capsys, aws.args(ssm_paths=[
        dict(path='/jada/agent-models', agent_name='leaf', name_filter='*', recursive=False),
        dict(path='/', name_filter='/model'),
    ]))
    assert [(row['agent'], row['compliant']) for row in result['rows']] == [('orchestrator', True)]
    assert result['errors'] == [dict(source_type='ssm', source='/model', line=None, column=None,
                                     error='the parameter name has no parent segment to name the agent after')]


def test_fix_ssm_keeps_types_and_leaves_lambda_alone(monkeypatch, aws, capsys):
    aws.seed()
    before = dict((name, aws.parameter(name)) for name in ('/jada/agents/scout/model', '/jada/agents/triage/model',
                                                           '/jada/agents/orchestrator/model'))
    args = aws.args(fix=True, **aws_sources())
    result = run(capsys, args, diff=True)
    assert result['changed'] is True
    fixed = sorted(row['source'] for row in result['rows'] if row['fixed'])
    assert fixed == ['/jada/agents/scout/model', '/jada/agents/validator/model']
    assert aws.parameter('/jada/agents/validator/model')['value'] == 'claude-haiku-4-5'
    assert aws.parameter('/jada/agents/validator/model')['type'] == 'String'
    scout = aws.parameter('/jada/agents/scout/model')
    assert (scout['value'], scout['type'], scout['key_id'], scout['tier']) == (
        'claude-haiku-4-5', 'SecureString', 'alias/jada-agents', 'Advanced')
    for name, parameter in before.items():
        if name != '/jada/agents/scout/model':
            assert aws.parameter(name) == parameter
    assert aws.ssm.get_parameter(Name='/jada/agents/scout/api_key', WithDecryption=True)['Parameter']['Value'] == API_KEY
    # Lambda is report-only without fix_lambda.
    classifier = by_source(result)[aws.arns['classifier']]
    assert (classifier['fixed'], classifier['note']) == (False, 'report only: fix_lambda is false')
    assert aws.variables('jada-classifier')['ANTHROPIC_MODEL'] == 'claude-sonnet-4-6'

    diff = dict((entry['before_header'], entry) for entry in result['diff'])
    secure = diff['ssm /jada/agents/scout/model (agent scout)']
    assert (secure['before'], secure['after']) == ('model: (SecureString, hidden)\n',
                                                   'model: (SecureString, hidden)\n')
    plain = diff['ssm /jada/agents/validator/model (agent validator)']
    assert (plain['before'], plain['after']) == ('model: claude-sonnet-4-6\n', 'model: claude-haiku-4-5\n')
    for leak in (SECRET_MODEL, API_KEY, SECRET_KEY):
        assert leak not in result.text

    again = run(capsys, args)
    assert again['changed'] is False and again['summary']['fixed'] == 0
    assert [row['agent'] for row in again['rows'] if not row['compliant']] == ['jada-classifier']


def test_fix_lambda_updates_only_the_variable(monkeypatch, aws, capsys):
    aws.seed()
    args = aws.args(fix=True, fix_lambda=True, **aws_sources())
    result = run(capsys, args, diff=True)
    assert by_source(result)[aws.arns['classifier']]['fixed'] is True
    assert aws.variables('jada-classifier') == {'ANTHROPIC_MODEL': 'claude-haiku-4-5', 'LOG_LEVEL': 'info',
                                                'ANTHROPIC_API_KEY': API_KEY}
    assert aws.variables('jada-router') == {'ANTHROPIC_MODEL': 'haiku'}
    assert aws.variables('thumbnailer') == {'SIZE': '128'}
    assert API_KEY not in result.text and 'LOG_LEVEL' not in result.text
    again = run(capsys, args)
    assert again['changed'] is False and again['summary']['non_compliant'] == 0


def test_check_mode_changes_nothing_in_aws(monkeypatch, aws, capsys):
    aws.seed()
    names = ['/jada/agents/%s/model' % agent for agent in ('orchestrator', 'validator', 'scout', 'triage')]
    before = dict((name, aws.parameter(name)) for name in names)
    result = run(capsys, aws.args(fix=True, fix_lambda=True, **aws_sources()), check_mode=True, diff=True)
    assert result['changed'] is True
    assert sorted(row['agent'] for row in result['rows'] if row['fixed']) == ['jada-classifier', 'scout', 'validator']
    assert dict((name, aws.parameter(name)) for name in names) == before
    assert aws.variables('jada-classifier')['ANTHROPIC_MODEL'] == 'claude-sonnet-4-6'
    for leak in (SECRET_MODEL, SECRET_COMPLIANT, API_KEY):
        assert leak not in result.text


def test_policy_patterns_and_exact_match(monkeypatch, aws, capsys):
    aws.seed()
    result = run(capsys, aws.args(
        ssm_paths=[dict(path='/jada/')], model_match='exact', default_model='claude-haiku-4-5',
        policy=[dict(agent='*', model='claude-sonnet-4-6'), dict(agent='s*', model='claude-haiku-4-5'),
                dict(agent='summarizer', model='claude-haiku-4-5-20251001')]))
    rows = dict((row['agent'], row) for row in result['rows'])
    assert rows['summarizer']['policy_rule'] == 'agent' and rows['summarizer']['compliant'] is True
    assert rows['scout']['policy_rule'] == 'pattern *' and rows['scout']['compliant'] is False
    assert rows['writer']['policy_model'] == 'claude-sonnet-4-6' and rows['writer']['compliant'] is False


def test_include_rows_merges_host_results(monkeypatch, aws, tree, capsys):
    root, paths = tree
    aws.seed()
    host = read_files(capsys, dict(json_files=file_sources(root)))
    included = [dict(row, host='agent-host-1') for row in host['rows']]
    result = run(capsys, aws.args(include_rows=included, **aws_sources()))
    assert result['summary']['sources'] == 5 + 7
    # orchestrator, validator and summarizer are in both.
    assert result['summary']['agents'] == 5 + 7 - 3
    assert result['table'].startswith('HOST')
    hosted = [row for row in result['rows'] if row.get('host')]
    assert len(hosted) == 5 and by_source(result)[paths['validator']]['monthly_cost_usd'] == 10.5


def test_aws_failure_names_the_source_and_leaks_nothing(monkeypatch, aws, capsys):
    aws.seed()
    original = botocore.client.BaseClient._make_api_call

    def refuse_put(self, operation, params):
        if operation == 'PutParameter':
            raise botocore.exceptions.ClientError(
                {'Error': {'Code': 'AccessDeniedException', 'Message': 'not allowed to ssm:PutParameter'}},
                operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, '_make_api_call', refuse_put)
    result = run(capsys, aws.args(fix=True, **aws_sources()))
    assert result.failed
    assert result['msg'].startswith("Failed to fix the SSM parameter '/jada/agents/scout/model'")
    assert 'not allowed to ssm:PutParameter' in result['msg']
    for leak in (SECRET_MODEL, SECRET_COMPLIANT, API_KEY, SECRET_KEY):
        assert leak not in result.text


def test_unreachable_endpoint_fails_cleanly(monkeypatch, capsys):
    result = run(capsys, dict(ssm_paths=[dict(path='/jada/agents/')], region=REGION,
                              endpoint_url='http://127.0.0.1:%d' % free_port(), access_key=ACCESS_KEY,
                              secret_key=SECRET_KEY, aws_config=dict(retries=dict(max_attempts=1))))
    assert result.failed and "Failed to read the SSM parameters under '/jada/agents/'" in result['msg']
    assert SECRET_KEY not in result.text


def test_overlapping_paths_give_one_row_each(monkeypatch, aws, capsys):
    aws.seed()
    ssm_paths = [dict(path='/jada/'), dict(path='/jada/agents/')]
    result = run(capsys, aws.args(ssm_paths=ssm_paths, fix=True))
    assert result['summary']['sources'] == 6
    sources = [(row['source_type'], row['source']) for row in result['rows']]
    assert len(sources) == len(set(sources))
    assert aws.parameter('/jada/agents/validator/model')['version'] == 2


@pytest.mark.parametrize('args, fragment', [
    (dict(), 'Nothing to audit'),
    (dict(include_rows=[], fix_lambda=True), 'fix_lambda=true only takes effect'),
    (dict(include_rows=[], pricing={'x': {'input': 1}}), 'pricing[x] needs output'),
    (dict(include_rows=[dict(agent='a', source_type='ftp')]), "source_type 'ftp'"),
    (dict(include_rows=[], policy=[dict(agent='a', model='')]), 'policy[0].model'),
    # Files are read on their hosts, by agent_model_files.
    (dict(json_files=[dict(glob='/nonexistent/*.json')]), 'Unsupported parameters'),
])
def test_bad_options_fail(monkeypatch, args, fragment, capsys):
    result = run(capsys, args)
    assert result.failed and fragment in result['msg']
