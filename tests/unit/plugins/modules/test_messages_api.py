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
