"""LimitNOFILE is applied in a drop-in and verified where it counts: /proc/<MainPID>/limits. The side_effect step
(exercises.py) asked for limits that cannot be granted; these tests read what it recorded and look at the host."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-limits'
testinfra_hosts = ['podman://' + HOST]
CONVERGED_NOFILE = 12345
# The read refuses, on the controller, what its plan refuses (the action plugin of agent_host_info).
REFUSAL = ('Read and plan the orchestrator', 'plan')


def test_reachable_limit_is_applied_and_verified(host):
    assert jada_molecule.effective_nofile(host) == (CONVERGED_NOFILE, CONVERGED_NOFILE)
    dropin = host.file(jada_molecule.DROPIN_DIR + '/50-limits.conf')
    assert 'LimitNOFILE=%d' % CONVERGED_NOFILE in dropin.content_string
    assert 'LimitNOFILE' not in host.file(jada_molecule.UNIT).content_string


def test_login_sessions_of_the_service_user_get_the_limit(host):
    limits = host.file('/etc/security/limits.d/50-jada-agent.conf').content_string
    assert 'jada soft nofile %d' % CONVERGED_NOFILE in limits
    assert 'jada hard nofile %d' % CONVERGED_NOFILE in limits


def test_limit_above_the_ceiling_is_rejected_before_the_host_is_read():
    # A value no kernel can grant is bad input: refused on the controller, before the host is even read.
    record = jada_molecule.results('a_limit_above_the_ceiling')
    assert record['rc'] != 0
    assert record['read'] is None
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [
        ('Read and plan the orchestrator', 'input')]
    message = record['failures'][0]['msg']
    assert 'jada_agent_nofile is 2147483646' in message and '2147483584' in message and "'max'" in message
    assert record['after'] == record['before']


def test_limit_above_nr_open_fails_without_permission_to_raise_it():
    record = jada_molecule.results('a_limit_above_nr_open')
    assert record['rc'] != 0
    assert record['read']['plan']['limits']['nr_open'] is True
    assert any('jada_agent_manage_nr_open' in refusal for refusal in record['read']['plan']['refusals'])
    assert [(failure['task'], failure.get('refused')) for failure in record['failures']] == [REFUSAL]
    assert record['after'] == record['before']


def test_limit_above_what_the_host_can_grant_is_detected_and_rolled_back():
    record = jada_molecule.results('a_limit_above_what_the_service_manager_can_grant')
    assert record['request'] <= record['nr_open'], (
        'this host cannot show the clamp: its service manager hard limit %d is near fs.nr_open' % record['hard'])
    assert record['rc'] != 0
    # systemd clamped the limit silently; only /proc told, and the verification says so.
    verdict, rollback = record['health']
    assert verdict['healthy'] is False and verdict['nofile']['soft'] == record['hard']
    assert rollback['healthy'] is True
    assert record['after']['digests'] == record['before']['digests']
    assert record['nofile_after'] == [CONVERGED_NOFILE, CONVERGED_NOFILE] and record['running_after']


def test_the_host_is_as_the_converge_left_it(host):
    assert jada_molecule.effective_nofile(host) == (CONVERGED_NOFILE, CONVERGED_NOFILE)
    assert host.service('jada-agent').is_running
