"""audit-models.yml against real files in the container and SSM/Lambda in moto_server."""

import io
import json
import os
import sys
import zipfile

import boto3
import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-drift'
SECURE_VALUE = 'claude-sonnet-4-6'
CREDENTIALS = {'aws_access_key_id': 'testing', 'aws_secret_access_key': 'audit-secret-do-not-print',
               'region_name': 'us-east-1'}
ROUTER = '/opt/jada/lambda/router/config.json'
ROUTER_TEXT = '{\n    "name": "router",\n    "model": "claude-sonnet-4-6",\n    "env": {"API_TOKEN": "tok-123"}\n}'


@pytest.fixture(scope='module', name='aws')
def fixture_aws():
    process, url = jada_molecule.start_moto_server()
    ssm = boto3.client('ssm', endpoint_url=url, **CREDENTIALS)
    ssm.put_parameter(Name='/jada/agents/validator/model', Value='claude-haiku-4-5', Type='String')
    ssm.put_parameter(Name='/jada/agents/planner/model', Value=SECURE_VALUE, Type='SecureString')
    ssm.put_parameter(Name='/jada/agents/planner/api_key', Value='sk-planner-secret', Type='SecureString')
    iam = boto3.client('iam', endpoint_url=url, **CREDENTIALS)
    role = iam.create_role(RoleName='jada-lambda', AssumeRolePolicyDocument='{}')['Role']['Arn']
    lambda_ = boto3.client('lambda', endpoint_url=url, **CREDENTIALS)
    code = io.BytesIO()
    with zipfile.ZipFile(code, 'w') as archive:
        archive.writestr('index.py', 'def handler(event, context):\n    return event\n')
    for name, model in (('summarizer', 'claude-sonnet-4-6'), ('classifier', 'claude-haiku-4-5')):
        lambda_.create_function(FunctionName=name, Runtime='python3.12', Role=role, Handler='index.handler',
                                Code={'ZipFile': code.getvalue()},
                                Environment={'Variables': {'ANTHROPIC_MODEL': model, 'LOG_LEVEL': 'info'}})
    yield {'url': url, 'ssm': ssm, 'lambda': lambda_}
    process.terminate()
    process.wait()


@pytest.fixture(scope='module', name='agent_files')
def fixture_agent_files():
    host = testinfra.get_host('podman://' + HOST)
    host.check_output('mkdir -p /opt/jada/lambda/router /opt/jada/lambda/validator')
    host.check_output("printf '%%s' '%s' > %s" % (ROUTER_TEXT, ROUTER))
    host.check_output("""printf '{"model": "claude-haiku-4-5"}\\n' > /opt/jada/lambda/validator/config.json""")
    return host


def audit(aws, report_dir, *extra):
    args = ['-e', 'jada_agent_audit_aws_endpoint_url=' + aws['url'], '-e', 'jada_agent_audit_aws_access_key=testing',
            '-e', 'jada_agent_audit_aws_secret_key=' + CREDENTIALS['aws_secret_access_key'],
            '-e', 'jada_agent_audit_report_dir=%s' % report_dir] + list(extra)
    run = jada_molecule.run_playbook('playbooks/audit-models.yml', *args)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(os.path.join(str(report_dir), 'latest.json')) as handle:
        return run, json.load(handle)


def rows_by_agent(report):
    return dict(((row['agent'], row['source_type']), row) for row in report['rows'])


def test_the_report_rates_every_source_against_the_hybrid_policy(aws, agent_files, tmp_path):  # pylint: disable=unused-argument
    run, report = audit(aws, tmp_path)
    rows = rows_by_agent(report)
    assert rows[('router', 'json_file')]['compliant'] is False
    assert rows[('router', 'json_file')]['policy_model'] == 'claude-haiku-4-5'
    assert rows[('validator', 'json_file')]['compliant'] is True
    assert rows[('validator', 'ssm')]['compliant'] is True
    assert rows[('planner', 'ssm')]['compliant'] is False and rows[('planner', 'ssm')]['secure'] is True
    assert rows[('summarizer', 'lambda')]['compliant'] is False
    assert rows[('classifier', 'lambda')]['compliant'] is True
    # 10M input and 2M output tokens a month by default: Sonnet 10*3 + 2*15 = 60, Haiku 10*1 + 2*5 = 20.
    assert rows[('router', 'json_file')]['monthly_cost_usd'] == pytest.approx(60.0)
    assert rows[('router', 'json_file')]['policy_monthly_cost_usd'] == pytest.approx(20.0)
    assert 'AGENT' in run.stdout and 'router' in run.stdout
    for secret in ('sk-planner-secret', 'tok-123', CREDENTIALS['aws_secret_access_key']):
        assert secret not in run.stdout + json.dumps(report)


def test_fix_corrects_files_and_ssm_and_leaves_lambda_alone(aws, agent_files, tmp_path):
    before = agent_files.file(ROUTER).content_string
    audit(aws, tmp_path, '-e', 'jada_agent_audit_fix=true')
    assert agent_files.file(ROUTER).content_string == before.replace('claude-sonnet-4-6', 'claude-haiku-4-5')
    planner = aws['ssm'].get_parameter(Name='/jada/agents/planner/model', WithDecryption=True)['Parameter']
    assert planner['Value'] == 'claude-haiku-4-5' and planner['Type'] == 'SecureString'
    summarizer = aws['lambda'].get_function_configuration(FunctionName='summarizer')['Environment']['Variables']
    assert summarizer['ANTHROPIC_MODEL'] == 'claude-sonnet-4-6'


def test_fix_lambda_corrects_the_function_and_keeps_its_other_variables(aws, agent_files, tmp_path):  # pylint: disable=unused-argument
    audit(aws, tmp_path / 'fix', '-e', 'jada_agent_audit_fix=true', '-e', 'jada_agent_audit_fix_lambda=true')
    summarizer = aws['lambda'].get_function_configuration(FunctionName='summarizer')['Environment']['Variables']
    assert summarizer == {'ANTHROPIC_MODEL': 'claude-haiku-4-5', 'LOG_LEVEL': 'info'}
    run, report = audit(aws, tmp_path / 'after')
    assert report['summary']['non_compliant'] == 0, run.stdout
