# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Messages API stand-in answers as the real API does, is scriptable per model, and logs no prompt text."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.jada.agent.tests.messages_api import server

PROMPT = 'the secret prompt text 7f3a'


def post(url, body, path='/v1/messages?beta=true'):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method='POST',
                                     headers={'Content-Type': 'application/json', 'x-api-key': 'sk-ant-test'})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def body(model, stream=True):
    return {'model': model, 'max_tokens': 100, 'stream': stream,
            'messages': [{'role': 'user', 'content': PROMPT}]}


def sse_events(text):
    events = []
    for chunk in text.strip().split('\n\n'):
        lines = dict(line.split(': ', 1) for line in chunk.splitlines())
        events.append((lines['event'], json.loads(lines['data'])))
    return events


def test_a_streamed_answer_has_the_api_events_in_order_and_the_usage():
    usage = {'input_tokens': 100, 'output_tokens': 7, 'cache_creation_input_tokens': 3, 'cache_read_input_tokens': 50}
    with server.MessagesAPI({'usage': usage, 'text': 'hello'}) as api:
        status, headers, text = post(api.url, body('claude-sonnet-4-6'))
    assert status == 200 and headers['Content-Type'] == 'text/event-stream'
    events = sse_events(text)
    names = [name for name, data in events]
    assert names == ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop',
                     'message_delta', 'message_stop']
    assert all(data['type'] == name for name, data in events)
    start = events[0][1]['message']
    assert start['model'] == 'claude-sonnet-4-6' and start['usage']['input_tokens'] == 100
    assert start['usage']['cache_read_input_tokens'] == 50
    assert events[3][1]['delta'] == {'type': 'text_delta', 'text': 'hello'}
    assert events[5][1]['usage'] == {'output_tokens': 7}


def test_an_answer_without_stream_is_one_message():
    with server.MessagesAPI() as api:
        status, dummy, text = post(api.url, body('claude-haiku-4-5', stream=False))
    message = json.loads(text)
    assert status == 200 and message['type'] == 'message' and message['model'] == 'claude-haiku-4-5'
    assert message['content'] == [{'type': 'text', 'text': 'OK'}]
    assert message['usage'] == server.DEFAULT_USAGE


@pytest.mark.parametrize('error_type, status', [
    ('not_found_error', 404),
    ('overloaded_error', 529),
    ('rate_limit_error', 429),
    ('authentication_error', 401),
])
def test_a_scripted_error_has_the_api_shape_and_status(error_type, status):
    with server.MessagesAPI({'models': {'claude-sonnet-4-6': {'error': error_type}}}) as api:
        code, headers, text = post(api.url, body('claude-sonnet-4-6'))
        other, dummy, dummy2 = post(api.url, body('claude-haiku-4-5'))
        log = api.requests()
    answer = json.loads(text)
    assert code == status and other == 200
    assert answer['type'] == 'error' and answer['error']['type'] == error_type
    assert headers['request-id'].startswith('req_')
    assert [(entry['model'], entry['status'], entry['error']) for entry in log] == [
        ('claude-sonnet-4-6', status, error_type), ('claude-haiku-4-5', 200, None)]


@pytest.mark.parametrize('scenario, model, expected', [
    ({}, 'm', {'text': 'OK', 'error': None, 'delay_seconds': 0}),
    ({'text': 'top'}, 'm', {'text': 'top', 'error': None, 'delay_seconds': 0}),
    ({'text': 'top', 'models': {'m': {'text': 'own'}}}, 'm', {'text': 'own', 'error': None, 'delay_seconds': 0}),
    ({'models': {'*': {'error': 'api_error'}, 'm': {}}}, 'm', {'text': 'OK', 'error': None, 'delay_seconds': 0}),
    ({'models': {'*': {'error': 'api_error'}}}, 'other', {'text': 'OK', 'error': 'api_error', 'delay_seconds': 0}),
    ({'error': 'overloaded_error', 'models': {'m': {'error': None}}}, 'm',
     {'text': 'OK', 'error': None, 'delay_seconds': 0}),
    ({'delay_seconds': 2}, 'm', {'text': 'OK', 'error': None, 'delay_seconds': 2}),
])
def test_answer_plan_takes_the_model_entry_over_the_top_level(scenario, model, expected):
    plan = server.answer_plan(scenario, model)
    assert dict((key, plan[key]) for key in expected) == expected


def test_answer_plan_merges_usage_over_the_defaults():
    plan = server.answer_plan({'models': {'m': {'usage': {'output_tokens': 99}}}}, 'm')
    assert plan['usage'] == dict(server.DEFAULT_USAGE, output_tokens=99)


def test_answer_plan_refuses_an_unknown_error_type():
    with pytest.raises(ValueError, match='unknown API error type'):
        server.answer_plan({'error': 'teapot_error'}, 'm')


