# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The usage before and after a rollout: the history, the windows, tasks and the derived figures.

The transcripts are written as in test_agent_usage.py (its helpers); every expected figure is worked out by hand.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.jada.agent.plugins.module_utils.agent_usage import (
    collect_usage,
    comparison_windows,
    derived_figures,
    is_prompt,
    last_complete_rollout,
    parse_bound,
    read_history,
)
from ansible_collections.jada.agent.tests.unit.plugins.module_utils.test_agent_usage import (
    HAIKU_DATED,
    SONNET,
    assistant,
    at,
    prompt,
    tool_result,
    usage,
    write,
    write_session,
)

DAY = 86400000
NOW = parse_bound('2026-11-30T12:00:00Z')


def history(time, result='complete', rollout_id='r1'):
    return json.dumps({'time': time, 'rollout_id': rollout_id, 'result': result, 'from_model': 'a',
                       'to_model': 'b', 'from_cli_version': None, 'to_cli_version': None}, sort_keys=True)


# --- the history ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('lines, rollout_id, bad', [
    ([], None, 0),
    ([''], None, 0),
    ([history('2026-11-20T08:00:00Z', rollout_id='r1'), history('2026-11-25T08:00:00Z', rollout_id='r2'), ''],
     'r2', 0),
    # A later rollout that was rolled back left the host as the earlier one did.
    ([history('2026-11-20T08:00:00Z', rollout_id='r1'),
      history('2026-11-25T08:00:00Z', 'rolled-back', rollout_id='r2')], 'r1', 0),
    ([history('2026-11-25T08:00:00Z', 'rolled-back')], None, 0),
    # A torn last line (a write cut short) and lines that are no history line are skipped and counted.
    ([history('2026-11-20T08:00:00Z', rollout_id='r1'), history('2026-11-25T08:00:00Z', rollout_id='r2')[:30]],
     'r1', 1),
    (['not json', '[1, 2]', '{"result": "complete"}', json.dumps({'time': 'yesterday', 'result': 'complete'}),
      history('2026-11-20T08:00:00Z', rollout_id='r1')], 'r1', 4),
], ids=['empty', 'blank', 'last-complete', 'rolled-back-after', 'only-rolled-back', 'torn-last-line', 'bad-lines'])
def test_last_complete_rollout(lines, rollout_id, bad):
    entry, found_bad = last_complete_rollout(lines)
    assert (entry or {}).get('rollout_id') == rollout_id and found_bad == bad


def test_read_history(tmp_path):
    assert read_history(str(tmp_path / 'missing.jsonl')) == (None, [])
    path = tmp_path / 'rollouts.jsonl'
    path.write_text(history('2026-11-20T08:00:00Z') + '\n{"time": "2026-11-2', encoding='utf-8')
    entry, warnings = read_history(str(path))
    assert entry['rollout_id'] == 'r1'
    assert warnings == ['1 line(s) of the rollout history %s cannot be read and were skipped' % path]
    # A directory where the file should be is worth a warning, not a failure.
    entry, warnings = read_history(str(tmp_path))
    assert entry is None and len(warnings) == 1


# --- the windows ------------------------------------------------------------------------------------------

S = 1000  # the history keeps whole seconds: a rollout ended within the second after its time


