#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_task
short_description: Send one task to the running agent and wait for its answer
version_added: 0.2.0
description:
  - Writes one task (a stream-json C(user) line with a new UUID) into the FIFO the agent reads its tasks from,
    then follows the agent's output file until the Claude Code CLI writes the C(result) line of that task.
  - Reports which model answered, the tokens and cost of this task alone, how long it took, the API error
    if there was one and the API retries the CLI made while waiting. Proves end to end that the agent takes
    tasks, reaches the API and answers with the expected model.
  - Neither the prompt nor any text of the answer is ever returned, warned or logged, only models, counts,
    costs, durations and the API's error codes.
author:
  - jada.agent maintainers (@jada)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode no task is sent; the result says so in its C(msg).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  prompt:
    description:
      - The task for the agent. The default is a smoke test that costs a few tokens.
      - The agent runs with its permissions skipped, so a prompt can make it change files.
    type: str
    default: Reply with the single word OK.
  inbox:
    description:
      - The FIFO the agent reads its tasks from, created and held open by C(jada-agent.socket).
      - Writers take an exclusive lock on O(lock) around each task line, so that lines never interleave;
        an interleaved line is invalid JSON, on which the CLI exits.
    type: path
    default: /run/jada-agent/tasks
  output:
    description: The file the agent's standard output (stream-json lines) is appended to.
    type: path
    default: /var/log/jada-agent/output.jsonl
  lock:
    description: The lock file that serialises writers of O(inbox). Created when missing.
    type: path
    default: /run/jada-agent/tasks.lock
  timeout:
    description:
      - Seconds to wait for the result of the task. Must be greater than 0.
      - While the API is overloaded the CLI retries for more than two minutes before it gives up.
    type: float
    default: 60
  expected_model:
    description:
      - The model that must have answered. The task fails when any other model answered it, or none did.
      - Its dated snapshot (C(claude-sonnet-4-6-20260101) for C(claude-sonnet-4-6)) counts as the same model.
    type: str
  fail_on_error:
    description:
      - Fail when the task did not succeed (no result in time, an error, no model or another model answered).
        With C(false), only report it in RV(problems).
      - A task that cannot be submitted at all (no reader of O(inbox)) always fails.
    type: bool
    default: true
notes:
  - Each call is a real request to the model, with its cost.
  - A task queued behind a long task of the agent waits for it; O(timeout) counts that time too.
  - A task that timed out is not taken back; the agent still answers it later.
seealso:
  - module: jada.agent.agent_service_restart_verify
"""

EXAMPLES = r"""
- name: Check that the agent answers, with the model it should use
  jada.agent.agent_task:
    expected_model: claude-sonnet-4-6
    timeout: 90

- name: Only report what happened to a task
  jada.agent.agent_task:
    prompt: Summarise the open issues in one line.
    fail_on_error: false
  register: task

- name: Show the cost of the task
  ansible.builtin.debug:
    msg: "{{ task.answered_by }} answered for {{ task.cost_usd }} USD in {{ task.duration_ms }} ms"
"""

RETURN = r"""
task_uuid:
  description: The UUID the task was sent with (C(uuid) of its line, C(user_message_uuid) of its result).
  returned: success and failure, not in check mode
  type: str
  sample: 5f0c1c6e-4a51-4f43-9a3c-2b7d0f1e9a11
is_error:
  description: The C(is_error) of the task's result; null when no result came.
  returned: success and failure, not in check mode
  type: bool
  sample: false
answered_by:
  description: The models of the assistant messages of the task, sorted; empty when no model answered.
  returned: success and failure, not in check mode
  type: list
  elements: str
  sample: [claude-sonnet-4-6]
init_model:
  description: The model the CLI resolved for the task (its C(system)/C(init) line).
  returned: success and failure, not in check mode
  type: str
  sample: claude-sonnet-4-6
usage:
  description: Tokens and cost of this task alone, per model.
  returned: success and failure, not in check mode
  type: dict
  sample:
    claude-sonnet-4-6: {input_tokens: 12, output_tokens: 4, cache_creation_input_tokens: 0,
                        cache_read_input_tokens: 0, cost_usd: 0.000096}