def test_the_scenario_file_is_read_again_when_it_changes(tmp_path):
    scenario = tmp_path / 'scenario.json'
    scenario.write_text('{}')
    with server.MessagesAPI(scenario_path=str(scenario)) as api:
        first = post(api.url, body('claude-sonnet-4-6'))[0]
        scenario.write_text(json.dumps({'models': {'claude-sonnet-4-6': {'error': 'not_found_error'}}}))
        # A new mtime is not guaranteed within the same clock tick; the size changed, which is enough.
        second = post(api.url, body('claude-sonnet-4-6'))[0]
        scenario.write_text('{ not json')
        third = post(api.url, body('claude-sonnet-4-6'))[0]
        scenario.unlink()
        fourth = post(api.url, body('claude-sonnet-4-6'))[0]
    assert (first, second, third, fourth) == (200, 404, 404, 200)


def test_the_request_log_holds_models_and_never_the_prompt(tmp_path):
    log = tmp_path / 'requests.jsonl'
    with server.MessagesAPI(log_path=str(log)) as api:
        post(api.url, body('claude-sonnet-4-6'))
        post(api.url, body('claude-haiku-4-5', stream=False))
    text = log.read_text()
    assert PROMPT not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert [entry['model'] for entry in entries] == ['claude-sonnet-4-6', 'claude-haiku-4-5']
    assert all(entry['body_bytes'] == len(json.dumps(body(entry['model'], entry['stream'])).encode())
               for entry in entries)


def test_a_delay_is_applied_before_the_answer():
    with server.MessagesAPI({'delay_seconds': 0.3}) as api:
        started = time.monotonic()
        post(api.url, body('claude-sonnet-4-6'))
        elapsed = time.monotonic() - started
    assert elapsed >= 0.3


def test_hello_and_unknown_paths():
    with server.MessagesAPI() as api:
        with urllib.request.urlopen(api.url + '/api/hello', timeout=5) as response:
            assert response.status == 200
        status, dummy, text = post(api.url, body('m'), path='/v1/complete')
        missing_model = post(api.url, {'messages': []})[0]
    assert status == 404 and json.loads(text)['type'] == 'error'
    assert missing_model == 400


def test_the_command_line_writes_its_port_file(tmp_path):
    port_file = tmp_path / 'port'
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child serves until killed
        try:
            server.main(['--port', '0', '--port-file', str(port_file)])
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        status = post('http://127.0.0.1:%d' % port, body('claude-sonnet-4-6'))[0]
    finally:
        os.kill(pid, 15)
        os.waitpid(pid, 0)
    assert status == 200


BASH_CALL = {'name': 'Bash', 'input': {'command': 'echo hi', 'description': 'Print hi'}}
TOOL_RESULT = [{'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': 'hi'},
               {'type': 'text', 'text': PROMPT}]


def conversation(model, last_user, tools=None, stream=True):
    """A request whose last user message has the content last_user; tools as the CLI offers them (names only)."""
    request = {'model': model, 'max_tokens': 100, 'stream': stream,
               'messages': [{'role': 'user', 'content': PROMPT},
                            {'role': 'assistant', 'content': [{'type': 'text', 'text': 'earlier'}]},
                            {'role': 'user', 'content': last_user}]}
    if tools is not None:
        request['tools'] = [{'name': name, 'input_schema': {'type': 'object'}} for name in tools]
    return request


def streamed_message(events):
    """The answer a client assembles from the events: content blocks (tool inputs parsed), stop reason, usage."""
    blocks, usage, stop_reason = [], None, None
    for name, data in events:
        if name == 'message_start':
            usage = dict(data['message']['usage'])
        elif name == 'content_block_start':
            blocks.append(dict(data['content_block'], partial=''))
        elif name == 'content_block_delta' and data['delta']['type'] == 'text_delta':
            blocks[data['index']]['text'] += data['delta']['text']
        elif name == 'content_block_delta':
            blocks[data['index']]['partial'] += data['delta']['partial_json']
        elif name == 'message_delta':
            usage.update(data['usage'])
            stop_reason = data['delta']['stop_reason']
    for block in blocks:
        partial = block.pop('partial')
        if block['type'] == 'tool_use':
            block['input'] = json.loads(partial)
    return blocks, stop_reason, usage


