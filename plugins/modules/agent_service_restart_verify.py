#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_service_restart_verify
short_description: Restart a service when asked, and verify that it really stays up, answers, and has the limits it was given
version_added: 0.1.0
description:
  - C(systemctl is-active) says C(active) for a C(Type=simple) service that crashes a second later. This module
    (optionally restarting the service first, see O(restart))
    watches the service across a settle window instead and reports it healthy only when all of these hold
    at the end of the window.
  - The service is C(active) and its main process is alive, with the same PID and the same C(NRestarts) as
    at the start of the window (no crash and automatic restart in between).
  - No journal line of the service since it last started matches O(failure_pattern).
  - When O(expected_nofile) is set, the running process has exactly that soft and hard C(RLIMIT_NOFILE)
    in C(/proc/<MainPID>/limits). systemd silently clamps a C(LimitNOFILE) it cannot apply, so
    C(systemctl show) cannot be trusted for this.
  - With O(smoke_task), the agent also answers one small task through its inbox, without error and, when
    O(expected_model) is set, from that model (as M(jada.agent.agent_task) does). The Claude Code CLI starts
    on any model and fails only at its first request, so C(active) alone proves little. The task is sent
    after the settle window, and the PID and C(NRestarts) must stay the same across the window and the task.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The check only reads; it runs the same in check mode, except that no smoke task is sent.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  service:
    description: Name of the systemd service, without C(.service).
    type: str
    default: jada-agent
  settle_seconds:
    description: How long the service must stay up unchanged.
    type: float
    default: 5
  failure_pattern:
    description: Python regular expression; a journal line since the last start that matches it fails the check.
    type: str
    default: (?i)(\b|[a-z])(error|fatal|panic|failed)\b|\btraceback\b|invalid settings
  expected_nofile:
    description: The C(RLIMIT_NOFILE) the running process must have (soft and hard). Not checked when omitted.
    type: int
  fail_when_unhealthy:
    description: Fail the task when the service is not healthy. With C(false), only report.
    type: bool
    default: true
  restart:
    description:
      - Restart the service first (C(systemctl restart)), then verify it. Doing both in one call keeps the window
        between the restart and the verdict to the settle window plus one round trip.
      - The task then reports C(changed). In check mode nothing is restarted or verified.
    type: bool
    default: false
  daemon_reload:
    description: With O(restart), run C(systemctl daemon-reload) first, so changed unit files and drop-ins apply.
    type: bool
    default: false
  smoke_task:
    description:
      - After the settle window, when the service is active and settled, send one task to the agent and
        require its answer without error (see M(jada.agent.agent_task)). Each one is a real request, with its cost.
      - Not sent in check mode.
    type: bool
    default: false
    version_added: 0.2.0
  expected_model:
    description:
      - With O(smoke_task), the model that must have answered the task. Any other model, or none, is a problem.
      - Its dated snapshot (C(claude-sonnet-4-6-20260101) for C(claude-sonnet-4-6)) counts as the same model.
    type: str
    version_added: 0.2.0
  smoke_timeout:
    description:
      - Seconds to wait for the answer to the smoke task. Must be greater than 0.
      - While the API is overloaded the CLI retries for more than two minutes before it gives up.
    type: float
    default: 60
    version_added: 0.2.0
  smoke_prompt:
    description: The smoke task. It is never returned.
    type: str
    default: Reply with the single word OK.
    version_added: 0.2.0
  inbox:
    description: The FIFO the agent reads its tasks from (see M(jada.agent.agent_task)).
    type: path
    default: /run/jada-agent/tasks
    version_added: 0.2.0
  output:
    description: The file the agent's standard output (stream-json lines) is appended to.
    type: path
    default: /var/log/jada-agent/output.jsonl
    version_added: 0.2.0
  lock:
    description: The lock file that serialises writers of O(inbox). Created when missing.
    type: path
    default: /run/jada-agent/tasks.lock
    version_added: 0.2.0
notes:
  - Journal lines are cut to 300 characters each.
