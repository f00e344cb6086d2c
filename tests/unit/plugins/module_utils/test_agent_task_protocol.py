# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import fcntl
import json
import os
import select
import threading
import time

import pytest

from ansible_collections.jada.agent.plugins.module_utils import agent_task
from ansible_collections.jada.agent.tests.unit.plugins.modules.agent_fixtures import (
    AFTER_RESTART_TASK,
    QUEUE_404_TASK,
    QUEUE_RETRIED_TASK,
    QUEUE_WAITING_TASK,
    SAMPLE_TASK,
    SECOND_TASK,
    SUCCESS_TASK,
    FakeAgent,
    as_task,
    cli_lines,
    success_answer,
    task_lines,
)

HAIKU = 'claude-haiku-4-5'
SONNET = 'claude-sonnet-4-6'
TASK = '5f0c1c6e-4a51-4f43-9a3c-2b7d0f1e9a11'


def haiku_usage(input_tokens=12, output_tokens=4, cost=0.000032):
    return {HAIKU: {'input_tokens': input_tokens, 'output_tokens': output_tokens, 'cache_creation_input_tokens': 0,
                    'cache_read_input_tokens': 0, 'cost_usd': cost}}


NO_RETRIES = {'count': 0, 'attempt': None, 'max_retries': None, 'error': None, 'error_status': None}


# --- task_line ---------------------------------------------------------------------------------------------

def test_task_line_is_one_stream_json_user_line():
    line = agent_task.task_line('Say "hi"\nthen stop', TASK)

    assert line.endswith('\n') and '\n' not in line[:-1]
    assert json.loads(line) == {'type': 'user', 'message': {'role': 'user', 'content': 'Say "hi"\nthen stop'},
                                'uuid': TASK}


def test_task_line_is_ascii_so_its_length_is_its_size_in_bytes():
    line = agent_task.task_line(u'Résumé \u2014 \U0001F600', TASK)

    assert line.encode('ascii').decode('ascii') == line
    assert json.loads(line)['message']['content'] == u'Résumé \u2014 \U0001F600'


# --- scan: the real CLI's output ---------------------------------------------------------------------------

SCAN_CASES = [
    pytest.param('service-success.jsonl', SUCCESS_TASK, dict(
        done=True, state='started', is_error=False, api_error_status=None, api_error_type=None, subtype='success',
        terminal_reason='completed', answered_by=[HAIKU], init_model=HAIKU, usage=haiku_usage(), cost_usd=0.000032,
        duration_ms=229, duration_api_ms=39, retries=NO_RETRIES), id='first task of a session'),
    # modelUsage, total_cost_usd and duration_api_ms of this result add up the session (24 input tokens,
    # $0.000064, 51 ms of which 39 for the first task).
    pytest.param('service-success.jsonl', SECOND_TASK, dict(
        done=True, state='started', is_error=False, answered_by=[HAIKU], usage=haiku_usage(), cost_usd=0.000032,
        duration_ms=33, duration_api_ms=12), id='second task counts only itself'),
    pytest.param('service-success.jsonl', AFTER_RESTART_TASK, dict(
        done=True, is_error=False, answered_by=[HAIKU], duration_ms=137, duration_api_ms=33), id='after a restart'),
    pytest.param('notfound-404.jsonl', SAMPLE_TASK, dict(
        done=True, state='started', is_error=True, api_error_status=404, api_error_type='not_found_error',
        terminal_reason='api_error', answered_by=[], init_model=SONNET, usage={}, cost_usd=0, duration_ms=189,
        duration_api_ms=0, retries=NO_RETRIES), id='404 model not found'),
    pytest.param('overloaded-529-retrying.jsonl', SAMPLE_TASK, dict(
        done=False, state='started', is_error=None, api_error_status=None, answered_by=[], init_model=SONNET,
        usage={}, cost_usd=None, duration_ms=None,
        retries={'count': 8, 'attempt': 8, 'max_retries': 10, 'error': 'overloaded', 'error_status': 529}),
        id='529 still retrying'),
    pytest.param('service-queue.jsonl', QUEUE_404_TASK, dict(
        done=True, is_error=True, api_error_status=404, answered_by=[], usage={}, cost_usd=0, init_model=HAIKU),
        id='404 after an answered task of the session'),
    pytest.param('service-queue.jsonl', QUEUE_RETRIED_TASK, dict(
        done=True, is_error=False, answered_by=[HAIKU], usage=haiku_usage(), duration_ms=16770, duration_api_ms=16744,
        retries={'count': 5, 'attempt': 5, 'max_retries': 10, 'error': 'overloaded', 'error_status': 529}),
        id='answered after 5 retries'),
    # Its "queued" line came while the task before it was retrying: those retries are not its own.
    pytest.param('service-queue.jsonl', QUEUE_WAITING_TASK, dict(
        done=True, is_error=False, answered_by=[HAIKU], retries=NO_RETRIES, init_model=HAIKU, duration_ms=27,
        duration_api_ms=10),
        id='queued behind a retrying task'),
    pytest.param('service-success.jsonl', TASK, dict(
        done=False, state=None, is_error=None, answered_by=[], usage={}, cost_usd=None, retries=NO_RETRIES),
        id='task not in the output'),
]