cost_usd:
  description: Cost of this task alone in US dollars; null when no result came.
  returned: success and failure, not in check mode
  type: float
  sample: 0.000096
duration_ms:
  description: How long the CLI worked on the task; null when no result came.
  returned: success and failure, not in check mode
  type: int
  sample: 229
duration_api_ms:
  description:
    - How long the CLI waited for the API for this task, retries included.
    - The CLI adds this up over its run; the task's own share is the difference to the result before it, null
      when that result is no longer in the output file.
  returned: success and failure, not in check mode
  type: int
  sample: 39
api_error_status:
  description: The HTTP status of the API error the task ended with, or null.
  returned: success and failure, not in check mode
  type: int
  sample: 404
api_error_type:
  description: The API's error type, or null.
  returned: success and failure, not in check mode
  type: str
  sample: not_found_error
retries:
  description: The API retries the CLI reported for the task, the last one's details.
  returned: success and failure, not in check mode
  type: dict
  contains:
    count:
      description: How many C(api_retry) lines were seen.
      type: int
    attempt:
      description: The attempt number of the last one.
      type: int
    max_retries:
      description: How many attempts the CLI makes in all.
      type: int
    error:
      description: The CLI's name of the error, such as C(overloaded) or C(rate_limit).
      type: str
    error_status:
      description: The HTTP status of the error.
      type: int
  sample: {count: 4, attempt: 4, max_retries: 10, error: overloaded, error_status: 529}
timed_out:
  description: Whether no result came within O(timeout).
  returned: success and failure, not in check mode
  type: bool
  sample: false
state:
  description:
    - The last C(command_lifecycle) state of the task before its result, C(queued) or C(started); null when the CLI
      wrote none.
    - With RV(timed_out), C(queued) means the agent is still busy with an earlier task.
  returned: success and failure, not in check mode
  type: str
  sample: completed
problems:
  description: One sentence per problem with the task; empty when it succeeded.
  returned: success and failure, not in check mode
  type: list
  elements: str
  sample: ["the agent answered with API error 404 (not_found_error): the model does not exist for this account or
            region, or the account has no access to it; the agent runs claude-sonnet-4-6"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.jada.agent.plugins.module_utils import agent_task


def main():
    module = AnsibleModule(
        argument_spec=dict(
            # no_log: the invocation echoed in the result would carry the prompt otherwise.
            prompt=dict(type='str', default=agent_task.SMOKE_PROMPT, no_log=True),
            inbox=dict(type='path', default=agent_task.DEFAULT_INBOX),
            output=dict(type='path', default=agent_task.DEFAULT_OUTPUT),
            lock=dict(type='path', default=agent_task.DEFAULT_LOCK),
            timeout=dict(type='float', default=60),
            expected_model=dict(type='str'),
            fail_on_error=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['timeout'] <= 0:
        module.fail_json(msg='timeout must be greater than 0, got %s' % params['timeout'])
    if not params['prompt'].strip():
        module.fail_json(msg='prompt must not be empty')
    # changed stays false: a task changes no configuration of the host (what a custom prompt makes the agent do
    # cannot be known from here).
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, problems=[],
                         msg='check mode: no task was sent to %s' % params['inbox'])

    try:
        result = agent_task.run_task(params['prompt'], inbox=params['inbox'], output=params['output'],
                                     lock=params['lock'], timeout=params['timeout'])
    except agent_task.TaskError as exc:
        module.fail_json(msg='the task could not be sent to the agent: %s' % exc, problems=[str(exc)])

    returned = agent_task.report(result, params['expected_model'], params['timeout'])
    if returned['problems'] and params['fail_on_error']:
        module.fail_json(msg='task %s of the agent (inbox %s, output %s) did not succeed: %s' % (
            result['task_uuid'], params['inbox'], params['output'], '; '.join(returned['problems'])),
            changed=False, **returned)
    module.exit_json(changed=False, **returned)


if __name__ == '__main__':
    main()
