# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.modules import agent_service_restart_verify
from ansible_collections.jada.agent.tests.unit.plugins.modules.agent_fixtures import (
    FakeAgent,
    not_found_answer,
    success_answer,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import (
    FakeCommands,
    FakeProc,
    as_journal_bytes,
    journal_line,
    run_module,
    running_service,
    stopped_service,
    systemctl_answering,
)


STARTED = 'Sun 2026-11-22 08:32:30 UTC'
STARTED_MONOTONIC = 52791634
OTHER_BOOT = '0f1e2d3c4b5a69788796a5b4c3d2e1f0'


class Host(object):
    """The agent's host: systemd's answers change when the fake sleep runs ``during_settle``."""

    def __init__(self, root, monkeypatch):
        self.proc = FakeProc(root / 'proc', nr_open=1048576, manager_nofile=(1048576, 1048576))
        self.proc.process(812, nofile=(65536, 65536))
        monkeypatch.setattr(agent_host, 'PROC', self.proc.root)
        self.state = {'show': running_service()}
        self.journal = [
            journal_line('Deprecation warning: --foo', STARTED_MONOTONIC - 900000, pid='790'),
            # The previous run's last words, logged within the second the new run started.
            journal_line('Error: ECONNRESET', STARTED_MONOTONIC - 120000, pid='790'),
            journal_line('fatal: out of memory', STARTED_MONOTONIC + 5000000, boot_id=OTHER_BOOT, pid='655'),
            journal_line('Listening on /run/jada/agent.sock', STARTED_MONOTONIC + 80000),
        ]
        self.commands = FakeCommands(monkeypatch)
        self.commands.on('systemctl', systemctl_answering(self.state))
        self.commands.on('journalctl', lambda argv: (0, '\n'.join(self.journal) + '\n', ''))
        self.slept = []
        self.during_settle = None
        monkeypatch.setattr(agent_service_restart_verify.time, 'sleep', self._sleep)

    def _sleep(self, seconds):
        self.slept.append((seconds, len(self.commands.called('systemctl'))))
        if self.during_settle:
            self.during_settle()

    def restart(self, pid, n_restarts, monotonic, timestamp='Sun 2026-11-22 08:32:33 UTC'):
        """What systemctl shows after the agent was started again as ``pid``."""
        self.proc.process(pid)
        self.state['show'] = running_service(
            MainPID=str(pid), ExecMainPID=str(pid), NRestarts=str(n_restarts), ExecMainStartTimestamp=timestamp,
            ExecMainStartTimestampMonotonic=str(monotonic), ActiveEnterTimestamp=timestamp)


@pytest.fixture
def host(tmp_path, monkeypatch):
    return Host(tmp_path, monkeypatch)


@pytest.fixture
def run(capsys):
    def run_health(args=None, check_mode=False):
        args = dict({'service': 'jada-agent', 'settle_seconds': 5}, **(args or {}))
        return run_module(agent_service_restart_verify.main, args, capsys, check_mode=check_mode)

    return run_health


def test_healthy_service(host, run):
    result = run()

    assert not result.failed
    assert result['changed'] is False
    assert result['healthy'] is True
    assert result['problems'] == []
    assert result['active_state'] == 'active'
    assert result['main_pid'] == 812
    assert result['n_restarts'] == 0
    assert result['nofile'] == {'soft': 65536, 'hard': 65536}
    assert result['journal_failures'] == []


def test_service_is_read_before_and_after_the_settle_window(host, run):
    run({'settle_seconds': 0.25})

    # One systemctl show before the sleep, one after it.
    assert host.slept == [(0.25, 1)]
    watched = ','.join(agent_service_restart_verify.WATCHED)
    assert host.commands.called('systemctl') == [['systemctl', 'show', 'jada-agent.service', '--property', watched]] * 2


def test_default_settle_window_is_five_seconds(host, monkeypatch, capsys):
    result = run_module(agent_service_restart_verify.main, {}, capsys)

    assert result['healthy'] is True
    assert [seconds for seconds, dummy in host.slept] == [5.0]


def test_journal_is_read_since_the_start_of_the_process(host, run):
    run()

    assert host.commands.called('journalctl') == [
        ['journalctl', '--unit', 'jada-agent', '--since', STARTED, '--output', 'json', '--all', '--no-pager']]


def test_crash_and_automatic_restart_during_the_window(host, run):
    def crash():
        host.journal.append(journal_line("Error: ENOENT: no such file or directory, open '/srv/jada/orchestrator/.mcp.json'",
                                         STARTED_MONOTONIC + 2000000))
        host.restart(913, n_restarts=1, monotonic=STARTED_MONOTONIC + 7100000)

    host.during_settle = crash

    result = run()

    assert result.failed
    assert result['healthy'] is False
    assert result['main_pid'] == 913
    assert result['n_restarts'] == 1
    assert result['problems'][0] == 'jada-agent restarted 1 times during the 5 s settle window (NRestarts 0 -> 1)'
    # The crashed run's journal counts, although systemd already started a new one.
    assert result['journal_failures'] == ["Error: ENOENT: no such file or directory, open '/srv/jada/orchestrator/.mcp.json'"]
    assert result['msg'].startswith('jada-agent is not healthy: jada-agent restarted 1 times')


def test_several_restarts_are_counted(host, run):
    host.during_settle = lambda: host.restart(1020, n_restarts=3, monotonic=STARTED_MONOTONIC + 9000000)

    result = run({'settle_seconds': 2.5})

    assert 'jada-agent restarted 3 times during the 2.5 s settle window (NRestarts 0 -> 3)' in result['problems']


def test_failed_service_is_not_active(host, run):
    def die():
        host.state['show'] = stopped_service()

    host.during_settle = die

    result = run()

    assert result.failed
    assert result['active_state'] == 'failed'
    assert result['main_pid'] == 0
    assert result['nofile'] == {}
    assert result['problems'] == ['jada-agent is failed, not active (result: exit-code)']


def test_a_service_that_cannot_start_reports_systemd_s_own_cause(host, run):
    # What systemd 257 logs for a unit it cannot set up in an unprivileged container.
    host.journal += [
        journal_line('jada-agent.service: Main process exited, code=exited, status=217/USER', STARTED_MONOTONIC + 9000),
        journal_line("jada-agent.service: Failed with result 'exit-code'.", STARTED_MONOTONIC + 9100),
        journal_line('jada-agent.service: Failed at step USER spawning /opt/jada/bin/claude: Operation not permitted',
                     STARTED_MONOTONIC + 9200),
    ]
    host.during_settle = lambda: host.state['show'].update(ActiveState='activating', SubState='auto-restart',
                                                           MainPID='0', Result='exit-code')

    result = run()

    assert result['systemd_causes'] == [
        'jada-agent.service: Main process exited, code=exited, status=217/USER',
        'jada-agent.service: Failed at step USER spawning /opt/jada/bin/claude: Operation not permitted']
    assert 'systemd: jada-agent.service: Main process exited, code=exited, status=217/USER' in result['problems']
    assert 'status=217/USER' in result['msg']


def test_a_healthy_service_has_no_systemd_causes(host, run):
    host.journal.append(journal_line('jada-agent.service: Main process exited, code=exited, status=143/n/a',
                                     STARTED_MONOTONIC - 500000))

    result = run()

    assert not result.failed and result['systemd_causes'] == []


def test_activating_service_is_not_active(host, run):
    host.during_settle = lambda: host.state['show'].update(ActiveState='activating', SubState='auto-restart',
                                                           MainPID='0', Result='exit-code')

    result = run()

    assert result['problems'][0] == 'jada-agent is activating, not active (result: exit-code)'


def test_active_without_a_live_main_process(host, run):
    host.state['show']['MainPID'] = '4242'

    result = run()

    assert result.failed
    assert result['problems'] == ['jada-agent has no running main process (MainPID 4242)']


def test_main_process_changed_without_an_automatic_restart(host, run):
    # systemctl restart by someone else: a new PID, NRestarts as before.
    host.during_settle = lambda: host.restart(913, n_restarts=0, monotonic=STARTED_MONOTONIC + 4000000)

    result = run()

    assert result.failed
    assert result['problems'] == ['jada-agent changed its main process during the settle window (PID 812 -> 913)']


def test_manual_restart_resetting_nrestarts_is_a_pid_change(host, run):
    host.state['show']['NRestarts'] = '2'
    host.during_settle = lambda: host.restart(913, n_restarts=0, monotonic=STARTED_MONOTONIC + 4000000)

    result = run()

    assert result['problems'] == ['jada-agent changed its main process during the settle window (PID 812 -> 913)']


def test_journal_failure_line_since_the_start(host, run):
    host.journal.append(journal_line('Error: invalid settings in /srv/jada/orchestrator/.claude/settings.json: '
                                     'line 3, column 5', STARTED_MONOTONIC + 300000))

    result = run()

    assert result.failed
    assert result['journal_failures'] == [
        'Error: invalid settings in /srv/jada/orchestrator/.claude/settings.json: line 3, column 5']
    assert result['problems'] == [
        '1 journal line(s) of jada-agent since its start match the failure pattern, the last: '
        'Error: invalid settings in /srv/jada/orchestrator/.claude/settings.json: line 3, column 5']


def test_colored_journal_line_is_decoded_and_matched(host, run):
    host.journal.append(journal_line(as_journal_bytes('\x1b[31mFatal\x1b[39m: model claude-x not found'),
                                     STARTED_MONOTONIC + 300000))
    host.journal.append(journal_line('panic: ' + 'y' * 500, STARTED_MONOTONIC + 310000))

    result = run()

    # Without the colour sequence removed, "\x1b[31mFatal" would not match \bfatal\b.
    assert result['journal_failures'] == ['Fatal: model claude-x not found', ('panic: ' + 'y' * 500)[:300]]
    assert result['problems'] == ['2 journal line(s) of jada-agent since its start match the failure pattern, the last: '
                                  + ('panic: ' + 'y' * 500)[:300]]


def test_lines_before_the_start_or_of_another_boot_do_not_count(host, run):
    result = run()

    # The journal holds "Error: ECONNRESET" of the previous run and "fatal" of another boot.
    assert result['healthy'] is True
    assert result['journal_failures'] == []


def test_custom_failure_pattern(host, run):
    result = run({'failure_pattern': 'Listening on'})

    assert result['journal_failures'] == ['Listening on /run/jada/agent.sock']


def test_unreadable_journal_is_not_a_failure(host, run):
    host.commands.on('journalctl', (1, '', 'Failed to get journal access: Permission denied\n'))

    assert run()['healthy'] is True


def test_expected_nofile_holds(host, run):
    result = run({'expected_nofile': 65536})

    assert result['healthy'] is True


def test_expected_nofile_clamped_by_the_service_manager(host, run):
    # In a container PID 1 (systemd) cannot raise its own hard limit; it clamps LimitNOFILE to it.
    host.proc.process(1, nofile=(524288, 524288))
    host.proc.set_nofile(812, (524288, 524288))

    result = run({'expected_nofile': 1048576})

    assert result.failed
    assert result['nofile'] == {'soft': 524288, 'hard': 524288}
    assert result['problems'] == [
        'jada-agent runs with RLIMIT_NOFILE soft 524288 / hard 524288, but 1048576 was requested; likely cause: '
        'the service manager itself (PID 1) has a hard limit of 524288, and systemd silently clamps LimitNOFILE to it '
        '(typical in containers, which cannot raise hard limits)']


def test_expected_nofile_above_nr_open(host, tmp_path, run):
    host.proc.process(1, nofile=(1073741816, 1073741816))
    host.proc.write('sys/fs/nr_open', '1048576\n')
    host.proc.set_nofile(812, (1048576, 1048576))

    result = run({'expected_nofile': 2097152})

    assert len(result['problems']) == 1
    problem = result['problems'][0]
    assert problem.startswith('jada-agent runs with RLIMIT_NOFILE soft 1048576 / hard 1048576, but 2097152 was requested')
    assert problem.endswith('likely cause: fs.nr_open is 1048576, the most any process may have')


def test_expected_nofile_above_both_names_both_causes(host, run):
    host.proc.process(1, nofile=(524288, 524288))
    host.proc.write('sys/fs/nr_open', '524288\n')
    host.proc.set_nofile(812, (524288, 524288))

    problem = run({'expected_nofile': 1048576})['problems'][0]

    assert 'hard limit of 524288' in problem
    assert 'fs.nr_open is 524288' in problem


def test_expected_nofile_not_applied_points_at_the_dropin(host, run):
    host.proc.set_nofile(812, (1024, 524288))

    problem = run({'expected_nofile': 65536})['problems'][0]

    assert problem == ('jada-agent runs with RLIMIT_NOFILE soft 1024 / hard 524288, but 65536 was requested; likely cause: '
                       'the LimitNOFILE drop-in is not loaded (daemon-reload and restart pending?) or another drop-in '
                       'overrides it')


def test_fail_when_unhealthy_false_only_reports(host, run):
    host.proc.set_nofile(812, (1024, 524288))
    host.during_settle = lambda: host.restart(913, n_restarts=1, monotonic=STARTED_MONOTONIC + 7100000)

    result = run({'fail_when_unhealthy': False, 'expected_nofile': 65536})

    assert not result.failed
    assert 'msg' not in result
    assert result['healthy'] is False
    assert result['problems'] == ['jada-agent restarted 1 times during the 5 s settle window (NRestarts 0 -> 1)']
    # PID 913 is a new process with the default 65536 limits: the check looks at the process after the window.
    assert result['nofile'] == {'soft': 65536, 'hard': 65536}


def test_check_mode_checks_the_same(host, run):
    host.during_settle = lambda: host.restart(913, n_restarts=1, monotonic=STARTED_MONOTONIC + 7100000)

    result = run(check_mode=True)

    assert result.failed
    assert result['problems'][0].startswith('jada-agent restarted 1 times')
    assert len(host.slept) == 1


def test_invalid_failure_pattern_fails_before_checking(host, run):
    result = run({'failure_pattern': '(?P<open'})

    assert result.failed
    assert result['msg'].startswith('failure_pattern is not a valid regular expression: ')
    assert host.commands.calls == []
    assert host.slept == []


def test_negative_settle_seconds_fails(host, run):
    result = run({'settle_seconds': -1})

    assert result.failed
    assert result['msg'] == 'settle_seconds must not be negative, got -1.0'
    assert host.slept == []


def test_systemctl_failure_fails_the_module(host, run):
    host.commands.on('systemctl', (1, '', 'Failed to connect to bus: No such file or directory\n'))

    result = run()

    assert result.failed
    assert result['msg'] == 'systemctl show jada-agent.service failed: Failed to connect to bus: No such file or directory'


# --- restart and verify in one call ------------------------------------------------------------------

class RestartingHost(object):
    """Wraps the host's systemctl so that daemon-reload and restart are answered and recorded."""

    def __init__(self, host, restart_rc=0):
        self.host = host
        show = systemctl_answering(host.state)

        def answer(argv):
            if argv[1] == 'daemon-reload':
                return 0, '', ''
            if argv[1] == 'restart':
                if restart_rc:
                    return restart_rc, '', 'Job for jada-agent.service failed because the control process exited'
                host.restart(913, 0, STARTED_MONOTONIC + 3000000)
                return 0, '', ''
            return show(argv)

        host.commands.on('systemctl', answer)


def test_restart_reloads_restarts_and_then_verifies_the_new_process(host, run):
    RestartingHost(host)

    result = run({'restart': True, 'daemon_reload': True})

    verbs = [argv[1] for argv in host.commands.called('systemctl')]
    assert verbs == ['daemon-reload', 'restart', 'show', 'show']
    assert result['changed'] is True and result['healthy'] is True
    assert result['main_pid'] == 913


def test_restart_without_daemon_reload_only_restarts(host, run):
    RestartingHost(host)

    run({'restart': True})

    assert [argv[1] for argv in host.commands.called('systemctl')] == ['restart', 'show', 'show']


def test_a_failed_restart_fails_with_systemctl_s_reason(host, run):
    RestartingHost(host, restart_rc=1)

    result = run({'restart': True})

    assert result.failed
    assert 'systemctl restart jada-agent.service failed' in result['msg']
    assert 'control process exited' in result['msg']


def test_a_failed_restart_names_systemd_s_cause_from_the_journal(host, run):
    RestartingHost(host, restart_rc=1)
    host.journal.append(journal_line('jada-agent.service: Main process exited, code=killed, status=6/ABRT',
                                     STARTED_MONOTONIC + 100))

    result = run({'restart': True})

    assert result['systemd_causes'] == ['jada-agent.service: Main process exited, code=killed, status=6/ABRT']
    assert result['msg'].endswith('; systemd: jada-agent.service: Main process exited, code=killed, status=6/ABRT')


def test_restart_in_check_mode_changes_nothing(host, run):
    RestartingHost(host)

    result = run({'restart': True}, check_mode=True)

    assert result['changed'] is True
    assert host.commands.called('systemctl') == []
    assert host.slept == []


# --- the smoke task ------------------------------------------------------------------------------------------

HAIKU = 'claude-haiku-4-5'
SMOKE_ANSWER = 'ANSWER-SECRET-51b7'


class Smoke(object):
    """The agent behind its inbox: answers each task with ``answer(task)``, noting how far the module was."""

    def __init__(self, root, host):
        self.host = host
        self.inbox = str(root / 'tasks')
        self.output = str(root / 'output.jsonl')
        self.lock = str(root / 'tasks.lock')
        self.answer = lambda task: success_answer(task['uuid'], SMOKE_ANSWER)
        self.systemctl_calls_seen = []
        self.agent = FakeAgent(self.inbox, self.output, self._respond)

    def _respond(self, task):
        self.systemctl_calls_seen.append(len(self.host.commands.called('systemctl')))
        return self.answer(task)

    def args(self, **extra):
        args = {'smoke_task': True, 'inbox': self.inbox, 'output': self.output, 'lock': self.lock,
                'smoke_timeout': 10}
        args.update(extra)
        return args


@pytest.fixture
def smoke(host, tmp_path):
    agent = Smoke(tmp_path, host)
    with agent.agent:
        yield agent


def test_smoke_task_answered_after_the_settle_window(host, smoke, run):
    result = run(smoke.args(expected_model=HAIKU))

    assert not result.failed
    assert result['healthy'] is True
    assert result['smoke']['answered_by'] == [HAIKU]
    assert result['smoke']['is_error'] is False
    assert result['smoke']['problems'] == []
    assert result['smoke']['task_uuid'] == smoke.agent.tasks[0]['uuid']
    assert smoke.agent.tasks[0]['message']['content'] == 'Reply with the single word OK.'
    # Sent after the two snapshots around the settle window; a third one follows the answer.
    assert smoke.systemctl_calls_seen == [2]
    assert len(host.commands.called('systemctl')) == 3
    assert [seconds for seconds, calls in host.slept] == [5.0]
    assert SMOKE_ANSWER not in result.raw


def test_smoke_prompt_is_sent_and_never_returned(host, smoke, run):
    result = run(smoke.args(smoke_prompt='PROMPT-SECRET-c9d2: reply OK'))

    assert smoke.agent.tasks[0]['message']['content'] == 'PROMPT-SECRET-c9d2: reply OK'
    assert 'PROMPT-SECRET-c9d2' not in result.raw


def test_smoke_task_answered_by_another_model(host, smoke, run):
    result = run(smoke.args(expected_model='claude-sonnet-4-6'))

    assert result.failed
    assert result['healthy'] is False
    uuid = result['smoke']['task_uuid']
    assert result['problems'] == [
        'smoke task %s: the task was answered by claude-haiku-4-5, not by the expected claude-sonnet-4-6 only' % uuid]
    assert result['msg'] == 'jada-agent is not healthy: ' + result['problems'][0]


def test_smoke_task_with_an_api_error_only_reported(host, smoke, run):
    smoke.answer = lambda task: not_found_answer(task['uuid'])

    result = run(smoke.args(fail_when_unhealthy=False))

    assert not result.failed
    assert result['healthy'] is False
    assert result['smoke']['api_error_status'] == 404
    assert result['problems'] == ['smoke task %s: the agent answered with API error 404 (not_found_error): the model '
                                  'does not exist for this account or region, or the account has no access to it; the '
                                  'agent runs claude-sonnet-4-6' % result['smoke']['task_uuid']]
    assert 'issue with the selected model' not in result.raw


def test_crash_while_answering_the_smoke_task(host, smoke, run):
    def crash(task):
        host.restart(913, n_restarts=1, monotonic=STARTED_MONOTONIC + 7100000)
        return []

    smoke.answer = crash

    result = run(smoke.args(smoke_timeout=0.3))

    assert result.failed
    assert result['main_pid'] == 913
    assert result['problems'][0] == ('jada-agent restarted 1 times during the 5 s settle window and the smoke task '
                                     '(NRestarts 0 -> 1)')
    assert result['problems'][1].startswith('smoke task %s: no result for the task within 0.3 s'
                                            % result['smoke']['task_uuid'])
    assert result['smoke']['timed_out'] is True


def test_new_main_process_while_answering_the_smoke_task(host, smoke, run):
    def replaced(task):
        host.restart(913, n_restarts=0, monotonic=STARTED_MONOTONIC + 4000000)
        return success_answer(task['uuid'])

    smoke.answer = replaced

    result = run(smoke.args())

    assert result['problems'] == [
        'jada-agent changed its main process during the settle window and the smoke task (PID 812 -> 913)']


def test_no_smoke_task_when_the_service_did_not_settle(host, smoke, run):
    host.during_settle = lambda: host.restart(913, n_restarts=1, monotonic=STARTED_MONOTONIC + 7100000)

    result = run(smoke.args())

    assert result['smoke'] is None
    assert smoke.agent.raw == b''
    assert result['problems'] == ['jada-agent restarted 1 times during the 5 s settle window (NRestarts 0 -> 1)']
    assert len(host.commands.called('systemctl')) == 2


def test_no_smoke_task_in_check_mode(host, smoke, run):
    result = run(smoke.args(), check_mode=True)

    assert result['healthy'] is True
    assert result['smoke'] is None
    assert smoke.agent.raw == b''


def test_no_smoke_task_by_default(host, smoke, run):
    result = run({'inbox': smoke.inbox, 'output': smoke.output, 'lock': smoke.lock})

    assert result['smoke'] is None
    assert smoke.agent.raw == b''
    assert len(host.commands.called('systemctl')) == 2


def test_restart_then_smoke_task(host, smoke, run):
    RestartingHost(host)

    result = run(smoke.args(restart=True))

    assert [argv[1] for argv in host.commands.called('systemctl')] == ['restart', 'show', 'show', 'show']
    assert smoke.systemctl_calls_seen == [3]
    assert result['healthy'] is True
    assert result['main_pid'] == 913


def test_smoke_task_nobody_reads(host, run, tmp_path):
    os.mkfifo(str(tmp_path / 'tasks'))

    result = run({'service': 'other-agent', 'smoke_task': True, 'inbox': str(tmp_path / 'tasks'),
                  'output': str(tmp_path / 'output.jsonl'), 'lock': str(tmp_path / 'tasks.lock')})

    assert result.failed
    assert result['smoke'] is None
    assert result['problems'] == [
        'the smoke task could not be sent to other-agent: nobody reads the agent inbox %s: the socket unit '
        'other-agent.socket is not running (it keeps the FIFO open for the agent)' % (tmp_path / 'tasks')]


@pytest.mark.parametrize('timeout', [0, -2])
def test_smoke_timeout_must_be_positive(host, run, timeout):
    result = run({'smoke_task': True, 'smoke_timeout': timeout})

    assert result.failed
    assert result['msg'] == 'smoke_timeout must be greater than 0, got %s' % float(timeout)
    assert host.commands.calls == []