@pytest.mark.parametrize('name, task_uuid, expected', SCAN_CASES)
def test_scan_real_cli_output(name, task_uuid, expected):
    result = agent_task.scan(cli_lines(name), task_uuid)

    assert dict((key, result[key]) for key in expected) == expected


def test_scan_of_a_task_still_queued_ignores_the_retries_of_the_running_one():
    lines = cli_lines('service-queue.jsonl')
    # Up to the 5th retry of the running task, after which the waiting one was queued.
    cut = max(index for index, line in enumerate(lines) if QUEUE_WAITING_TASK in line and '"queued"' in line)

    result = agent_task.scan(lines[:cut + 1], QUEUE_WAITING_TASK)

    assert result['state'] == 'queued'
    assert result['retries'] == NO_RETRIES
    assert result['done'] is False


def test_own_api_time_of_a_later_task_needs_the_result_before_it():
    lines = task_lines('service-success.jsonl', SECOND_TASK)
    earlier = task_lines('service-success.jsonl', SUCCESS_TASK)

    assert agent_task.scan(lines, SECOND_TASK)['duration_api_ms'] is None
    assert agent_task.scan(lines, SECOND_TASK, agent_task.session_marks(earlier))['duration_api_ms'] == 12
    # The marks of another session do not count.
    other = agent_task.session_marks(task_lines('service-success.jsonl', AFTER_RESTART_TASK))
    assert agent_task.scan(lines, SECOND_TASK, other)['duration_api_ms'] is None


def test_session_marks():
    marks = agent_task.session_marks(cli_lines('service-success.jsonl') + ['{"type":"result"'])

    assert marks == {'be589f4e-b92d-4c79-a1c9-d60ddfb61c5d': (1, 51), '59472672-1825-4cf0-b1b3-64d637e03ba6': (0, 33)}


def test_scan_returns_the_same_keys_whatever_happened():
    keys = set(agent_task.scan([], TASK))

    assert keys == set(agent_task.scan(cli_lines('service-success.jsonl'), SUCCESS_TASK))
    assert keys == {'done', 'state', 'is_error', 'api_error_status', 'api_error_type', 'subtype', 'terminal_reason',
                    'answered_by', 'init_model', 'usage', 'cost_usd', 'duration_ms', 'duration_api_ms', 'retries'}


def test_scan_skips_what_is_not_a_json_object_and_cut_lines():
    lines = success_answer(TASK)
    result_line = lines[4]
    noisy = ['', 'Error: not json', '[1, 2]', '"text"', '{"type": "result", "user_message_uuid": ', result_line[:400]]
    noisy += lines

    assert agent_task.scan(noisy, TASK) == agent_task.scan(lines, TASK)
    # The cut result line alone is no result.
    assert agent_task.scan([result_line[:-1]], TASK)['done'] is False


def test_scan_accepts_bytes():
    lines = [line.encode('utf-8') for line in success_answer(TASK)]

    assert agent_task.scan(lines, TASK)['answered_by'] == [HAIKU]


def test_scan_stops_at_the_result_of_the_task():
    lines = success_answer(TASK)
    later = [line.replace(HAIKU, SONNET) for line in cli_lines('notfound-404.jsonl')]
    later = [line.replace(SAMPLE_TASK, TASK) for line in later]

    result = agent_task.scan(lines + later, TASK)

    # wait_for_result stops reading at the result too: what follows it must not count either way.
    assert result == agent_task.scan(lines, TASK)
    assert result['is_error'] is False
    assert result['state'] == 'started'


def test_scan_ignores_other_tasks_answers():
    lines = [line.replace(HAIKU, SONNET) for line in success_answer('99999999-1111-4111-8111-111111111111')]
    lines += success_answer(TASK)

    result = agent_task.scan(lines, TASK)

    assert result['answered_by'] == [HAIKU]