seealso:
  - module: jada.agent.agent_host_info
  - module: jada.agent.agent_task
"""

EXAMPLES = r"""
- name: Restart the agent with its changed unit and verify it in one call
  jada.agent.agent_service_restart_verify:
    service: jada-agent
    restart: true
    daemon_reload: true
    settle_seconds: 5

- name: Restart the agent and prove that it answers with its model
  jada.agent.agent_service_restart_verify:
    service: jada-agent
    restart: true
    smoke_task: true
    expected_model: claude-sonnet-4-6
    smoke_timeout: 90

- name: Verify the agent after its restart
  jada.agent.agent_service_restart_verify:
    service: jada-agent
    settle_seconds: 5
    expected_nofile: 65536

- name: Only report
  jada.agent.agent_service_restart_verify:
    service: jada-agent
    settle_seconds: 0
    fail_when_unhealthy: false
  register: health
"""

RETURN = r"""
healthy:
  description: Whether every check held.
  returned: always
  type: bool
  sample: true
problems:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
  sample: ["jada-agent restarted 2 times during the 5 s settle window (NRestarts 0 -> 2)"]
active_state:
  description: C(ActiveState) at the end of the window.
  returned: always
  type: str
  sample: active
main_pid:
  description: Main PID at the end of the window, C(0) when not running.
  returned: always
  type: int
  sample: 812
n_restarts:
  description: C(NRestarts) at the end of the window.
  returned: always
  type: int
  sample: 0
nofile:
  description: Effective soft and hard C(RLIMIT_NOFILE) of the main process; empty when it is not running.
  returned: always
  type: dict
  sample: {soft: 20000, hard: 20000}
journal_failures:
  description: Journal lines since the last start that match O(failure_pattern).
  returned: always
  type: list
  elements: str
systemd_causes:
  description:
    - When the service is not healthy, systemd's own lines on why (the exit C(status=NNN/NAME), C(Failed at step),
      C(Failed to ...)), the last three; they are also in RV(problems) and the failure message.
  returned: always
  type: list
  elements: str
  sample: ["jada-agent.service: Main process exited, code=exited, status=217/USER"]
smoke:
  description:
    - The smoke task's result, with the keys M(jada.agent.agent_task) returns (C(task_uuid), C(is_error),
      C(answered_by), C(init_model), C(usage), C(cost_usd), C(duration_ms), C(duration_api_ms),
      C(api_error_status), C(api_error_type), C(retries), C(timed_out), C(state), C(problems)).
    - Null when no smoke task was sent (O(smoke_task) not set, check mode, or the service not active and settled).
  returned: always
  type: dict
  sample: {task_uuid: 5f0c1c6e-4a51-4f43-9a3c-2b7d0f1e9a11, is_error: false, answered_by: [claude-sonnet-4-6],
           init_model: claude-sonnet-4-6, cost_usd: 0.000096, duration_ms: 229, timed_out: false, problems: []}
  version_added: 0.2.0
