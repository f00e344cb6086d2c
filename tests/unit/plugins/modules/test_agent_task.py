# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.jada.agent.plugins.module_utils import agent_task as agent_task_utils
from ansible_collections.jada.agent.plugins.modules import agent_task
from ansible_collections.jada.agent.tests.unit.plugins.modules.agent_fixtures import (
    FakeAgent,
    cli_lines,
    not_found_answer,
    overloaded_answer,
    success_answer,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module

HAIKU = 'claude-haiku-4-5'
SONNET = 'claude-sonnet-4-6'
# Neither may ever be seen in what the module returns.
PROMPT = 'Count the files in PROMPT-SECRET-c9d2 and reply'
ANSWER = 'ANSWER-SECRET-51b7: there are 3 files'


class Agent(object):
    """Paths of the agent in a temporary directory; ``start(respond)`` runs a FakeAgent behind the inbox."""

    def __init__(self, root):
        self.inbox = str(root / 'tasks')
        self.output = str(root / 'output.jsonl')
        self.lock = str(root / 'tasks.lock')
        self.fake = None

    def start(self, respond):
        self.fake = FakeAgent(self.inbox, self.output, respond)
        self.fake.__enter__()
        return self.fake

    def stop(self):
        if self.fake is not None:
            self.fake.__exit__(None, None, None)

    def args(self, **extra):
        args = {'inbox': self.inbox, 'output': self.output, 'lock': self.lock, 'timeout': 10, 'prompt': PROMPT}
        args.update(extra)
        return args


@pytest.fixture
def agent(tmp_path):
    paths = Agent(tmp_path)
    yield paths
    paths.stop()


@pytest.fixture
def run(capsys):
    def run_task(args, check_mode=False):
        return run_module(agent_task.main, args, capsys, check_mode=check_mode)

    return run_task


def assert_no_text(result):
    assert 'PROMPT-SECRET-c9d2' not in result.raw
    assert ANSWER not in result.raw and 'ANSWER-SECRET' not in result.raw
    assert 'issue with the selected model' not in result.raw


def test_answered_task_returns_what_the_agent_wrote(agent, run):
    fake = agent.start(lambda task: success_answer(task['uuid'], ANSWER))

    result = run(agent.args(expected_model=HAIKU))

    assert not result.failed
    assert result['changed'] is False
    assert [task['message']['content'] for task in fake.tasks] == [PROMPT]
    assert result['task_uuid'] == fake.tasks[0]['uuid']
    assert result['is_error'] is False
    assert result['answered_by'] == [HAIKU]
    assert result['init_model'] == HAIKU
    assert result['usage'] == {HAIKU: {'input_tokens': 12, 'output_tokens': 4, 'cache_creation_input_tokens': 0,
                                       'cache_read_input_tokens': 0, 'cost_usd': 0.000032}}
    assert result['cost_usd'] == 0.000032
    assert result['duration_ms'] == 229
    assert result['duration_api_ms'] == 39
    assert result['api_error_status'] is None and result['api_error_type'] is None
    assert result['retries'] == {'count': 0, 'attempt': None, 'max_retries': None, 'error': None, 'error_status': None}
    assert result['timed_out'] is False
    assert result['state'] == 'started'
    assert result['problems'] == []
    assert_no_text(result)


def test_the_prompt_is_not_echoed_in_the_invocation(agent, run):
    agent.start(lambda task: success_answer(task['uuid'], ANSWER))

    result = run(agent.args())

    assert result['invocation']['module_args']['prompt'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert_no_text(result)


def test_earlier_answers_in_the_output_are_not_taken(agent, run):
    # The file already holds the answers of earlier tasks, one of them an error, and a cut line.
    with open(agent.output, 'w') as handle:
        handle.write('\n'.join(cli_lines('notfound-404.jsonl') + cli_lines('service-success.jsonl')) + '\n{"type":')
    agent.start(lambda task: ['', ''] + success_answer(task['uuid'], ANSWER))

    result = run(agent.args())

    assert not result.failed
    assert result['answered_by'] == [HAIKU]


def test_default_prompt_is_the_smoke_task(agent, run):
    fake = agent.start(lambda task: success_answer(task['uuid']))

    run({'inbox': agent.inbox, 'output': agent.output, 'lock': agent.lock})

    assert fake.tasks[0]['message']['content'] == 'Reply with the single word OK.'


def test_error_answer_fails_with_the_api_error(agent, run):
    agent.start(lambda task: not_found_answer(task['uuid']))

    result = run(agent.args())

    assert result.failed
    assert result['is_error'] is True
    assert result['api_error_status'] == 404
    assert result['api_error_type'] == 'not_found_error'
    assert result['answered_by'] == []
    assert result['init_model'] == SONNET
    problem = ('the agent answered with API error 404 (not_found_error): the model does not exist for this account or '
               'region, or the account has no access to it; the agent runs claude-sonnet-4-6')
    assert result['problems'] == [problem]
    assert result['msg'] == 'task %s of the agent (inbox %s, output %s) did not succeed: %s' % (
        result['task_uuid'], agent.inbox, agent.output, problem)
    assert_no_text(result)


def test_error_answer_only_reported_without_fail_on_error(agent, run):
    agent.start(lambda task: not_found_answer(task['uuid']))

    result = run(agent.args(fail_on_error=False))

    assert not result.failed
    assert result['is_error'] is True
    assert len(result['problems']) == 1


def test_answer_of_another_model_fails(agent, run):
    agent.start(lambda task: success_answer(task['uuid'], ANSWER))

    result = run(agent.args(expected_model=SONNET))

    assert result.failed
    assert result['answered_by'] == [HAIKU]
    assert result['problems'] == ['the task was answered by claude-haiku-4-5, not by the expected claude-sonnet-4-6 only']
    assert 'claude-sonnet-4-6' in result['msg']
    assert_no_text(result)


def test_no_answer_in_time_fails_with_the_retries_seen(agent, run):
    agent.start(lambda task: overloaded_answer(task['uuid']))

    result = run(agent.args(timeout=0.5))

    assert result.failed
    assert result['timed_out'] is True
    assert result['is_error'] is None
    assert result['retries'] == {'count': 8, 'attempt': 8, 'max_retries': 10, 'error': 'overloaded', 'error_status': 529}
    assert result['problems'] == [
        'no result for the task within 0.5 s: the API was overloaded (529), the CLI retried 8 of 10 times']


def test_agent_that_never_reads_its_inbox(agent, run):
    # The socket unit holds the FIFO, the service does not run: the task stays in the pipe.
    os.mkfifo(agent.inbox)
    holder = os.open(agent.inbox, os.O_RDWR | os.O_NONBLOCK)
    try:
        result = run(agent.args(timeout=0.3))
    finally:
        os.close(holder)

    assert result.failed
    assert result['timed_out'] is True
    assert result['state'] is None
    size = len(agent_task_utils.task_line(PROMPT, result['task_uuid']))
    assert result['problems'] == [
        'no result for the task within 0.3 s: %d bytes of tasks are unread in the inbox: the agent does not read it '
        '(is the service running?)' % size]
    assert_no_text(result)


def test_no_reader_of_the_inbox_fails_naming_the_socket_unit(agent, run, tmp_path):
    os.mkfifo(agent.inbox)

    result = run(agent.args())

    assert result.failed
    assert result['msg'] == ('the task could not be sent to the agent: nobody reads the agent inbox %s: the socket unit '
                             'jada-agent.socket is not running (it keeps the FIFO open for the agent)' % agent.inbox)
    assert 'task_uuid' not in result


def test_missing_inbox_fails(agent, run):
    result = run(agent.args())

    assert result.failed
    assert 'the agent inbox %s does not exist' % agent.inbox in result['msg']


def test_check_mode_submits_nothing(agent, run):
    fake = agent.start(lambda task: success_answer(task['uuid']))

    result = run(agent.args(), check_mode=True)

    assert not result.failed
    assert result['changed'] is False
    assert result['skipped'] is True
    assert result['msg'] == 'check mode: no task was sent to %s' % agent.inbox
    assert fake.raw == b''
    assert not os.path.exists(agent.output)
    assert not os.path.exists(agent.lock)


@pytest.mark.parametrize('timeout', [0, -1])
def test_timeout_must_be_positive(agent, run, timeout):
    result = run(agent.args(timeout=timeout))

    assert result.failed
    assert result['msg'] == 'timeout must be greater than 0, got %s' % float(timeout)
    assert not os.path.exists(agent.lock)


def test_empty_prompt_is_refused(agent, run):
    fake = agent.start(lambda task: success_answer(task['uuid']))

    result = run(agent.args(prompt='  '))

    assert result.failed
    assert result['msg'] == 'prompt must not be empty'
    assert fake.raw == b''