def test_scan_without_model_usage_since_last_result_has_no_usage():
    lines = [line.replace('"model_usage_since_last_result"', '"other"') for line in success_answer(TASK)]

    result = agent_task.scan(lines, TASK)

    assert result['done'] is True
    assert result['usage'] == {}
    assert result['cost_usd'] is None


def test_scan_never_returns_text():
    lines = success_answer(TASK, answer='ANSWER-TEXT-51b7')

    assert 'ANSWER-TEXT-51b7' not in json.dumps(agent_task.scan(lines, TASK))
    assert 'There' not in json.dumps(agent_task.scan(cli_lines('notfound-404.jsonl'), SAMPLE_TASK))


# --- verdict -----------------------------------------------------------------------------------------------

def scanned(name, sample_uuid, **extra):
    result = agent_task.scan(cli_lines(name), sample_uuid)
    result['timed_out'] = not result['done']
    result.update(extra)
    return result


VERDICT_CASES = [
    pytest.param(scanned('service-success.jsonl', SUCCESS_TASK), None, [], id='answered'),
    pytest.param(scanned('service-success.jsonl', SUCCESS_TASK), HAIKU, [], id='answered by the expected model'),
    pytest.param(scanned('service-success.jsonl', SUCCESS_TASK), SONNET,
                 ['the task was answered by claude-haiku-4-5, not by the expected claude-sonnet-4-6 only'],
                 id='answered by another model'),
    pytest.param(scanned('service-success.jsonl', SUCCESS_TASK), 'claude-haiku-4',
                 ['the task was answered by claude-haiku-4-5, not by the expected claude-haiku-4 only'],
                 id='a prefix is another model'),
    pytest.param(dict(scanned('service-success.jsonl', SUCCESS_TASK), answered_by=[HAIKU + '-20251001']), HAIKU, [],
                 id='the dated snapshot is the same model'),
    pytest.param(dict(scanned('service-success.jsonl', SUCCESS_TASK), answered_by=[HAIKU, SONNET]), SONNET,
                 ['the task was answered by claude-haiku-4-5, claude-sonnet-4-6, not by the expected claude-sonnet-4-6 only'],
                 id='answered by two models'),
    pytest.param(dict(scanned('service-success.jsonl', SUCCESS_TASK), answered_by=[]), None,
                 ['no model answered the task (its result has no assistant message)'], id='answered by no model'),
    pytest.param(scanned('notfound-404.jsonl', SAMPLE_TASK), None,
                 ['the agent answered with API error 404 (not_found_error): the model does not exist for this account '
                  'or region, or the account has no access to it; the agent runs claude-sonnet-4-6'], id='404'),
    pytest.param(scanned('notfound-404.jsonl', SAMPLE_TASK), SONNET,
                 ['the agent answered with API error 404 (not_found_error): the model does not exist for this account '
                  'or region, or the account has no access to it; the agent runs claude-sonnet-4-6'],
                 id='404 of the expected model'),
    pytest.param(scanned('notfound-404.jsonl', SAMPLE_TASK), HAIKU,
                 ['the agent answered with API error 404 (not_found_error): the model does not exist for this account '
                  'or region, or the account has no access to it; the agent runs claude-sonnet-4-6',
                  'the agent runs claude-sonnet-4-6, not the expected claude-haiku-4-5'], id='404 of another model'),
    pytest.param(dict(scanned('notfound-404.jsonl', SAMPLE_TASK), api_error_status=None, api_error_type=None,
                      subtype='error_max_turns', terminal_reason='max_turns'), None,
                 ['the agent ended the task with an error (subtype error_max_turns, terminal reason max_turns)'],
                 id='error without an API status'),
    pytest.param(scanned('overloaded-529-retrying.jsonl', SAMPLE_TASK), None,
                 ['no result for the task within 10 s: the API was overloaded (529), the CLI retried 8 of 10 times'],
                 id='timed out on 529'),
    pytest.param(dict(scanned('overloaded-529-retrying.jsonl', SAMPLE_TASK),
                      retries={'count': 2, 'attempt': 2, 'max_retries': 10, 'error': 'rate_limit', 'error_status': 429}),
                 None, ['no result for the task within 10 s: the API rate-limited the requests (429), the CLI retried '
                        '2 of 10 times'], id='timed out on 429'),
    pytest.param(dict(scanned('overloaded-529-retrying.jsonl', SAMPLE_TASK),
                      retries={'count': 1, 'attempt': 1, 'max_retries': None, 'error': None, 'error_status': 403}),
                 None, ['no result for the task within 10 s: the API key has no permission for this model or feature '
                        '(403), the CLI retried 1 times'], id='timed out on an unnamed retry'),
    pytest.param(dict(scanned('overloaded-529-retrying.jsonl', SAMPLE_TASK), retries=NO_RETRIES), None,
                 ['no result for the task within 10 s: the agent started the task, but reported neither an answer nor '
                  'an API retry'], id='started, nothing else'),
    pytest.param(dict(scanned('overloaded-529-retrying.jsonl', SAMPLE_TASK), retries=NO_RETRIES, state='queued'), None,
                 ['no result for the task within 10 s: the task is still queued behind another task of the agent'],
                 id='queued'),
    pytest.param(scanned('service-success.jsonl', TASK, inbox_backlog=248), None,
                 ['no result for the task within 10 s: 248 bytes of tasks are unread in the inbox: the agent does not '
                  'read it (is the service running?)'], id='nobody reads the inbox'),
    pytest.param(scanned('service-success.jsonl', TASK, inbox_backlog=0), None,
                 ['no result for the task within 10 s: the agent never acknowledged the task (is the service running '
                  'and writing to its output file?)'], id='never acknowledged'),
]


