"""A host whose Lightsail or EC2 instance is not running halts the rollout before anything on any host changes."""

import json
import os
import sys

import boto3
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
    assert 'Lightsail instance jada-agent-1 in us-east-1 is stopped, expected running' in run.stdout
    assert 'the rollout stops here' in run.stdout
    assert SECRET_KEY not in run.stdout + run.stderr


def test_no_host_was_touched(stopped_canary):
    for name, host in stopped_canary['hosts'].items():
        assert jada_molecule.state(host) == stopped_canary['before'][name], name


def test_all_instances_were_read_in_one_call(stopped_canary):
    assert [request['operation'] for request in stopped_canary['requests']] == ['GetInstances']
    assert stopped_canary['violations'] == []


@pytest.fixture(scope='module', name='stopped_ec2_canary')
def fixture_stopped_ec2_canary():
    process, url = jada_molecule.start_moto_server()
    try:
        ec2 = boto3.client('ec2', endpoint_url=url, region_name='us-east-1', aws_access_key_id='testing',
                           aws_secret_access_key=SECRET_KEY)
        image = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']
        ids = [instance['InstanceId'] for instance in
               ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)['Instances']]
        ec2.stop_instances(InstanceIds=ids[:1])
        hosts = dict((name, testinfra.get_host('podman://' + name)) for name in HOSTS)
        before = dict((name, jada_molecule.state(host)) for name, host in hosts.items())
        run = jada_molecule.run_playbook(
            'upgrade-model.yml',
            '-e', 'jada_agent_platform=ec2',
            '-e', 'jada_agent_aws_endpoint_url=%s' % url,
            '-e', 'jada_agent_aws_access_key=testing',
            '-e', 'jada_agent_aws_secret_key=%s' % SECRET_KEY,
            '-e', json.dumps({'jada_agent_ec2_instance_id': "{{ %s[inventory_hostname] }}" % json.dumps(
                dict(zip(HOSTS, ids)))}))
        return {'hosts': hosts, 'before': before, 'run': run, 'ids': ids}
    finally:
        process.terminate()
        process.wait()


def test_a_stopped_ec2_instance_stops_the_rollout_before_any_change(stopped_ec2_canary):
    run = stopped_ec2_canary['run']
    assert run.returncode != 0
    assert 'EC2 instance %s in us-east-1 is stopped, expected running' % stopped_ec2_canary['ids'][0] in run.stdout
    assert SECRET_KEY not in run.stdout + run.stderr
    for name, host in stopped_ec2_canary['hosts'].items():
        assert jada_molecule.state(host) == stopped_ec2_canary['before'][name], name