@pytest.mark.parametrize('last_user, tools, model, expected_types, stop_reason', [
    ('run it', None, 'claude-sonnet-4-6', ['text', 'tool_use'], 'tool_use'),
    ([{'type': 'text', 'text': 'run it'}], ['Read', 'Bash'], 'claude-sonnet-4-6', ['text', 'tool_use'], 'tool_use'),
    (TOOL_RESULT, ['Bash'], 'claude-sonnet-4-6', ['text'], 'end_turn'),
    # A subagent that is not offered the tool answers in text rather than calling it.
    ('run it', ['Read'], 'claude-sonnet-4-6', ['text'], 'end_turn'),
    # The call is scripted for sonnet only.
    ('run it', ['Bash'], 'claude-haiku-4-5', ['text'], 'end_turn'),
])
@pytest.mark.parametrize('stream', [True, False])
def test_a_scripted_tool_call_until_the_tool_result_comes_back(last_user, tools, model, expected_types, stop_reason,
                                                               stream):
    scenario = {'text': 'done', 'models': {'claude-sonnet-4-6': {'tool_use': dict(BASH_CALL, text='calling')}}}
    with server.MessagesAPI(scenario) as api:
        status, dummy, text = post(api.url, conversation(model, last_user, tools, stream))
        log = api.requests()
    assert status == 200
    if stream:
        blocks, stop, dummy = streamed_message(sse_events(text))
    else:
        answer = json.loads(text)
        blocks, stop = answer['content'], answer['stop_reason']
    assert [block['type'] for block in blocks] == expected_types and stop == stop_reason
    if stop_reason == 'tool_use':
        assert blocks[0] == {'type': 'text', 'text': 'calling'}
        assert blocks[1]['id'].startswith('toolu_') and blocks[1]['id'] != log[0]['id']
        assert (blocks[1]['name'], blocks[1]['input']) == ('Bash', BASH_CALL['input'])
    else:
        assert blocks == [{'type': 'text', 'text': 'done'}]
    assert (log[0]['stop_reason'], log[0]['tool_use']) == (stop_reason, 'Bash' if stop_reason == 'tool_use' else None)
    assert log[0]['tool_result'] == (last_user is TOOL_RESULT)


def test_a_streamed_tool_call_has_the_api_events():
    with server.MessagesAPI({'tool_use': BASH_CALL, 'text': 'one'}) as api:
        text = post(api.url, conversation('claude-sonnet-4-6', 'run it'))[2]
        again = post(api.url, conversation('claude-sonnet-4-6', 'run it'))[2]
    events = sse_events(text)
    assert [name for name, data in events] == [
        'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop',
        'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta',
        'content_block_stop', 'message_delta', 'message_stop']
    start = events[5][1]
    assert start['index'] == 1 and start['content_block']['input'] == {}
    assert start['content_block']['type'] == 'tool_use' and start['content_block']['id'].startswith('toolu_')
    assert all(data['delta']['type'] == 'input_json_delta' for name, data in events[6:9])
    assert events[10][1]['delta']['stop_reason'] == 'tool_use'
    # Every answer calls with a fresh id.
    assert sse_events(again)[5][1]['content_block']['id'] != start['content_block']['id']


@pytest.mark.parametrize('scenario, models, statuses', [
    ({'fail_first': {'error': 'overloaded_error', 'count': 2}}, ['s', 's', 's'], [529, 529, 200]),
    # Counted per model.
    ({'fail_first': {'error': 'overloaded_error', 'count': 1}}, ['s', 'h', 's', 'h'], [529, 529, 200, 200]),
    ({'models': {'s': {'fail_first': {'error': 'overloaded_error', 'count': 1}}}}, ['h', 's', 's'], [200, 529, 200]),
    ({'fail_first': {'error': 'rate_limit_error', 'count': 1}}, ['s', 's'], [429, 200]),
    ({'fail_first': {'error': 'overloaded_error', 'count': 0}}, ['s'], [200]),
    # A model's own fail_first wins; null switches it off.
    ({'fail_first': {'error': 'overloaded_error', 'count': 1}, 'models': {'h': {'fail_first': None}}}, ['h', 's'],
     [200, 529]),
    # An error for every request stays one.
    ({'error': 'api_error', 'fail_first': {'error': 'overloaded_error', 'count': 1}}, ['s', 's'], [500, 500]),
])
def test_fail_first_answers_the_first_requests_of_each_model_with_an_error(scenario, models, statuses):
    with server.MessagesAPI(scenario) as api:
        answers = [post(api.url, body(model)) for model in models]
        log = api.requests()
    assert [status for status, dummy, dummy2 in answers] == statuses
    assert [entry['status'] for entry in log] == statuses
    for status, dummy, text in answers:
        if status != 200:
            assert json.loads(text)['type'] == 'error'
        else:
            assert sse_events(text)[0][0] == 'message_start'