@pytest.mark.parametrize('result, expected_model, problems', VERDICT_CASES)
def test_verdict(result, expected_model, problems):
    assert agent_task.verdict(result, expected_model, timeout=10) == problems


def test_verdict_without_timeout_and_of_an_unfinished_scan():
    result = agent_task.scan(cli_lines('overloaded-529-retrying.jsonl'), SAMPLE_TASK)

    assert agent_task.verdict(result) == [
        'no result for the task before the timeout: the API was overloaded (529), the CLI retried 8 of 10 times']


@pytest.mark.parametrize('model, expected, matches', [
    (HAIKU, HAIKU, True),
    (HAIKU + '-20251001', HAIKU, True),
    (HAIKU + '-2025100', HAIKU, False),
    (HAIKU + '-v1', HAIKU, False),
    ('claude-haiku-4-5x20251001', HAIKU, False),
    (HAIKU, HAIKU + '-20251001', False),
    (SONNET, HAIKU, False),
])
def test_model_matches(model, expected, matches):
    assert agent_task.model_matches(model, expected) is matches


# --- latest_answer -----------------------------------------------------------------------------------------

LATEST_CASES = [
    pytest.param(cli_lines('service-success.jsonl'), dict(
        task_uuid=AFTER_RESTART_TASK, is_error=False, api_error_status=None, api_error_type=None, models=[HAIKU],
        assistant_models=[HAIKU], assistant_timestamp='2026-11-30T01:31:25.713Z', init_model=HAIKU), id='answered'),
    pytest.param(cli_lines('notfound-404.jsonl'), dict(
        task_uuid=SAMPLE_TASK, is_error=True, api_error_status=404, api_error_type='not_found_error', models=[],
        assistant_models=[], assistant_timestamp='2026-11-30T01:32:24.452Z', init_model=SONNET), id='404'),
    pytest.param(cli_lines('overloaded-529-retrying.jsonl'), dict(
        task_uuid=None, is_error=None, api_error_status=None, api_error_type=None, models=None,
        assistant_models=[], assistant_timestamp=None, init_model=SONNET), id='no result yet'),
    # Its modelUsage still names claude-haiku-4-5, which answered the task before; no model answered this one.
    pytest.param(cli_lines('service-queue.jsonl')[:12], dict(
        task_uuid=QUEUE_404_TASK, is_error=True, api_error_status=404, models=[], assistant_models=[],
        init_model=HAIKU), id='404 after an answered task'),
    pytest.param(cli_lines('service-queue.jsonl')[:21], dict(
        task_uuid=QUEUE_404_TASK, is_error=True, models=[], init_model=HAIKU), id='retrying after a 404'),
    pytest.param(cli_lines('service-queue.jsonl'), dict(
        task_uuid=QUEUE_WAITING_TASK, is_error=False, models=[HAIKU], assistant_models=[HAIKU]), id='queue done'),
]


@pytest.mark.parametrize('lines, expected', LATEST_CASES)
def test_latest_answer(lines, expected):
    answer = agent_task.latest_answer(lines)

    assert dict((key, answer[key]) for key in expected) == expected


def test_latest_answer_falls_back_to_model_usage_without_the_per_task_field():
    lines = [line.replace('"model_usage_since_last_result"', '"other"') for line in cli_lines('service-success.jsonl')]

    assert agent_task.latest_answer(lines)['models'] == [HAIKU]