@pytest.mark.parametrize('rollout, window_days, expected', [
    (None, 7, None),
    ({'time': 'garbage'}, 7, None),
    # Two days ago: the after window is still open, it ends now.
    ({'time': '2026-11-28T12:00:00Z'}, 7, {'before': (NOW - 9 * DAY, NOW - 2 * DAY),
                                           'after': (NOW - 2 * DAY + S, NOW)}),
    # Long ago: both windows are whole.
    ({'time': '2026-10-01T12:00:00Z'}, 7, {'before': (NOW - 67 * DAY, NOW - 60 * DAY),
                                           'after': (NOW - 60 * DAY + S, NOW - 53 * DAY + S)}),
    ({'time': '2026-11-30T11:00:00Z'}, 1, {'before': (NOW - 25 * 3600000, NOW - 3600000),
                                           'after': (NOW - 3600000 + S, NOW)}),
    # After this host's now (its clock behind the controller's): the after window has not begun.
    ({'time': '2026-11-30T13:00:00Z'}, 7, {'before': (NOW + 3600000 - 7 * DAY, NOW + 3600000),
                                           'after': (NOW + 3600000 + S, NOW + 3600000 + S)}),
    # The rollout took five minutes, its verification on the new model among them: in neither window.
    ({'started': '2026-11-30T10:55:00Z', 'time': '2026-11-30T11:00:00Z'}, 1,
     {'before': (NOW - 25 * 3600000 - 300 * S, NOW - 3600000 - 300 * S), 'after': (NOW - 3600000 + S, NOW)}),
    # A start that cannot be one (unreadable, or after the end) is the end's.
    ({'started': 'soon', 'time': '2026-11-30T11:00:00Z'}, 1, {'before': (NOW - 25 * 3600000, NOW - 3600000),
                                                              'after': (NOW - 3600000 + S, NOW)}),
    ({'started': '2026-11-30T11:00:05Z', 'time': '2026-11-30T11:00:00Z'}, 1,
     {'before': (NOW - 25 * 3600000, NOW - 3600000), 'after': (NOW - 3600000 + S, NOW)}),
], ids=['no-rollout', 'bad-time', 'recent', 'long-ago', 'one-day', 'in-the-future', 'started', 'bad-start',
        'start-after-end'])
def test_comparison_windows(rollout, window_days, expected):
    assert comparison_windows(rollout, NOW, window_days) == expected


# --- derived figures --------------------------------------------------------------------------------------

def figures(requests=0, tokens=(0, 0, 0, 0), api_errors=0, cost_usd=0.0):
    return dict(zip(('input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'),
                    tokens), requests=requests, api_errors=api_errors, cost_usd=cost_usd)


@pytest.mark.parametrize('model, tasks, days, expected', [
    (figures(), 0, 7.0, {'tokens_per_task': None, 'cost_per_day': 0.0, 'error_rate': None}),
    # (10 + 20 + 30 + 40) / 4 tasks; 1.4 USD over 7 days; 1 error in 3 + 1 calls.
    (figures(3, (10, 20, 30, 40), 1, 1.4), 4, 7.0,
     {'tokens_per_task': 25.0, 'cost_per_day': 0.2, 'error_rate': 0.25}),
    # Answers without a task (a subagent's only): no tokens per task.
    (figures(2, (10, 20, 30, 40)), 0, 7.0, {'tokens_per_task': None, 'cost_per_day': 0.0, 'error_rate': 0.0}),
    # A window open for half a day: its cost per day is twice its cost.
    (figures(1, (1, 1, 1, 0), 0, 0.3), 1, 0.5, {'tokens_per_task': 3.0, 'cost_per_day': 0.6, 'error_rate': 0.0}),
    # Only failures; and an unpriced model.
    (figures(0, api_errors=2, cost_usd=None), 0, 7.0, {'tokens_per_task': None, 'cost_per_day': None,
                                                       'error_rate': 1.0}),
    # An empty window (not begun): no cost per day.
    (figures(), 0, 0.0, {'tokens_per_task': None, 'cost_per_day': None, 'error_rate': None}),
], ids=['nothing', 'all', 'no-task', 'half-a-day', 'only-errors', 'empty-window'])
def test_derived_figures(model, tasks, days, expected):
    assert derived_figures(model, tasks, days) == expected


# --- tasks ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('line, expected', [
    ({'type': 'user', 'message': {'role': 'user', 'content': 'Do it'}}, True),
    ({'type': 'user', 'message': {'role': 'user', 'content': [{'type': 'text', 'text': 'Do it'}]}}, True),
    ({'type': 'user', 'message': {'role': 'user', 'content': [{'type': 'tool_result', 'content': 'x'}]}}, False),
    # The subagent's prompt is the parent's Task tool call, part of the parent's task.
    ({'type': 'user', 'isSidechain': True, 'message': {'role': 'user', 'content': 'Do it'}}, False),
    ({'type': 'user', 'isMeta': True, 'message': {'role': 'user', 'content': 'Caveat'}}, False),
    ({'type': 'user', 'isCompactSummary': True, 'message': {'role': 'user', 'content': 'Summary'}}, False),
    ({'type': 'user', 'message': {'role': 'user', 'content': []}}, False),
    ({'type': 'user'}, False),
], ids=['text', 'text-blocks', 'tool-result', 'sidechain', 'meta', 'compact-summary', 'no-blocks', 'no-message'])
def test_is_prompt(line, expected):
    assert is_prompt(line) is expected


