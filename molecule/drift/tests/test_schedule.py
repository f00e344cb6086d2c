"""The drift_schedule role's timer and service: valid units, a non-root run, and a lock against overlap."""

testinfra_hosts = ['podman://jada-molecule-drift']
UNITS = '/etc/systemd/system/jada-agent-drift.service /etc/systemd/system/jada-agent-drift.timer'
CALLS = '/var/lib/jada-agent-drift/calls'


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


def test_a_run_calls_the_drift_playbook_as_the_non_root_user(host):
    host.check_output('rm -f %s; systemctl start jada-agent-drift.service' % CALLS)
    call = host.file(CALLS).content_string.strip()
    assert call.startswith('jada-drift ')
    assert '/opt/jada-agent-ansible/playbooks/drift-remediation.yml' in call
    assert '-e jada_agent_drift_mode=report' in call


def test_a_run_that_finds_the_lock_taken_skips_cleanly(host):
    host.check_output('rm -f %s' % CALLS)
    result = host.run('flock /var/lib/jada-agent-drift/run.lock systemctl start jada-agent-drift.service')
    assert result.rc == 0, result.stderr
    assert not host.file(CALLS).exists
    assert host.check_output('systemctl show -p Result --value jada-agent-drift.service') == 'success'