def test_latest_answer_of_assistant_lines_of_several_models_of_one_task():
    lines = success_answer(TASK)
    lines.insert(4, lines[3].replace(HAIKU, SONNET))

    assert agent_task.latest_answer(lines)['assistant_models'] == [HAIKU, SONNET]


def test_latest_answer_keeps_only_the_latest_task_s_assistant_models():
    lines = [line.replace(HAIKU, SONNET) for line in success_answer('99999999-1111-4111-8111-111111111111')]
    lines += success_answer(TASK)

    assert agent_task.latest_answer(lines)['assistant_models'] == [HAIKU]


@pytest.mark.parametrize('lines', [[], [''], ['Error: not json', '[]']])
def test_latest_answer_of_no_json_line_is_none(lines):
    assert agent_task.latest_answer(lines) is None


def test_latest_answer_never_returns_text():
    lines = success_answer(TASK, answer='ANSWER-TEXT-51b7') + cli_lines('notfound-404.jsonl')

    text = json.dumps(agent_task.latest_answer(lines))

    assert 'ANSWER-TEXT-51b7' not in text and 'issue with the selected model' not in text


def write_lines(path, lines, mode='w'):
    with open(str(path), mode) as handle:
        handle.write(''.join(line + '\n' for line in lines))


def test_read_latest_answer_of_the_file(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, cli_lines('service-success.jsonl'))

    answer = agent_task.read_latest_answer(str(path))

    assert answer['task_uuid'] == AFTER_RESTART_TASK
    assert answer['models'] == [HAIKU]


def test_read_latest_answer_reads_only_the_tail(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, cli_lines('notfound-404.jsonl') + success_answer(TASK))
    tail = sum(len(line) + 1 for line in success_answer(TASK))

    answer = agent_task.read_latest_answer(str(path), tail_bytes=tail + 20)

    assert answer['task_uuid'] == TASK
    # The 404 task's init line (claude-sonnet-4-6) is before the tail, cut or not read.
    assert answer['init_model'] == HAIKU


def test_read_latest_answer_skips_a_line_cut_by_the_tail(tmp_path):
    path = tmp_path / 'output.jsonl'
    lines = success_answer(TASK)
    write_lines(path, lines)

    # The tail starts inside the result line: it is not taken for a result.
    answer = agent_task.read_latest_answer(str(path), tail_bytes=len(lines[-1]) + 1 + len(lines[-2]) - 5)

    assert answer is not None
    assert answer['task_uuid'] is None
    assert answer['models'] is None


def test_tail_lines_before_an_end(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, ['{"a":1}', '{"b":2}', '{"c":3}'])

    assert agent_task.tail_lines(str(path)) == ['{"a":1}', '{"b":2}', '{"c":3}', '']
    assert agent_task.tail_lines(str(path), end=16) == ['{"a":1}', '{"b":2}', '']
    assert agent_task.tail_lines(str(path), end=16, tail_bytes=10) == ['{"b":2}', '']
    assert agent_task.tail_lines(str(tmp_path / 'missing')) == []


def test_read_latest_answer_of_a_missing_or_empty_file(tmp_path):
    path = tmp_path / 'output.jsonl'
    assert agent_task.read_latest_answer(str(path)) is None
    path.write_text('')
    assert agent_task.read_latest_answer(str(path)) is None


# --- wait_for_result ---------------------------------------------------------------------------------------

class FakeClock(object):
    """time.monotonic and time.sleep: sleeping advances the clock and runs ``on_sleep``."""

    def __init__(self, on_sleep=None):
        self.now = 1000.0
        self.sleeps = []
        self.on_sleep = on_sleep

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


def test_wait_finds_a_result_already_written(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, success_answer(TASK))
    fake = FakeClock()

    result = agent_task.wait_for_result(str(path), 0, TASK, 10, clock=fake.clock, sleep=fake.sleep)

    assert result['timed_out'] is False
    assert result['answered_by'] == [HAIKU]
    assert fake.sleeps == []


def test_wait_reads_only_after_the_offset(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, success_answer(TASK))
    fake = FakeClock()

    result = agent_task.wait_for_result(str(path), path.stat().st_size, TASK, 1, poll=0.25, clock=fake.clock,
                                        sleep=fake.sleep)

    assert result['timed_out'] is True
    assert result['done'] is False
    assert fake.sleeps == [0.25] * 4