"""

import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jada.agent.plugins.module_utils import agent_host
from ansible_collections.jada.agent.plugins.module_utils import agent_task

WATCHED = ('ActiveState', 'SubState', 'MainPID', 'NRestarts', 'ExecMainStartTimestamp',
           'ExecMainStartTimestampMonotonic', 'Result')


def snapshot(module, unit):
    show = agent_host.systemctl_show(module, unit, WATCHED)
    return {
        'active_state': show.get('ActiveState', ''),
        'main_pid': int(show['MainPID']) if show.get('MainPID', '').isdigit() else 0,
        'n_restarts': int(show['NRestarts']) if show.get('NRestarts', '').isdigit() else 0,
        'started': show.get('ExecMainStartTimestamp', ''),
        'started_monotonic': int(show['ExecMainStartTimestampMonotonic'])
        if show.get('ExecMainStartTimestampMonotonic', '').isdigit() else 0,
        'result': show.get('Result', ''),
    }


def settle_problems(name, before, after, settle_seconds, smoke=False):
    also = ' and the smoke task' if smoke else ''
    problems = []
    if after['active_state'] != 'active':
        problems.append('%s is %s, not active (result: %s)' % (name, after['active_state'] or 'unknown', after['result']))
    elif not agent_host.pid_alive(after['main_pid']):
        problems.append('%s has no running main process (MainPID %s)' % (name, after['main_pid']))
    # NRestarts only grows with automatic restarts (a manual start resets it; the PID check catches that).
    if after['n_restarts'] > before['n_restarts']:
        problems.append('%s restarted %d times during the %g s settle window%s (NRestarts %d -> %d)' % (
            name, after['n_restarts'] - before['n_restarts'], settle_seconds, also, before['n_restarts'],
            after['n_restarts']))
    elif after['main_pid'] != before['main_pid'] and after['active_state'] == 'active':
        problems.append('%s changed its main process during the settle window%s (PID %s -> %s)' % (
            name, also, before['main_pid'], after['main_pid']))
    return problems


def limit_problem(name, expected, nofile, manager_hard, nr_open):
    """Why the effective limit differs from the requested one, or None."""
    if expected is None or not nofile:
        return None
    soft, hard = nofile
    if soft == expected and hard == expected:
        return None
    causes = []
    if isinstance(manager_hard, int) and expected > manager_hard:
        causes.append('the service manager itself (PID 1) has a hard limit of %d, and systemd silently clamps '
                      'LimitNOFILE to it (typical in containers, which cannot raise hard limits)' % manager_hard)
    if isinstance(nr_open, int) and expected > nr_open:
        causes.append('fs.nr_open is %d, the most any process may have' % nr_open)
    if not causes:
        causes.append('the LimitNOFILE drop-in is not loaded (daemon-reload and restart pending?) or another '
                      'drop-in overrides it')
    return '%s runs with RLIMIT_NOFILE soft %s / hard %s, but %d was requested; likely cause: %s' % (
        name, soft, hard, expected, '; '.join(causes))


def journal_failures(messages, pattern):
    matcher = re.compile(pattern)
    return [message[:300] for message in messages if matcher.search(message)]


def recent_causes(module, unit):
    """systemd's cause lines among the unit's last journal entries (the restart itself failed)."""
    rc, out, dummy = module.run_command(['journalctl', '--unit', unit, '--lines', '30', '--output', 'json', '--all',
                                         '--no-pager'])
    return agent_host.systemd_causes(agent_host.journal_entries_after(out, 0, None)) if rc == 0 else []


def smoke_task(params, service):
    """Send the smoke task and judge its answer: (agent_task's result, problems)."""
    try:
        result = agent_task.run_task(params['smoke_prompt'], inbox=params['inbox'], output=params['output'],
                                     lock=params['lock'], timeout=params['smoke_timeout'],
                                     socket_unit=service + '.socket')
    except agent_task.TaskError as exc:
        return None, ['the smoke task could not be sent to %s: %s' % (service, exc)]
    smoke = agent_task.report(result, params['expected_model'], params['smoke_timeout'])
    return smoke, ['smoke task %s: %s' % (result['task_uuid'], problem) for problem in smoke['problems']]


def restart(module, unit, daemon_reload):
    """Restart in the same module call as the verification: the restart window is one round trip shorter."""
    if daemon_reload:
        rc, out, err = module.run_command(['systemctl', 'daemon-reload'])
        if rc != 0:
            module.fail_json(msg='systemctl daemon-reload failed: %s' % (err.strip() or out.strip()), rc=rc)
    rc, out, err = module.run_command(['systemctl', 'restart', unit])
    if rc != 0:
        causes = recent_causes(module, unit)
        problems = ['%s did not restart' % unit] + ['systemd: %s' % cause for cause in causes]
        module.fail_json(msg='systemctl restart %s failed: %s%s' % (unit, err.strip() or out.strip(),
                                                                    ''.join('; systemd: ' + cause for cause in causes)),
                         rc=rc, healthy=False, problems=problems, systemd_causes=causes)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type='str', default='jada-agent'),
            settle_seconds=dict(type='float', default=5),
            failure_pattern=dict(type='str', default=agent_host.FAILURE_PATTERN),
            expected_nofile=dict(type='int'),
            fail_when_unhealthy=dict(type='bool', default=True),
            restart=dict(type='bool', default=False),
            daemon_reload=dict(type='bool', default=False),
            smoke_task=dict(type='bool', default=False),
            expected_model=dict(type='str'),
            smoke_timeout=dict(type='float', default=60),
            # no_log: the invocation echoed in the result would carry the prompt otherwise.
            smoke_prompt=dict(type='str', default=agent_task.SMOKE_PROMPT, no_log=True),
            inbox=dict(type='path', default=agent_task.DEFAULT_INBOX),
            output=dict(type='path', default=agent_task.DEFAULT_OUTPUT),
            lock=dict(type='path', default=agent_task.DEFAULT_LOCK),
        ),
        supports_check_mode=True,
    )
    name = module.params['service']
    unit = name + '.service'
    try:
        re.compile(module.params['failure_pattern'])
    except re.error as exc:
        module.fail_json(msg='failure_pattern is not a valid regular expression: %s' % exc)
    if module.params['settle_seconds'] < 0:
        module.fail_json(msg='settle_seconds must not be negative, got %s' % module.params['settle_seconds'])
    if module.params['smoke_timeout'] <= 0:
        module.fail_json(msg='smoke_timeout must be greater than 0, got %s' % module.params['smoke_timeout'])
    if module.params['smoke_task'] and not module.params['smoke_prompt'].strip():
        module.fail_json(msg='smoke_prompt must not be empty')

    if module.params['restart']:
        if module.check_mode:
            module.exit_json(changed=True, healthy=None, problems=[], active_state='', main_pid=0, n_restarts=0,
                             nofile={}, journal_failures=[], systemd_causes=[], smoke=None,
                             msg='check mode: %s would be restarted' % unit)
        restart(module, unit, module.params['daemon_reload'])

    before = snapshot(module, unit)
    time.sleep(module.params['settle_seconds'])
    after = snapshot(module, unit)

    problems = settle_problems(name, before, after, module.params['settle_seconds'])
    smoke = None
    if module.params['smoke_task'] and not module.check_mode and not problems:
        smoke, smoke_problems = smoke_task(module.params, name)
        # A crash while answering is as bad as one while settling: compare the start of the window with now.
        after = snapshot(module, unit)
        problems = settle_problems(name, before, after, module.params['settle_seconds'], smoke=True) + smoke_problems
    nofile = agent_host.process_limits(after['main_pid']).get('nofile')
    manager = agent_host.process_limits(1).get('nofile', (None, None))[1]
    problem = limit_problem(name, module.params['expected_nofile'], nofile,
                            manager, agent_host.read_int(agent_host.proc_path('sys', 'fs', 'nr_open')))
    if problem:
        problems.append(problem)
    # Lines since the first start seen, so a crash that systemd already restarted still counts.
    started = before if before['started'] else after
    messages = agent_host.journal_since(module, name, started['started'], started['started_monotonic'])
    failures = journal_failures(messages, module.params['failure_pattern'])
    if failures:
        problems.append('%d journal line(s) of %s since its start match the failure pattern, the last: %s' % (
            len(failures), name, failures[-1]))
    # Why, in systemd's words (an exit status such as 217/USER, "Failed at step"), for a service that did not stay up.
    causes = agent_host.systemd_causes(messages) if problems else []
    problems += ['systemd: %s' % cause for cause in causes if cause not in failures[-1:]]

    result = dict(
        changed=module.params['restart'],
        healthy=not problems,
        problems=problems,
        active_state=after['active_state'],
        main_pid=after['main_pid'],
        n_restarts=after['n_restarts'],
        nofile={'soft': nofile[0], 'hard': nofile[1]} if nofile else {},
        journal_failures=failures,
        systemd_causes=causes,
        smoke=smoke,
    )
    if problems and module.params['fail_when_unhealthy']:
        module.fail_json(msg='%s is not healthy: %s' % (name, '; '.join(problems)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
