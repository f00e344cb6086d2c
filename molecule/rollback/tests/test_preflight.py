"""A host whose Lightsail or EC2 instance is not running halts the rollout before anything on any host changes.
The side_effect step (exercises.py) ran those rollouts; these tests read what it recorded."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = ('jada-molecule-rollback-1', 'jada-molecule-rollback-2')
testinfra_hosts = ['podman://' + name for name in HOSTS]
SECRET_KEY = 'preflight-test-secret-key-do-not-print'


def test_the_rollout_stops_at_the_stopped_instance():
    run = jada_molecule.results('a_stopped_lightsail_canary')['run']
    assert run['rc'] != 0
    assert 'Lightsail instance jada-agent-1 in us-east-1 is stopped, expected running' in run['stdout']
    assert 'the rollout stops here' in run['stdout']
    assert SECRET_KEY not in run['stdout'] + run['stderr']


def test_no_host_was_touched():
    record = jada_molecule.results('a_stopped_lightsail_canary')
    assert record['after'] == record['before']


def test_all_instances_were_read_in_one_call():
    record = jada_molecule.results('a_stopped_lightsail_canary')
    assert [request['operation'] for request in record['requests']] == ['GetInstances']
    assert record['violations'] == []


def test_a_stopped_ec2_instance_stops_the_rollout_before_any_change():
    record = jada_molecule.results('a_stopped_ec2_canary')
    run = record['run']
    assert run['rc'] != 0
    assert 'EC2 instance %s in us-east-1 is stopped, expected running' % record['ids'][0] in run['stdout']
    assert SECRET_KEY not in run['stdout'] + run['stderr']
    assert record['after'] == record['before']


def test_a_converged_fleet_asks_aws_nothing():
    record = jada_molecule.results('a_stopped_lightsail_canary')
    assert record['converged']['rc'] == 0, record['converged']['stdout']
    assert record['converged_requests'] == []


def test_a_host_that_cannot_be_read_is_named_and_no_host_is_touched():
    record = jada_molecule.results('an_unreachable_host_in_the_read')
    gone = 'jada-molecule-rollback-gone'
    assert record['rc'] != 0
    assert [failure['task'] for failure in record['failures']] == ['Stop when a host could not be read']
    message = record['failures'][0]['msg']
    assert message.startswith(gone + ' could not be read: ') and message.endswith('Nothing was changed on any host.')
    assert record['changed'] == {name: [] for name in HOSTS}
    assert record['after'] == record['before']