def test_tasks_count_the_prompts_of_the_main_agent_under_their_first_answers_model(tmp_path):
    # One task on sonnet (the prompt, its tool call and its answer); the second prompt was answered by an error, the
    # subagent's prompt is the parent's task.
    write_session(tmp_path)
    write(tmp_path, 'other.jsonl', [
        prompt(at('11:00:00.000')),
        assistant('msg_02A', 'req_02A', HAIKU_DATED, usage(5, 5), at('11:00:01.000')),
        prompt(at('11:00:10.000')),
        assistant('msg_02B', 'req_02B', SONNET, usage(7, 7), at('11:00:11.000'), block='tool_use'),
        tool_result(at('11:00:12.000')),
        assistant('msg_02C', 'req_02C', HAIKU_DATED, usage(1, 1), at('11:00:13.000')),
    ])
    result, state = collect_usage([str(tmp_path)], compare=True, rollout={'time': '2026-11-30T10:30:00Z'},
                                  window_days=1, now=NOW)
    before, after = result['comparison']['before'], result['comparison']['after']
    assert (before['since'], before['until'], before['days']) == ('2026-11-29T10:30:00Z', '2026-11-30T10:30:00Z',
                                                                  1.0)
    assert (after['since'], after['until'], after['days']) == ('2026-11-30T10:30:01Z', '2026-11-30T12:00:00Z',
                                                               0.0625)
    assert before['models'][SONNET]['tasks'] == 1 and before['models'][HAIKU_DATED]['tasks'] == 0
    assert after['models'][SONNET]['tasks'] == 1 and after['models'][HAIKU_DATED]['tasks'] == 1
    # Before: the session's sonnet answers, 4 + 190 + 2500 + 22000 tokens for one task, 1 error in 2 + 1 calls.
    assert before['models'][SONNET]['requests'] == 2 and before['models'][SONNET]['tokens_per_task'] == 24694.0
    assert before['models'][SONNET]['error_rate'] == 0.3333
    assert before['models'][SONNET]['cost_usd'] == before['models'][SONNET]['cost_per_day'] == 0.019962
    assert (before['models'][SONNET]['p50_ms'], before['models'][SONNET]['p95_ms']) == (1000, 2000)
    # After: 1.5 hours, 1/16 of a day. haiku 5+5 and 1+1 tokens; (7*3 + 7*15) / 1e6 = 0.000126 USD for sonnet.
    assert after['models'][HAIKU_DATED]['requests'] == 2 and after['models'][HAIKU_DATED]['tokens_per_task'] == 12.0
    assert after['models'][SONNET]['cost_per_day'] == pytest.approx(0.000126 * 16, abs=1e-9)
    assert result['comparison']['rollout'] == {'time': '2026-11-30T10:30:00Z'}
    # The whole-range figures do not change with compare.
    assert 'tasks' not in result['models'][SONNET]
    # A second run from the state keeps the task marks.
    again, dummy = collect_usage([str(tmp_path)], state=json.loads(json.dumps(state)), compare=True,
                                 rollout={'time': '2026-11-30T10:30:00Z'}, window_days=1, now=NOW)
    assert again['bytes_read'] == 0 and again['comparison'] == result['comparison']


def test_without_a_rollout_there_is_nothing_to_compare(tmp_path):
    write_session(tmp_path)
    result, dummy = collect_usage([str(tmp_path)], compare=True, rollout=None, now=NOW)
    assert result['comparison'] == {'rollout': None}
    assert 'no completed rollout in the rollout history; nothing to compare' in result['warnings']
    plain, dummy = collect_usage([str(tmp_path)])
    assert 'comparison' not in plain


@pytest.mark.parametrize('window_days', [0, -1, True, 1.5])
def test_bad_window_days(tmp_path, window_days):
    with pytest.raises(ValueError, match='window_days'):
        collect_usage([str(tmp_path)], compare=True, window_days=window_days, now=NOW)