def test_fail_first_counts_again_once_the_scenario_is_set_or_its_file_changes(tmp_path):
    scenario = {'fail_first': {'error': 'overloaded_error', 'count': 1}}
    with server.MessagesAPI(scenario) as api:
        first = [post(api.url, body('s'))[0] for dummy in range(2)]
        api.set_scenario(dict(scenario))
        second = [post(api.url, body('s'))[0] for dummy in range(2)]
    path = tmp_path / 'scenario.json'
    path.write_text(json.dumps(scenario))
    with server.MessagesAPI(scenario_path=str(path)) as api:
        third = [post(api.url, body('s'))[0] for dummy in range(2)]
        path.write_text(json.dumps(dict(scenario, text='changed')))
        fourth = [post(api.url, body('s'))[0] for dummy in range(2)]
    assert first == second == third == fourth == [529, 200]


@pytest.mark.parametrize('usage, start_usage', [
    ({'input_tokens': 100, 'output_tokens': 7, 'cache_creation_input_tokens': 30, 'cache_read_input_tokens': 50},
     {'input_tokens': 100, 'output_tokens': 1, 'cache_creation_input_tokens': 30, 'cache_read_input_tokens': 50,
      'cache_creation': {'ephemeral_5m_input_tokens': 30, 'ephemeral_1h_input_tokens': 0}}),
    ({'output_tokens': 7, 'cache_creation_input_tokens': 30,
      'cache_creation': {'ephemeral_5m_input_tokens': 20, 'ephemeral_1h_input_tokens': 10}},
     {'input_tokens': 12, 'output_tokens': 1, 'cache_creation_input_tokens': 30, 'cache_read_input_tokens': 0,
      'cache_creation': {'ephemeral_5m_input_tokens': 20, 'ephemeral_1h_input_tokens': 10}}),
    # An API without the split.
    ({'output_tokens': 7, 'cache_creation_input_tokens': 30, 'cache_creation': None},
     {'input_tokens': 12, 'output_tokens': 1, 'cache_creation_input_tokens': 30, 'cache_read_input_tokens': 0}),
    ({'output_tokens': 0}, dict(server.DEFAULT_USAGE, output_tokens=0)),
])
def test_the_stream_counts_input_at_the_start_and_output_at_the_end(usage, start_usage):
    with server.MessagesAPI({'usage': usage}) as api:
        events = sse_events(post(api.url, body('claude-sonnet-4-6'))[2])
        whole = json.loads(post(api.url, body('claude-sonnet-4-6', stream=False))[2])
    assert events[0][1]['message']['usage'] == start_usage
    delta = [data for name, data in events if name == 'message_delta'][0]
    assert delta['usage'] == {'output_tokens': usage['output_tokens']}
    assert whole['usage'] == dict(start_usage, output_tokens=usage['output_tokens'])
    assert streamed_message(events)[2] == whole['usage']


def test_each_model_is_answered_with_its_own_usage_also_over_a_tool_round_trip():
    sonnet = {'input_tokens': 1000, 'output_tokens': 200, 'cache_creation_input_tokens': 3000,
              'cache_read_input_tokens': 20000}
    haiku = {'input_tokens': 50, 'output_tokens': 30, 'cache_creation_input_tokens': 400,
             'cache_read_input_tokens': 5000}
    scenario = {'tool_use': BASH_CALL, 'models': {'claude-sonnet-4-6': {'usage': sonnet},
                                                  'claude-haiku-4-5': {'usage': haiku}}}
    with server.MessagesAPI(scenario) as api:
        answers = [streamed_message(sse_events(post(api.url, conversation(model, content))[2]))
                   for model in ('claude-sonnet-4-6', 'claude-haiku-4-5') for content in ('run it', TOOL_RESULT)]
        log = api.requests()
    assert [stop for dummy, stop, dummy2 in answers] == ['tool_use', 'end_turn'] * 2
    expected = [server.answer_usage(sonnet)] * 2 + [server.answer_usage(haiku)] * 2
    assert [usage for dummy, dummy2, usage in answers] == expected
    assert [entry['usage'] for entry in log] == expected


@pytest.mark.parametrize('scenario, message', [
    ({'fail_first': {'error': 'teapot_error', 'count': 1}}, 'unknown API error type'),
    ({'fail_first': {'error': 'overloaded_error', 'count': -1}}, 'count of 0 or more'),
    ({'fail_first': {'error': 'overloaded_error', 'count': '2'}}, 'count of 0 or more'),
    ({'models': {'m': {'tool_use': {'name': 'Bash'}}}}, 'tool_use needs'),
    ({'tool_use': {'input': {}}}, 'tool_use needs'),
])
def test_answer_plan_refuses_a_broken_fail_first_or_tool_use(scenario, message):
    with pytest.raises(ValueError, match=message):
        server.answer_plan(scenario, 'm')


def test_a_broken_scenario_is_answered_with_an_api_error():
    with server.MessagesAPI({'tool_use': {'name': 'Bash'}}) as api:
        status, dummy, text = post(api.url, body('claude-sonnet-4-6'))
    assert status == 500 and json.loads(text)['error']['type'] == 'api_error'