def test_wait_follows_lines_written_in_pieces_meanwhile(tmp_path):
    path = tmp_path / 'output.jsonl'
    path.write_text('')
    data = ''.join(line + '\n' for line in success_answer(TASK))
    pieces = [data[start:start + 1000] for start in range(0, len(data), 1000)]

    def append(count):
        if count <= len(pieces):
            with open(str(path), 'a') as handle:
                handle.write(pieces[count - 1])

    fake = FakeClock(on_sleep=append)
    result_end = data.index('"type":"result"')
    result_end = data.index('\n', result_end) + 1

    result = agent_task.wait_for_result(str(path), 0, TASK, 60, clock=fake.clock, sleep=fake.sleep, chunk_size=7)

    assert result['timed_out'] is False
    assert result['usage'] == haiku_usage()
    # Done as soon as the piece that ends the result line is read, not at the end of the data.
    assert len(fake.sleeps) == (result_end + 999) // 1000


def test_wait_times_out_with_the_retries_seen(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, cli_lines('overloaded-529-retrying.jsonl'))
    fake = FakeClock()

    result = agent_task.wait_for_result(str(path), 0, SAMPLE_TASK, 10, poll=3, clock=fake.clock, sleep=fake.sleep)

    assert result['timed_out'] is True
    assert result['retries']['count'] == 8
    # Never past the deadline: the last sleep is what is left of the 10 s.
    assert fake.sleeps == [3, 3, 3, 1]


def test_wait_reads_a_truncated_file_from_its_start(tmp_path):
    path = tmp_path / 'output.jsonl'
    write_lines(path, cli_lines('service-success.jsonl'))
    offset = path.stat().st_size

    def rotate(count):
        if count == 2:
            # logrotate copytruncate: the file is emptied, the agent goes on writing into it.
            write_lines(path, success_answer(TASK))

    fake = FakeClock(on_sleep=rotate)

    result = agent_task.wait_for_result(str(path), offset, TASK, 10, clock=fake.clock, sleep=fake.sleep)

    assert result['timed_out'] is False
    assert result['answered_by'] == [HAIKU]


def test_wait_for_a_file_that_appears_later(tmp_path):
    path = tmp_path / 'output.jsonl'
    fake = FakeClock(on_sleep=lambda count: count == 3 and write_lines(path, success_answer(TASK)))

    result = agent_task.wait_for_result(str(path), 0, TASK, 10, clock=fake.clock, sleep=fake.sleep)

    assert result['done'] is True
    assert len(fake.sleeps) == 3


def test_wait_skips_a_line_longer_than_max_line(tmp_path):
    path = tmp_path / 'output.jsonl'
    # A result of the task that is too long to be held is skipped whole, the real one after it is read.
    huge = json.dumps({'type': 'result', 'user_message_uuid': TASK, 'is_error': True, 'pad': 'x' * 50000})
    write_lines(path, [huge] + success_answer(TASK))
    fake = FakeClock()

    skipped = agent_task.wait_for_result(str(path), 0, TASK, 1, clock=fake.clock, sleep=fake.sleep,
                                         chunk_size=4096, max_line=10000)
    kept = agent_task.wait_for_result(str(path), 0, TASK, 1, clock=fake.clock, sleep=fake.sleep,
                                      chunk_size=4096, max_line=100000)

    assert skipped['is_error'] is False and skipped['answered_by'] == [HAIKU]
    assert kept['is_error'] is True


def test_wait_on_an_unreadable_output_fails_naming_it(tmp_path):
    path = tmp_path / 'output.jsonl'
    path.mkdir()

    with pytest.raises(agent_task.TaskError) as caught:
        agent_task.wait_for_result(str(path), 0, TASK, 1)

    assert str(path) in str(caught.value)


# --- submit ------------------------------------------------------------------------------------------------

