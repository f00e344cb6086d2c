"""A host whose Lightsail instance is not running halts the rollout before anything on any host changes."""

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'lightsail_endpoint'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position
import server  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = ('jada-molecule-rollback-1', 'jada-molecule-rollback-2')
ACCESS_KEY = 'AKIAPREFLIGHTTEST000'
SECRET_KEY = 'preflight-test-secret-key-do-not-print'


@pytest.fixture(scope='module', name='stopped_canary')
def fixture_stopped_canary():
    scenario = {
        'region': 'us-east-1',
        'access_keys': [ACCESS_KEY],
        'instances': {
            'jada-agent-1': {'states': ['stopped']},
            'jada-agent-2': {'states': ['running'], 'public_ip': '203.0.113.12'},
        },
    }
    hosts = dict((name, testinfra.get_host('podman://' + name)) for name in HOSTS)
    before = dict((name, jada_molecule.state(host)) for name, host in hosts.items())
    with server.LightsailEndpoint(scenario) as endpoint:
        run = jada_molecule.run_playbook(
            'upgrade-model.yml',
            '-e', 'jada_agent_platform=lightsail',
            '-e', 'jada_agent_aws_endpoint_url=%s' % endpoint.url,
            '-e', 'jada_agent_aws_access_key=%s' % ACCESS_KEY,
            '-e', 'jada_agent_aws_secret_key=%s' % SECRET_KEY,
            '-e', '{"jada_agent_lightsail_instance": "{{ inventory_hostname | replace(\'jada-molecule-rollback\', \'jada-agent\') }}"}')
        requests, violations = endpoint.requests, endpoint.violations
    return {'hosts': hosts, 'before': before, 'run': run, 'requests': requests, 'violations': violations}


def test_the_rollout_stops_at_the_stopped_instance(stopped_canary):
    run = stopped_canary['run']
    assert run.returncode != 0
    assert 'jada-agent-1' in run.stdout and 'stopped' in run.stdout and 'us-east-1' in run.stdout
    assert SECRET_KEY not in run.stdout + run.stderr


def test_no_host_was_touched(stopped_canary):
    for name, host in stopped_canary['hosts'].items():
        assert jada_molecule.state(host) == stopped_canary['before'][name], name


def test_only_the_canary_instance_was_asked_for(stopped_canary):
    asked = [request['params'].get('instanceName') for request in stopped_canary['requests']]
    assert asked == ['jada-agent-1']
    assert stopped_canary['violations'] == []
