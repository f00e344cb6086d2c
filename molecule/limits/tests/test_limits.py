"""LimitNOFILE is applied in a drop-in and verified where it counts: /proc/<MainPID>/limits."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-limits'
testinfra_hosts = ['podman://' + HOST]
CONVERGED_NOFILE = 12345


def manager_hard_limit(host):
    """The hard RLIMIT_NOFILE of the container's systemd: nothing above it can be applied here."""
    return int(host.check_output('grep "Max open files" /proc/1/limits').split()[4])


def test_reachable_limit_is_applied_and_verified(host):
    assert jada_molecule.effective_nofile(host) == (CONVERGED_NOFILE, CONVERGED_NOFILE)
    dropin = host.file(jada_molecule.DROPIN_DIR + '/50-limits.conf')
    assert 'LimitNOFILE=%d' % CONVERGED_NOFILE in dropin.content_string
    assert 'LimitNOFILE' not in host.file(jada_molecule.UNIT).content_string


def test_login_sessions_of_the_service_user_get_the_limit(host):
    limits = host.file('/etc/security/limits.d/50-jada-agent.conf').content_string
    assert 'jada soft nofile %d' % CONVERGED_NOFILE in limits
    assert 'jada hard nofile %d' % CONVERGED_NOFILE in limits


def test_limit_above_the_ceiling_is_rejected_before_any_change(host):
    before = jada_molecule.state(host)
    run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_nofile=2147483646')
    assert run.returncode != 0
    assert '2147483646' in run.stdout and '2147483584' in run.stdout and "'max'" in run.stdout
    assert jada_molecule.state(host) == before


def test_limit_above_nr_open_fails_without_permission_to_raise_it(host):
    nr_open = int(host.check_output('cat /proc/sys/fs/nr_open'))
    before = jada_molecule.state(host)
    run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_nofile=%d' % (nr_open + 1))
    assert run.returncode != 0
    assert 'fs.nr_open' in run.stdout and 'jada_agent_manage_nr_open' in run.stdout
    assert jada_molecule.state(host) == before


def test_limit_above_what_the_host_can_grant_is_detected_and_rolled_back(host):
    hard = manager_hard_limit(host)
    request = hard + 4096
    if request > int(host.check_output('cat /proc/sys/fs/nr_open')):
        pytest.fail('this host cannot show the clamp: its service manager hard limit %d is near fs.nr_open' % hard)
    unit_files_before = jada_molecule.state(host)['digests']
    run = jada_molecule.run_playbook('upgrade-model.yml', '-e', 'jada_agent_nofile=%d' % request)
    assert run.returncode != 0
    # systemd clamped the limit silently; only /proc told, and the report names both numbers and the cause.
    assert '%d was requested' % request in run.stdout
    assert 'hard limit of %d' % hard in run.stdout
    assert 'restored byte for byte' in run.stdout and 'healthy again' in run.stdout
    assert jada_molecule.state(host)['digests'] == unit_files_before
    assert jada_molecule.effective_nofile(host) == (CONVERGED_NOFILE, CONVERGED_NOFILE)
    assert host.service('jada-agent').is_running
