"""The drift_schedule role's timer and service: valid units, a non-root run, and a lock against overlap. The
side_effect step (exercises.py) started the service; these tests read what it recorded and look at the units."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

testinfra_hosts = ['podman://jada-molecule-drift']
UNITS = '/etc/systemd/system/jada-agent-drift.service /etc/systemd/system/jada-agent-drift.timer'
STATE_DIR = '/var/lib/jada-agent-drift'


def test_units_pass_systemd_analyze_verify(host):
    result = host.run('systemd-analyze verify %s' % UNITS)
    assert result.rc == 0, result.stderr
    assert 'jada-agent-drift' not in result.stderr, result.stderr


def test_timer_is_enabled_and_waiting(host):
    timer = host.service('jada-agent-drift.timer')
    assert timer.is_enabled and timer.is_running
    settings = host.check_output('systemctl show -p TimersCalendar,RandomizedDelayUSec,Persistent jada-agent-drift.timer')
    # systemd normalises "hourly" to its calendar form.
    assert 'OnCalendar=*-*-* *:00:00' in settings and 'RandomizedDelayUSec=5min' in settings and 'Persistent=yes' in settings


def test_a_run_calls_the_drift_playbook_as_the_non_root_user():
    record = jada_molecule.results('a_scheduled_drift_run')
    assert record['rc'] == 0 and record['result'] == 'success', record['stderr']
    call = (record['calls'] or '').strip()
    assert call.startswith('jada-drift ')
    assert '/opt/jada-agent-ansible/playbooks/drift_remediation.yml' in call
    assert '-e jada_agent_drift_mode=report' in call


def test_a_run_that_finds_the_lock_taken_skips_cleanly():
    record = jada_molecule.results('a_drift_run_that_finds_the_lock_taken')
    assert record['rc'] == 0, record['stderr']
    assert record['calls'] is None
    assert record['result'] == 'success'


def test_the_state_directory_is_as_the_converge_left_it(host):
    existed = jada_molecule.results('a_scheduled_drift_run')['state_dir_existed']
    assert host.file(STATE_DIR).exists == existed