class Reader(object):
    """The agent's end of a real FIFO: opened read-write like systemd's ListenFIFO, read by a thread."""

    def __init__(self, path, read=True):
        os.mkfifo(str(path))
        self.fd = os.open(str(path), os.O_RDWR | os.O_NONBLOCK)
        self.data = b''
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True
        if read:
            self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            if select.select([self.fd], [], [], 0.02)[0]:
                try:
                    self.data += os.read(self.fd, 65536)
                except BlockingIOError:
                    pass

    def lines(self, count, timeout=5.0):
        for dummy in range(int(timeout / 0.02)):
            if self.data.count(b'\n') >= count:
                break
            time.sleep(0.02)
        return self.data.split(b'\n')[:-1]

    def close(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        os.close(self.fd)


@pytest.fixture
def reader(tmp_path):
    fifo = Reader(tmp_path / 'tasks')
    yield fifo
    fifo.close()


def test_submit_writes_the_line_into_the_fifo(tmp_path, reader):
    line = agent_task.task_line('Reply with OK.', TASK)

    agent_task.submit(str(tmp_path / 'tasks'), line, lock_path=str(tmp_path / 'tasks.lock'))

    assert reader.lines(1) == [line[:-1].encode('ascii')]
    assert (tmp_path / 'tasks.lock').exists()


def test_concurrent_submitters_never_interleave(tmp_path, reader):
    # Each line is far above PIPE_BUF, so the kernel alone would not keep it whole.
    lines = [agent_task.task_line(str(index) * 20000, '%08d-1111-4111-8111-111111111111' % index) for index in range(8)]
    errors = []

    def send(line):
        try:
            agent_task.submit(str(tmp_path / 'tasks'), line, lock_path=str(tmp_path / 'tasks.lock'))
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    received = reader.lines(8)
    assert sorted(received) == sorted(line[:-1].encode('ascii') for line in lines)


def test_submit_without_a_reader_names_the_socket_unit(tmp_path):
    fifo = tmp_path / 'tasks'
    os.mkfifo(str(fifo))

    with pytest.raises(agent_task.TaskError) as caught:
        agent_task.submit(str(fifo), agent_task.task_line('x', TASK), lock_path=str(tmp_path / 'tasks.lock'))

    assert str(caught.value) == ('nobody reads the agent inbox %s: the socket unit jada-agent.socket is not running '
                                 '(it keeps the FIFO open for the agent)' % fifo)


def test_submit_to_a_missing_inbox(tmp_path):
    with pytest.raises(agent_task.TaskError) as caught:
        agent_task.submit(str(tmp_path / 'tasks'), agent_task.task_line('x', TASK), lock_path=str(tmp_path / 'lock'),
                          socket_unit='other.socket')

    assert str(caught.value) == ('the agent inbox %s does not exist: the socket unit other.socket is not running '
                                 '(it creates the FIFO)' % (tmp_path / 'tasks'))


def test_submit_never_writes_into_a_regular_file(tmp_path):
    inbox = tmp_path / 'tasks'
    inbox.write_text('')

    with pytest.raises(agent_task.TaskError) as caught:
        agent_task.submit(str(inbox), agent_task.task_line('x', TASK), lock_path=str(tmp_path / 'lock'))

    assert 'is not a FIFO' in str(caught.value)
    assert inbox.read_text() == ''


def test_submit_without_lock_refuses_a_line_above_pipe_buf(tmp_path, reader):
    line = agent_task.task_line('x' * agent_task.PIPE_BUF, TASK)

    with pytest.raises(agent_task.TaskError) as caught:
        agent_task.submit(str(tmp_path / 'tasks'), line, lock_path=None)

    assert 'more than PIPE_BUF (%d)' % agent_task.PIPE_BUF in str(caught.value)
    assert reader.data == b''


def test_submit_without_lock_writes_a_short_line(tmp_path, reader):
    line = agent_task.task_line('x', TASK)

    agent_task.submit(str(tmp_path / 'tasks'), line, lock_path=None)

    assert reader.lines(1) == [line[:-1].encode('ascii')]


def test_submit_waits_for_the_lock_and_gives_up(tmp_path, reader):
    lock = str(tmp_path / 'tasks.lock')
    holder = os.open(lock, os.O_RDONLY | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    fake = FakeClock()
    try:
        with pytest.raises(agent_task.TaskError) as caught:
            agent_task.submit(str(tmp_path / 'tasks'), agent_task.task_line('x', TASK), lock_path=lock, timeout=1,
                              clock=fake.clock, sleep=fake.sleep)
    finally:
        os.close(holder)

    assert str(caught.value) == 'another submitter has held the submit lock %s for too long' % lock
    assert reader.data == b''
    assert set(fake.sleeps) == {0.05}
    assert 1001 <= fake.now < 1001.1


def test_submit_to_a_full_inbox_gives_up_without_writing_a_part(tmp_path):
    unread = Reader(tmp_path / 'tasks', read=False)
    try:
        capacity = fcntl.fcntl(unread.fd, agent_task.F_GETPIPE_SZ)
        os.write(unread.fd, b'x' * (capacity - 100))
        fake = FakeClock()
        with pytest.raises(agent_task.TaskError) as caught:
            agent_task.submit(str(tmp_path / 'tasks'), agent_task.task_line('y' * 200, TASK),
                              lock_path=str(tmp_path / 'lock'), timeout=2, clock=fake.clock, sleep=fake.sleep)
        backlog = agent_task.pipe_backlog(unread.fd)
    finally:
        unread.close()

    assert str(caught.value) == ('the agent inbox %s is full (%d bytes unread): the agent does not read its tasks'
                                 % (tmp_path / 'tasks', capacity - 100))
    assert backlog == capacity - 100


def test_submit_refuses_a_line_the_pipe_cannot_hold(tmp_path, reader):
    capacity = fcntl.fcntl(reader.fd, agent_task.F_GETPIPE_SZ)

    with pytest.raises(agent_task.TaskError) as caught:
        agent_task.submit(str(tmp_path / 'tasks'), agent_task.task_line('x' * capacity, TASK),
                          lock_path=str(tmp_path / 'lock'))

    assert 'more than the agent inbox %s can hold (%d)' % (tmp_path / 'tasks', capacity) in str(caught.value)


@pytest.mark.parametrize('line', ['{"type": "user"}', '{"a": 1}\n{"b": 2}\n'])
def test_submit_takes_exactly_one_line(tmp_path, line):
    with pytest.raises(ValueError):
        agent_task.submit(str(tmp_path / 'tasks'), line, lock_path=None)


def test_inbox_backlog(tmp_path):
    assert agent_task.inbox_backlog(str(tmp_path / 'tasks')) is None
    unread = Reader(tmp_path / 'tasks', read=False)
    try:
        assert agent_task.inbox_backlog(str(tmp_path / 'tasks')) == 0
        os.write(unread.fd, b'{"type":"user"}\n')
        assert agent_task.inbox_backlog(str(tmp_path / 'tasks')) == 16
    finally:
        unread.close()


# --- run_task ----------------------------------------------------------------------------------------------

def test_run_task_against_a_fake_agent(tmp_path):
    output = tmp_path / 'output.jsonl'
    # Answers of earlier tasks in the file are not read again.
    write_lines(output, cli_lines('service-success.jsonl'))
    with FakeAgent(tmp_path / 'tasks', output, lambda task: success_answer(task['uuid'])) as agent:
        result = agent_task.run_task('Reply with OK.', inbox=str(tmp_path / 'tasks'), output=str(output),
                                     lock=str(tmp_path / 'tasks.lock'), timeout=10, poll=0.02)

    assert agent.tasks == [{'type': 'user', 'message': {'role': 'user', 'content': 'Reply with OK.'},
                            'uuid': result['task_uuid']}]
    assert result['timed_out'] is False
    assert result['answered_by'] == [HAIKU]
    assert result['duration_ms'] == 229
    assert result['inbox_backlog'] is None


def test_run_task_own_api_time_from_the_output_before_it(tmp_path):
    output = tmp_path / 'output.jsonl'
    write_lines(output, task_lines('service-success.jsonl', SUCCESS_TASK))

    def second(task):
        return as_task(task_lines('service-success.jsonl', SECOND_TASK), SECOND_TASK, task['uuid'])

    with FakeAgent(tmp_path / 'tasks', output, second):
        result = agent_task.run_task('x', inbox=str(tmp_path / 'tasks'), output=str(output),
                                     lock=str(tmp_path / 'tasks.lock'), timeout=10, poll=0.02)

    # The session's duration_api_ms went from 39 (the result before the task) to 51.
    assert result['duration_api_ms'] == 12
    assert result['duration_ms'] == 33


def test_run_task_that_times_out_reports_the_inbox_backlog(tmp_path):
    unread = Reader(tmp_path / 'tasks', read=False)
    try:
        result = agent_task.run_task('x', inbox=str(tmp_path / 'tasks'), output=str(tmp_path / 'output.jsonl'),
                                     lock=str(tmp_path / 'tasks.lock'), timeout=0.1, poll=0.02, task_uuid=TASK)
    finally:
        unread.close()

    assert result['timed_out'] is True
    assert result['task_uuid'] == TASK
    assert result['inbox_backlog'] == len(agent_task.task_line('x', TASK))


def test_report_keeps_only_what_a_module_returns():
    result = scanned('notfound-404.jsonl', SAMPLE_TASK, task_uuid=SAMPLE_TASK, inbox_backlog=None)

    reported = agent_task.report(result, SONNET, 10)

    assert sorted(reported) == sorted(agent_task.REPORTED + ('problems',))
    assert reported['api_error_status'] == 404
    assert reported['problems'] == agent_task.verdict(result, SONNET, 10)
