# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Token usage from Claude Code transcripts, against files written as the CLI writes them.

Every expected figure below is summed by hand from the lines of its test (the sums are spelled out), never taken
from the code's output. The rules they check are ccusage 20.0.24's (``claude daily --json``), each of which was
probed against its binary (tests/usage/ccusage-20.0.24.md).
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.jada.agent.plugins.module_utils import agent_usage
from ansible_collections.jada.agent.plugins.module_utils.agent_usage import (
    ENTRY,
    ERROR,
    OTHER,
    USER,
    UsageError,
    collect_usage,
    model_price,
    parse_bound,
    parse_line,
    parse_timestamp,
    path_session,
    pricing_table,
)

CLI_OUTPUT = os.path.join(os.path.dirname(__file__), '..', 'modules', 'cli_output')

# In every prompt, answer, thought, tool input and tool result of the fixtures; no result may ever contain it.
SECRET = 'sk-ant-api03-USAGE-secret-Gr\u00fc\u00dfe-\U0001f642-never-print-me'
PROJECT = '-srv-jada-orchestrator'
SESSION = '5d7c9a4e-1b2f-4c3d-8e9f-0a1b2c3d4e5f'
SONNET = 'claude-sonnet-4-6'
HAIKU_DATED = 'claude-haiku-4-5-20251001'


def at(clock, day=30):
    """A transcript timestamp of 2026-11-<day> as the CLI writes it (toISOString): at('10:00:02.500')."""
    if '.' not in clock:
        clock += '.000'
    return '2026-11-%02dT%sZ' % (day, clock)


def usage(input_tokens, output_tokens, cache_5m=0, cache_1h=0, cache_read=0, split=True):
    """message.usage as the Messages API returns it and the CLI records it."""
    value = {'input_tokens': input_tokens, 'cache_creation_input_tokens': cache_5m + cache_1h,
             'cache_read_input_tokens': cache_read}
    if split:
        value['cache_creation'] = {'ephemeral_5m_input_tokens': cache_5m, 'ephemeral_1h_input_tokens': cache_1h}
    value.update(output_tokens=output_tokens, service_tier='standard')
    return value


def dump(document):
    # JSON.stringify: compact, non-ASCII as it is.
    return json.dumps(document, separators=(',', ':'), ensure_ascii=False)


def envelope(kind, when, session=SESSION, sidechain=False, **fields):
    document = {'parentUuid': '0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e', 'isSidechain': sidechain, 'userType': 'external',
                'cwd': '/srv/jada/orchestrator', 'sessionId': session, 'version': '2.1.328', 'gitBranch': 'main'}
    if sidechain:
        document['agentId'] = 'a1b2c3d4'
    document.update(fields)
    document.update(type=kind, uuid='6f1e2d3c-4b5a-4968-8776-655443322110', timestamp=when)
    return document


def assistant(message_id, request_id, model, tokens, when, block='text', **fields):
    """One line of an answer: one content block (text, thinking or tool_use), as the CLI writes each block."""
    content = {'text': {'type': 'text', 'text': 'The answer is ' + SECRET},
               'thinking': {'type': 'thinking', 'thinking': 'Thinking about ' + SECRET, 'signature': 'EqQBCkYIBxgC'},
               'tool_use': {'type': 'tool_use', 'id': 'toolu_01AbCdEf', 'name': 'Bash',
                            'input': {'command': 'echo ' + SECRET, 'description': 'print it'}}}[block]
    message = {'id': message_id, 'type': 'message', 'role': 'assistant', 'model': model, 'content': [content],
               'stop_reason': None, 'stop_sequence': None, 'usage': tokens}
    extra = {'message': message}
    if request_id is not None:
        extra['requestId'] = request_id
    extra.update(fields)
    return dump(envelope('assistant', when, **extra))


def prompt(when, **fields):
    return dump(envelope('user', when, message={'role': 'user', 'content': 'Please do ' + SECRET}, **fields))


def tool_result(when, **fields):
    message = {'role': 'user', 'content': [{'tool_use_id': 'toolu_01AbCdEf', 'type': 'tool_result',
                                            'content': SECRET, 'is_error': False}]}
    return dump(envelope('user', when, message=message, toolUseResult={'stdout': SECRET, 'stderr': '',
                                                                       'interrupted': False, 'isImage': False},
                         **fields))


def api_error(when, **fields):
    """The CLI's own message for a refused request (404 for the model), from the real CLI's output."""
    with open(os.path.join(CLI_OUTPUT, 'notfound-404.jsonl')) as handle:
        message = [json.loads(line) for line in handle if '"is_api_error_message":true' in line][0]['message']
    # In a transcript it has no requestId (the CLI sets it undefined) and says so in camelCase.
    return dump(envelope('assistant', when, message=message, isApiErrorMessage=True, error='model_not_found',
                         apiErrorStatus=404, **fields))


def progress(message_id, request_id, model, tokens, when, sidechain=True):
    """An agent-progress line: a subagent's answer echoed into the parent's transcript."""
    inner = {'type': 'assistant', 'timestamp': when, 'requestId': request_id, 'isSidechain': sidechain,
             'message': {'id': message_id, 'type': 'message', 'role': 'assistant', 'model': model,
                         'content': [{'type': 'text', 'text': SECRET}], 'usage': tokens}}
    return dump(envelope('progress', when, data={'type': 'agent_progress', 'agentId': 'a1b2c3d4', 'message': inner}))


def write(root, relative, lines, end='\n'):
    path = os.path.join(str(root), 'projects', PROJECT, relative)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as handle:
        handle.write(('\n'.join(lines) + end).encode('utf-8') if lines else b'')
    return path


def append(path, lines, end='\n'):
    with open(path, 'ab') as handle:
        handle.write(('\n'.join(lines) + end).encode('utf-8'))


def tokens_of(figures):
    """(requests, input, output, cache creation, cache read) of a model's figures."""
    return (figures['requests'], figures['input_tokens'], figures['output_tokens'],
            figures['cache_creation_input_tokens'], figures['cache_read_input_tokens'])


def run(root, **kwargs):
    result, state = collect_usage([str(root)], **kwargs)
    # The state must survive the trip through the state file.
    return result, json.loads(json.dumps(state))


def no_secret(*documents):
    for document in documents:
        text = json.dumps(document, ensure_ascii=False)
        assert SECRET not in text
        assert 'Gr\u00fc\u00dfe' not in text and 'The answer is' not in text and 'echo ' not in text


# --- one line -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('line, expected', [
    # The CLI's answer line: every figure, the 5m/1h split, no text.
    (assistant('msg_01A', 'req_01A', SONNET, usage(3, 150, cache_5m=2000, cache_1h=500, cache_read=10000),
               at('10:00:02.000')),
     dict(kind=ENTRY, model=SONNET, message_id='msg_01A', request_id='req_01A', session=SESSION, sidechain=False,
          input_tokens=3, output_tokens=150, cache_creation_5m=2000, cache_creation_1h=500,
          cache_read_input_tokens=10000, api_error=False, assistant=True)),
    # Without the split, cache_creation_input_tokens is all 5m.
    (assistant('msg_01A', 'req_01A', SONNET, usage(3, 150, cache_5m=700, split=False), at('10:00:02.000')),
     dict(kind=ENTRY, cache_creation_5m=700, cache_creation_1h=0)),
    # The split wins over cache_creation_input_tokens (ccusage counts 100 + 50, not 999).
    (assistant('msg_01A', 'req_01A', SONNET, dict(usage(1, 1, cache_5m=100, cache_1h=50),
                                                  cache_creation_input_tokens=999), at('10:00:02.000')),
     dict(kind=ENTRY, cache_creation_5m=100, cache_creation_1h=50)),
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), at('10:00:02.000'), sidechain=True),
     dict(kind=ENTRY, sidechain=True)),
    (assistant('msg_01A', None, SONNET, usage(1, 1), at('10:00:02.000')), dict(kind=ENTRY, request_id=None)),
    (assistant('msg_01A', 'req_01A', SONNET, dict(usage(1, 1), speed='fast'), at('10:00:02.000')),
     dict(kind=ENTRY, speed=True, fast=True)),
    # A subagent's answer echoed as agent progress: counted, but not an answer of this file's thread.
    (progress('msg_01B', 'req_01B', SONNET, usage(5, 6), at('10:00:03.000')),
     dict(kind=ENTRY, message_id='msg_01B', request_id='req_01B', sidechain=True, input_tokens=5, assistant=False)),
    # The CLI's API-error message carries "speed":null, which makes ccusage drop the line: an error, no entry.
    (api_error(at('10:01:00.000')), dict(kind=ERROR, model='<synthetic>', api_error=True, assistant=True)),
    ('{"type":"system","subtype":"api_error","level":"error","error":{"status":529},"retryInMs":574,'
     '"retryAttempt":1,"maxRetries":10,"timestamp":"2026-11-30T10:00:01.000Z","uuid":"u"}',
     dict(kind=ERROR, api_error=True, assistant=False)),
    (prompt(at('10:00:00.000')), dict(kind=USER, timestamp=parse_timestamp(at('10:00:00.000')))),
    (tool_result(at('10:00:04.000')), dict(kind=USER)),
    # Lines ccusage does not count, though they look like answers.
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), at('10:00:02.000')).replace('"usage":{', '"usage": {'),
     dict(kind=OTHER)),
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), at('10:00:02.000'), block='tool_use').replace(
        '"description":"print it"', '"id":null'), dict(kind=OTHER)),
    (assistant('msg_01A', 'req_01A', SONNET, dict(usage(1, 1), input_tokens=1.0), at('10:00:02.000')),
     dict(kind=OTHER)),
    (assistant('msg_01A', 'req_01A', SONNET, dict(usage(1, 1), output_tokens=-1), at('10:00:02.000')),
     dict(kind=OTHER)),
    # A timestamp ccusage cannot read: nothing to count, nor to time.
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), '2026-11-30T10:00:02.000123Z'), None),
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), at('10:00:02.000'), version='dev'), dict(kind=OTHER)),
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), at('10:00:02.000'), sessionId=''), dict(kind=OTHER)),
    (assistant('msg_01A', 'req_01A', SONNET, usage(1, 1), at('10:00:02.000'), isSidechain='yes'), dict(kind=OTHER)),
    # Not JSON, or nothing about usage.
    ('{"type":"assistant","message":{"usage":{', None),
    ('{"type":"summary","summary":"%s","leafUuid":"u"}' % SECRET, None),
], ids=['answer', 'no-split', 'split-wins', 'sidechain', 'no-request-id', 'fast', 'agent-progress', 'cli-api-error',
        'retried-api-error', 'prompt', 'tool-result', 'usage-with-space', 'refused-null', 'float-tokens',
        'negative-tokens', 'microseconds', 'bad-version', 'empty-session', 'bad-sidechain', 'not-json', 'summary'])
def test_parse_line(line, expected):
    parsed = parse_line(line.encode('utf-8'))
    if expected is None:
        assert parsed is None
        return
    assert dict((key, getattr(parsed, key)) for key in expected) == expected
    no_secret(list(parsed))


@pytest.mark.parametrize('text, millis', [
    # 2026-11-30 is day 20787 since the epoch (`date -u -d 2026-11-30 +%s` = 1795996800).
    ('2026-11-30T00:00:00.000Z', 1795996800000),
    ('2026-11-30T10:00:02.500Z', 1795996800000 + 36002500),
    ('2026-11-30T10:00:02Z', 1795996800000 + 36002000),
    # 11:00 at +01:00 and 09:00 at -01:00 are both 10:00 UTC.
    ('2026-11-30T11:00:02.500+01:00', 1795996800000 + 36002500),
    ('2026-11-30T09:00:02.500-01:00', 1795996800000 + 36002500),
    ('2026-12-31T23:59:59.999Z', 1795996800000 + 32 * 86400000 - 1),
    ('2026-11-30T10:00:02.5Z', None),
    ('2026-11-30T10:00:02.500123Z', None),
    ('2026-02-30T10:00:02.500Z', None),
    ('2026-11-30 10:00:02.500Z', None),
    (None, None),
])
def test_parse_timestamp(text, millis):
    assert parse_timestamp(text) == millis


def test_path_session():
    assert path_session('/home/jada/.claude/projects/p/S1.jsonl') == 'S1'
    assert path_session('/home/jada/.claude/projects/p/S1/subagents/agent-a1.jsonl') == 'S1'
    assert path_session('/home/jada/.claude/projects/p/S1/chat.jsonl') == 'S1'


# --- a session as the CLI writes it -----------------------------------------------------------------------

def write_session(root):
    """A session with a tool call, a subagent, an API error and a /btw replay, in two files."""
    main = write(root, SESSION + '.jsonl', [
        prompt(at('10:00:00.000')),
        # One answer over two lines: the thinking block's line still has the early output count.
        assistant('msg_01A', 'req_01A', SONNET, usage(3, 8, cache_5m=2000, cache_read=10000), at('10:00:02.000'),
                  block='thinking'),
        assistant('msg_01A', 'req_01A', SONNET, usage(3, 150, cache_5m=2000, cache_read=10000), at('10:00:02.500'),
                  block='tool_use'),
        tool_result(at('10:00:04.000')),
        assistant('msg_01B', 'req_01B', SONNET, usage(1, 40, cache_1h=500, cache_read=12000), at('10:00:05.000')),
        prompt(at('10:00:59.000')),
        api_error(at('10:01:00.000')),
    ])
    subagent = write(root, os.path.join(SESSION, 'subagents', 'agent-a1b2c3d4.jsonl'), [
        prompt(at('10:00:06.000'), sidechain=True),
        assistant('msg_01C', 'req_01C', HAIKU_DATED, usage(20, 60, cache_5m=300), at('10:00:07.000'), sidechain=True),
        # /btw replays the parent's answer with a new request id and its own cache reads: the parent's counts.
        assistant('msg_01B', 'req_01X', SONNET, usage(1, 40, cache_read=999999), at('10:00:08.000'), sidechain=True),
    ])
    return main, subagent


# requests, input, output, cache creation, cache read
SESSION_SONNET = (2, 3 + 1, 150 + 40, 2000 + 500, 10000 + 12000)
SESSION_HAIKU = (1, 20, 60, 300, 0)
# 4*3 + 190*15 + 2000*3.75 + 500*6 + 22000*0.30 = 12 + 2850 + 7500 + 3000 + 6600 = 19962 per million
SESSION_SONNET_COST = 0.019962
# 20*1 + 60*5 + 300*1.25 = 695 per million (the dated ID at claude-haiku-4-5's prices)
SESSION_HAIKU_COST = 0.000695


def test_a_session_with_a_subagent(tmp_path):
    write_session(tmp_path)
    result, state = run(tmp_path)

    assert sorted(result['models']) == sorted([SONNET, HAIKU_DATED])
    assert tokens_of(result['models'][SONNET]) == SESSION_SONNET
    assert tokens_of(result['models'][HAIKU_DATED]) == SESSION_HAIKU
    # The API error counts under the model the file last answered with.
    assert result['models'][SONNET]['api_errors'] == 1
    assert result['models'][HAIKU_DATED]['api_errors'] == 0
    assert result['models'][SONNET]['cost_usd'] == pytest.approx(SESSION_SONNET_COST, abs=1e-9)
    assert result['models'][HAIKU_DATED]['cost_usd'] == pytest.approx(SESSION_HAIKU_COST, abs=1e-9)
    assert result['totals'] == {
        'requests': 3, 'input_tokens': 24, 'output_tokens': 250, 'cache_creation_input_tokens': 2800,
        'cache_read_input_tokens': 22000, 'api_errors': 1, 'cost_usd': pytest.approx(0.020657, abs=1e-9)}
    assert list(result['by_agent']['main']) == [SONNET]
    assert tokens_of(result['by_agent']['main'][SONNET]) == SESSION_SONNET
    assert list(result['by_agent']['subagents']) == [HAIKU_DATED]
    assert tokens_of(result['by_agent']['subagents'][HAIKU_DATED]) == SESSION_HAIKU
    assert result['files'] == 2
    assert result['pricing_date'] == agent_usage.PRICING_DATE
    assert result['warnings'] == []
    assert 'days' not in result
    no_secret(result, state)


def test_latency(tmp_path):
    write_session(tmp_path)
    result, dummy = run(tmp_path)
    # msg_01A: 10:00:02.000 - 10:00:00.000 (the prompt); msg_01B: 10:00:05.000 - 10:00:04.000 (the tool result).
    # Nearest rank of [1000, 2000]: p50 is the 1st, p95 the 2nd.
    assert result['latency'][SONNET] == {'p50_ms': 1000, 'p95_ms': 2000, 'samples': 2}
    # The subagent's answer, 10:00:07 after its prompt at 10:00:06; the replay follows an answer, not a prompt.
    assert result['latency'][HAIKU_DATED] == {'p50_ms': 1000, 'p95_ms': 1000, 'samples': 1}


def test_latency_percentiles(tmp_path):
    lines = []
    # Five answers, each after a prompt: 1200, 400, 2500, 800 and 100 ms.
    for index, (start, delay) in enumerate([(0, 1200), (10000, 400), (20000, 2500), (30000, 800), (40000, 100)]):
        lines.append(prompt(at('10:00:%06.3f' % (start / 1000.0))))
        lines.append(assistant('msg_%d' % index, 'req_%d' % index, SONNET, usage(1, 1),
                               at('10:00:%06.3f' % ((start + delay) / 1000.0))))
    # An answer right after another one has no prompt before it: no sample.
    lines.append(assistant('msg_9', 'req_9', SONNET, usage(1, 1), at('10:00:50.000')))
    # Two tool results before an answer: the time counts from the later one (the request follows it), 300 ms.
    lines += [tool_result(at('10:01:00.000')), tool_result(at('10:01:02.000')),
              assistant('msg_10', 'req_10', SONNET, usage(1, 1), at('10:01:02.300'))]
    write(tmp_path, 's.jsonl', lines)
    result, dummy = run(tmp_path)
    # Sorted [100, 300, 400, 800, 1200, 2500]: p50 is rank ceil(3) = 3, p95 rank ceil(5.7) = 6.
    assert result['latency'][SONNET] == {'p50_ms': 400, 'p95_ms': 2500, 'samples': 6}
    assert result['models'][SONNET]['requests'] == 7


# --- de-duplication ---------------------------------------------------------------------------------------

A = at('10:00:02.000')
B = at('10:00:03.000')
SUB = os.path.join(SESSION, 'subagents', 'agent-a1b2c3d4.jsonl')


@pytest.mark.parametrize('files, expected', [
    # One answer over three lines (thinking, text, tool_use): counted once, with its largest line.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5, cache_read=100), A, block='thinking'),
                  assistant('m1', 'r1', SONNET, usage(10, 5, cache_read=100), A, block='text'),
                  assistant('m1', 'r1', SONNET, usage(10, 90, cache_read=100), B, block='tool_use')]},
     {SONNET: (1, 10, 90, 0, 100)}),
    # The largest line first: still the largest.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 90), A), assistant('m1', 'r1', SONNET, usage(10, 5), B)]},
     {SONNET: (1, 10, 90, 0, 0)}),
    # As many tokens on both lines: the dearer one (sonnet over haiku; 5 in + 10 out over 10 in + 5 out; fast mode,
    # which ccusage prices at 6 times Opus 4.6).
    ({'s.jsonl': [assistant('m1', 'r1', 'claude-haiku-4-5', usage(10, 5), A),
                  assistant('m1', 'r1', SONNET, usage(10, 5), B),
                  assistant('m2', 'r2', 'claude-haiku-4-5', usage(5, 10), A),
                  assistant('m2', 'r2', 'claude-haiku-4-5', usage(10, 5), B),
                  assistant('m3', 'r3', 'claude-opus-4-6', usage(7, 7), A),
                  assistant('m3', 'r3', 'claude-opus-4-6', dict(usage(7, 7), speed='fast'), B)]},
     {SONNET: (1, 10, 5, 0, 0), 'claude-haiku-4-5': (1, 5, 10, 0, 0), 'claude-opus-4-6-fast': (1, 7, 7, 0, 0)}),
    # Two answers: both.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5), A), assistant('m2', 'r2', SONNET, usage(20, 7), B)]},
     {SONNET: (2, 30, 12, 0, 0)}),
    # The same message id under two request ids, neither a sidechain: both.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5), A), assistant('m1', 'r2', SONNET, usage(20, 7), B)]},
     {SONNET: (2, 30, 12, 0, 0)}),
    # A copy in another session's file (a resumed session): once, whichever file.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5), A)],
      't.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5), A, sessionId='t')]},
     {SONNET: (1, 10, 5, 0, 0)}),
    # A /btw replay (sidechain, new request id) before its parent: the parent's counts.
    ({SESSION + '.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5, cache_read=20), B)],
      SUB: [assistant('m1', 'rX', SONNET, usage(10, 5, cache_read=50000), A, sidechain=True),
            assistant('m3', 'r3', SONNET, usage(1, 30, cache_read=700), B, sidechain=True)]},
     {SONNET: (2, 11, 35, 0, 720)}),
    # The replay's file sorts first: the parent, read later, still wins over it, and over a sidechain copy under the
    # same request id with more tokens.
    ({'a.jsonl': [assistant('m1', 'rX', SONNET, usage(10, 5, cache_read=50000), A, sidechain=True),
                  assistant('m2', 'r2', SONNET, usage(10, 5, cache_read=9000), A, sidechain=True)],
      'b.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5, cache_read=20), B),
                  assistant('m2', 'r2', SONNET, usage(1, 1), B)]},
     {SONNET: (2, 11, 6, 0, 20)}),
    # The same replay from another session is not one.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, usage(10, 5, cache_read=20), A)],
      't.jsonl': [assistant('m1', 'rX', SONNET, usage(10, 5, cache_read=50000), B, sidechain=True, sessionId='t')]},
     {SONNET: (2, 20, 10, 0, 50020)}),
    # Without requestId: the same instant of the same session is one answer; another instant another one.
    ({'s.jsonl': [assistant('m1', None, SONNET, usage(10, 5), A), assistant('m1', None, SONNET, usage(10, 9), A),
                  assistant('m1', None, SONNET, usage(20, 7), B)]},
     {SONNET: (2, 30, 16, 0, 0)}),
    # Without message.id nothing is a duplicate.
    ({'s.jsonl': [assistant(None, 'r1', SONNET, usage(10, 5), A).replace('"id":null,', ''),
                  assistant(None, 'r1', SONNET, usage(10, 5), A).replace('"id":null,', '')]},
     {SONNET: (2, 20, 10, 0, 0)}),
    # A subagent's answer echoed as progress in the parent and written in its own file: once.
    ({SESSION + '.jsonl': [progress('m5', 'r5', SONNET, usage(4, 4), A)],
      SUB: [assistant('m5', 'r5', SONNET, usage(4, 4), A, sidechain=True)]},
     {SONNET: (1, 4, 4, 0, 0)}),
    # Fast mode is a model of its own.
    ({'s.jsonl': [assistant('m1', 'r1', SONNET, dict(usage(1, 2), speed='fast'), A)]},
     {SONNET + '-fast': (1, 1, 2, 0, 0)}),
], ids=['one-answer-three-lines', 'largest-first', 'dearer', 'two-answers', 'two-request-ids', 'resumed-copy',
        'btw-replay', 'parent-read-after-replay', 'replay-of-another-session', 'no-request-id', 'no-message-id',
        'progress-copy', 'fast'])
def test_deduplication(tmp_path, files, expected):
    for relative, lines in files.items():
        write(tmp_path, relative, lines)
    result, state = run(tmp_path)
    assert dict((model, tokens_of(figures)) for model, figures in result['models'].items()) == expected
    no_secret(result, state)


def test_synthetic_answers_count_in_the_totals_only(tmp_path):
    # An API error as older CLIs wrote it (no "speed":null): ccusage counts its tokens in no model's breakdown.
    line = assistant('m9', None, '<synthetic>', usage(3, 4), A, isApiErrorMessage=True)
    write(tmp_path, 's.jsonl', [assistant('m1', 'r1', SONNET, usage(20, 7), A), line])
    result, dummy = run(tmp_path)
    assert list(result['models']) == [SONNET]
    assert tokens_of(result['models'][SONNET]) == (1, 20, 7, 0, 0)
    assert result['models'][SONNET]['api_errors'] == 1
    assert tokens_of(result['totals']) == (1, 23, 11, 0, 0)


# --- windows and days -------------------------------------------------------------------------------------

def write_clock(root):
    """Four answers of 1, 10, 100 and 1000 input tokens around 10:00 and 11:00 UTC on 2026-11-30."""
    write(root, 's.jsonl', [
        assistant('m1', 'r1', SONNET, usage(1, 0), at('09:59:59.999')),
        assistant('m2', 'r2', SONNET, usage(10, 0), at('10:00:00.000')),
        assistant('m3', 'r3', SONNET, usage(100, 0), at('10:59:59.999')),
        assistant('m4', 'r4', SONNET, usage(1000, 0), at('11:00:00.000')),
    ])


@pytest.mark.parametrize('since, until, input_tokens', [
    (None, None, 1111),
    # since is inclusive, until exclusive.
    ('2026-11-30T10:00:00Z', '2026-11-30T11:00:00Z', 110),
    ('2026-11-30T10:00:00.000Z', None, 1110),
    (None, '2026-11-30T10:00:00Z', 1),
    # The same instants with an offset, and without a zone (UTC).
    ('2026-11-30T11:00:00+01:00', '2026-11-30T12:00:00+01:00', 110),
    ('2026-11-30T10:00:00', '2026-11-30T11:00', 110),
    ('2026-11-30T09:59:59.999Z', '2026-11-30T10:59:59.999Z', 11),
    # A date is its midnight.
    ('2026-11-30', '2026-12-01', 1111),
    ('2026-12-01', None, 0),
])
def test_since_until(tmp_path, since, until, input_tokens):
    write_clock(tmp_path)
    result, dummy = run(tmp_path, since=since, until=until)
    assert result['totals']['input_tokens'] == input_tokens
    assert result['models'].get(SONNET, {'input_tokens': 0})['input_tokens'] == input_tokens


@pytest.mark.parametrize('bound', ['yesterday', '2026-11-31', '2026-11-30T25:00:00Z', '30.11.2026'])
def test_bad_bounds(bound):
    with pytest.raises(UsageError):
        parse_bound(bound)


def test_days_are_utc_days(tmp_path):
    write(tmp_path, 's.jsonl', [
        assistant('m1', 'r1', SONNET, usage(1, 0), at('23:59:59.999', day=29)),
        # 00:30 at +01:00 is still the 29th in UTC.
        assistant('m2', 'r2', SONNET, usage(10, 0), '2026-11-30T00:30:00.000+01:00'),
        assistant('m3', 'r3', HAIKU_DATED, usage(100, 0), at('00:00:00.000')),
    ])
    result, dummy = run(tmp_path, group_by='day')
    assert sorted(result['days']) == ['2026-11-29', '2026-11-30']
    assert tokens_of(result['days']['2026-11-29']['models'][SONNET]) == (2, 11, 0, 0, 0)
    assert list(result['days']['2026-11-29']['models']) == [SONNET]
    assert tokens_of(result['days']['2026-11-30']['totals']) == (1, 100, 0, 0, 0)
    # 100 input tokens at 1 USD per million.
    assert result['days']['2026-11-30']['totals']['cost_usd'] == pytest.approx(0.0001, abs=1e-12)


# --- prices -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('model, key', [
    ('claude-haiku-4-5', 'claude-haiku-4-5'),
    ('claude-haiku-4-5-20251001', 'claude-haiku-4-5'),
    ('claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'),
    ('claude-opus-4-6', 'claude-opus-4-6'),
    # Nothing but the dated form is an alias.
    ('claude-haiku-4-5-2025100', None),
    ('claude-haiku-4-5-fast', None),
    ('claude-haiku-4-5@20251001', None),
    ('claude-haiku-4', None),
    ('claude-opus-4-7', None),
    ('<synthetic>', None),
])
def test_model_price(model, key):
    assert model_price(model, pricing_table())[0] == key


@pytest.mark.parametrize('model, cache_5m, cache_1h, cost', [
    # Haiku 4.5: 1M 5m writes at 1.25 USD, 1M 1h writes at 2 USD, plus 1000 input tokens at 1 USD/M.
    ('claude-haiku-4-5', 1000000, 0, 1.25 + 0.001),
    ('claude-haiku-4-5', 0, 1000000, 2.0 + 0.001),
    ('claude-haiku-4-5', 500000, 500000, 0.625 + 1.0 + 0.001),
    # Sonnet 4.x: 3.75 and 6; Opus 4.5+: 6.25 and 10 (input 3 and 5 per million).
    ('claude-sonnet-4-5', 1000000, 1000000, 3.75 + 6.0 + 0.003),
    ('claude-opus-4-5', 1000000, 1000000, 6.25 + 10.0 + 0.005),
])
def test_cache_write_prices(tmp_path, model, cache_5m, cache_1h, cost):
    write(tmp_path, 's.jsonl', [assistant('m1', 'r1', model, usage(1000, 0, cache_5m=cache_5m, cache_1h=cache_1h), A)])
    result, dummy = run(tmp_path)
    assert result['models'][model]['cost_usd'] == pytest.approx(cost, abs=1e-9)


def test_output_and_cache_read_prices(tmp_path):
    write(tmp_path, 's.jsonl', [assistant('m1', 'r1', 'claude-opus-4-6', usage(0, 1000000, cache_read=1000000), A)])
    result, dummy = run(tmp_path)
    # Opus 4.6: 25 USD per million output tokens, 0.50 per million cache reads.
    assert result['models']['claude-opus-4-6']['cost_usd'] == pytest.approx(25.5, abs=1e-9)


def test_an_unknown_model_has_no_price(tmp_path):
    write(tmp_path, 's.jsonl', [assistant('m1', 'r1', 'claude-opus-4-7', usage(1000, 0), A),
                                assistant('m2', 'r2', SONNET, usage(1000, 0), B)])
    result, dummy = run(tmp_path)
    assert result['models']['claude-opus-4-7']['cost_usd'] is None
    assert result['models'][SONNET]['cost_usd'] == pytest.approx(0.003, abs=1e-12)
    # A sum without it would be too low.
    assert result['totals']['cost_usd'] is None
    assert len(result['warnings']) == 1
    assert 'claude-opus-4-7' in result['warnings'][0]


def test_pricing_overrides(tmp_path):
    write(tmp_path, 's.jsonl', [assistant('m1', 'r1', 'claude-opus-4-7', usage(1000000, 0), A),
                                assistant('m2', 'r2', SONNET, usage(1000000, 1000000), B)])
    result, dummy = run(tmp_path, pricing={
        'claude-opus-4-7': {'input': 5, 'output': 25, 'cache_write_5m': 6.25, 'cache_write_1h': 10,
                            'cache_read': 0.5, 'since': '2026-06-01'},
        # Only the input price changes; output stays 15.
        SONNET: {'input': '2.5'}})
    assert result['models']['claude-opus-4-7']['cost_usd'] == pytest.approx(5.0)
    assert result['models'][SONNET]['cost_usd'] == pytest.approx(2.5 + 15.0)
    assert result['warnings'] == []


@pytest.mark.parametrize('overrides, message', [
    ({'claude-new': {'input': 1}}, 'needs output, cache_write_5m, cache_write_1h, cache_read'),
    ({SONNET: {'input': -1}}, 'finite number >= 0'),
    ({SONNET: {'input': 'cheap'}}, 'must be a number'),
    ({SONNET: {'inputs': 1}}, 'unknown keys inputs'),
    ({SONNET: {'since': 'June'}}, 'must be a date'),
    ({SONNET: 3}, 'dictionary of prices'),
])
def test_bad_pricing(overrides, message):
    with pytest.raises(UsageError, match=message):
        pricing_table(overrides)


def test_the_table_is_anthropics_list():
    table = pricing_table()
    assert [table['claude-haiku-4-5'][key] for key in agent_usage.PRICE_KEYS] == [1.0, 5.0, 1.25, 2.0, 0.10]
    for model in ('claude-sonnet-4-5', 'claude-sonnet-4-6'):
        assert [table[model][key] for key in agent_usage.PRICE_KEYS] == [3.0, 15.0, 3.75, 6.0, 0.30]
    for model in ('claude-opus-4-5', 'claude-opus-4-6'):
        assert [table[model][key] for key in agent_usage.PRICE_KEYS] == [5.0, 25.0, 6.25, 10.0, 0.50]
    assert all(parse_bound(entry['since']) for entry in table.values())


# --- reading on from the state --------------------------------------------------------------------------

def full_read(root, **kwargs):
    result, dummy = collect_usage([str(root)], **kwargs)
    return result


def comparable(result):
    return dict((key, result[key]) for key in ('models', 'totals', 'by_agent', 'latency'))


def test_a_second_run_reads_only_what_was_appended(tmp_path):
    main, subagent = write_session(tmp_path)
    first, state = run(tmp_path)
    assert first['bytes_read'] == os.path.getsize(main) + os.path.getsize(subagent)

    # The next turn: a prompt, an answer over two lines, the second of them with the final output count.
    turn = [prompt(at('10:02:00.000')),
            assistant('msg_01D', 'req_01D', SONNET, usage(2, 10, cache_read=22000), at('10:02:01.500'),
                      block='thinking'),
            assistant('msg_01D', 'req_01D', SONNET, usage(2, 70, cache_read=22000), at('10:02:02.000'))]
    size = os.path.getsize(main)
    append(main, turn)
    second, state = run(tmp_path, state=state)

    assert second['bytes_read'] == os.path.getsize(main) - size
    assert tokens_of(second['models'][SONNET]) == (3, 4 + 2, 190 + 70, 2500, 22000 + 22000)
    assert second['latency'][SONNET] == {'p50_ms': 1500, 'p95_ms': 2000, 'samples': 3}
    assert comparable(second) == comparable(full_read(tmp_path))

    third, state = run(tmp_path, state=state)
    assert third['bytes_read'] == 0
    assert comparable(third) == comparable(second)
    no_secret(first, second, third, state)


def test_an_answer_split_across_two_runs_counts_once(tmp_path):
    thinking = assistant('m1', 'r1', SONNET, usage(10, 5, cache_read=300), A, block='thinking')
    path = write(tmp_path, 's.jsonl', [prompt(at('10:00:00.000')), thinking])
    first, state = run(tmp_path)
    assert tokens_of(first['models'][SONNET]) == (1, 10, 5, 0, 300)
    append(path, [assistant('m1', 'r1', SONNET, usage(10, 80, cache_read=300), B, block='tool_use')])
    second, state = run(tmp_path, state=state)
    assert tokens_of(second['models'][SONNET]) == (1, 10, 80, 0, 300)
    # The answer's latency stays that of its first line (10:00:02 after the prompt at 10:00:00).
    assert second['latency'][SONNET] == {'p50_ms': 2000, 'p95_ms': 2000, 'samples': 1}


def test_an_incomplete_last_line_waits_for_its_newline(tmp_path):
    complete = assistant('m1', 'r1', SONNET, usage(10, 5), A)
    pending = assistant('m2', 'r2', SONNET, usage(20, 7), B)
    path = write(tmp_path, 's.jsonl', [complete, pending[:40]])
    # write() ends with a newline; the CLI is still writing the second line.
    with open(path, 'rb+') as handle:
        handle.truncate(os.path.getsize(path) - 1)
    first, state = run(tmp_path)
    assert tokens_of(first['models'][SONNET]) == (1, 10, 5, 0, 0)
    assert first['bytes_read'] == len(complete.encode('utf-8')) + 1
    append(path, [pending[40:]])
    second, state = run(tmp_path, state=state)
    assert tokens_of(second['models'][SONNET]) == (2, 30, 12, 0, 0)
    assert second['bytes_read'] == len(pending.encode('utf-8')) + 1


def test_a_truncated_file_is_read_again(tmp_path):
    path = write(tmp_path, 's.jsonl', [assistant('m1', 'r1', SONNET, usage(10, 5), A),
                                       assistant('m2', 'r2', SONNET, usage(20, 7), B)])
    first, state = run(tmp_path)
    assert tokens_of(first['models'][SONNET]) == (2, 30, 12, 0, 0)
    # Shorter than what was read, in place (same inode): what the file gave before is taken back.
    with open(path, 'wb') as handle:
        handle.write((assistant('m3', 'r3', SONNET, usage(1, 1), A) + '\n').encode('utf-8'))
    second, state = run(tmp_path, state=state)
    assert tokens_of(second['models'][SONNET]) == (1, 1, 1, 0, 0)
    assert comparable(second) == comparable(full_read(tmp_path))


def test_a_rewritten_file_is_read_again(tmp_path):
    first_line = assistant('m1', 'r1', SONNET, usage(10, 5), A)
    path = write(tmp_path, 's.jsonl', [first_line])
    dummy, state = run(tmp_path)
    # Same inode, longer, but the bytes already read changed (another answer in their place).
    with open(path, 'wb') as handle:
        handle.write(('\n'.join([assistant('m3', 'r3', SONNET, usage(40, 5), B),
                                 assistant('m2', 'r2', SONNET, usage(20, 7), B)]) + '\n').encode('utf-8'))
    second, state = run(tmp_path, state=state)
    assert tokens_of(second['models'][SONNET]) == (2, 60, 12, 0, 0)


def test_a_replaced_file_is_read_again(tmp_path):
    path = write(tmp_path, 's.jsonl', [assistant('m1', 'r1', SONNET, usage(10, 5), A)])
    dummy, state = run(tmp_path)
    # Another inode, longer than before: read from its start, the old inode's answers taken back.
    replacement = path + '.new'
    with open(replacement, 'wb') as handle:
        handle.write(('\n'.join([assistant('m7', 'r7', SONNET, usage(100, 50), A),
                                 assistant('m8', 'r8', SONNET, usage(200, 70), B)]) + '\n').encode('utf-8'))
    os.rename(replacement, path)
    second, state = run(tmp_path, state=state)
    assert tokens_of(second['models'][SONNET]) == (2, 300, 120, 0, 0)
    assert second['bytes_read'] == os.path.getsize(path)
    assert comparable(second) == comparable(full_read(tmp_path))


def test_a_deleted_file_no_longer_counts(tmp_path):
    write(tmp_path, 's.jsonl', [assistant('m1', 'r1', SONNET, usage(10, 5), A)])
    gone = write(tmp_path, 't.jsonl', [assistant('m2', 'r2', SONNET, usage(20, 7), B)])
    dummy, state = run(tmp_path)
    os.unlink(gone)
    second, state = run(tmp_path, state=state)
    assert tokens_of(second['models'][SONNET]) == (1, 10, 5, 0, 0)
    assert second['files'] == 1
    assert len(state['files']) == 1


def test_a_state_that_cannot_be_used_starts_over(tmp_path):
    write_session(tmp_path)
    dummy, state = run(tmp_path)
    state['ledger']['columns']['input'] = 'not base64 of zlib'
    result, state = run(tmp_path, state=state)
    assert tokens_of(result['models'][SONNET]) == SESSION_SONNET
    assert result['bytes_read'] > 0
    assert len(result['warnings']) == 1 and 'read again' in result['warnings'][0]


def test_the_state_holds_no_text(tmp_path):
    write_session(tmp_path)
    dummy, state = run(tmp_path)
    no_secret(state)
    assert 'msg_01A' not in json.dumps(state) and 'req_01A' not in json.dumps(state)


def test_no_transcripts(tmp_path):
    result, dummy = run(tmp_path / 'missing')
    assert result['models'] == {} and result['files'] == 0
    assert result['totals']['requests'] == 0 and result['totals']['cost_usd'] == 0
    assert 'no projects directory' in result['warnings'][0]


def test_api_errors_alone_cost_nothing(tmp_path):
    # A session whose only request was refused: its error goes under <synthetic> (no answer of its file), no tokens.
    write(tmp_path, 's.jsonl', [prompt(at('10:00:00.000')), api_error(at('10:00:01.000'))])
    write(tmp_path, 't.jsonl', [prompt(at('10:00:02.000')),
                                assistant('msg_01A', 'req_01A', SONNET, usage(1000, 100), at('10:00:03.000'))])
    result, dummy = run(tmp_path)
    assert result['models']['<synthetic>']['api_errors'] == 1
    assert result['models']['<synthetic>']['cost_usd'] == 0.0
    # 1000*3 + 100*15 = 4500 per million: known, not made unknown by the error.
    assert result['totals']['cost_usd'] == 0.0045


@pytest.mark.parametrize('batches, errors', [
    # The first request refused twice, then answered: both errors are that model's.
    ([['p', 'e', 'e', 'sonnet']], {SONNET: 2}),
    # Read in two runs, the answer after the state was written: the same as one read.
    ([['p', 'e'], ['e', 'sonnet']], {SONNET: 2}),
    ([['p', 'e', 'e'], ['sonnet']], {SONNET: 2}),
    # An error after an answer is that answer's model's, even when the next answer is another model's.
    ([['p', 'haiku', 'p', 'e', 'sonnet']], {HAIKU_DATED: 1, SONNET: 0}),
    # Never answered: <synthetic>.
    ([['p', 'e'], ['p']], {'<synthetic>': 1}),
], ids=['retried', 'split-after-error', 'split-before-answer', 'after-an-answer', 'never-answered'])
def test_an_error_before_any_answer_is_the_next_answers_model(tmp_path, batches, errors):
    clock = iter(range(10, 60))
    counter = iter(range(1, 50))

    def line(kind):
        when = at('10:00:%02d.000' % next(clock))
        if kind == 'p':
            return prompt(when)
        if kind == 'e':
            return api_error(when)
        number = next(counter)
        return assistant('msg_%02d' % number, 'req_%02d' % number, SONNET if kind == 'sonnet' else HAIKU_DATED,
                         usage(10, 1), when)

    path, state, result = None, None, None
    for batch in batches:
        lines = [line(kind) for kind in batch]
        if path is None:
            path = write(tmp_path, 's.jsonl', lines)
        else:
            append(path, lines)
        result, state = run(tmp_path, state=state)
    assert dict((model, figures['api_errors']) for model, figures in result['models'].items()) == errors
    assert result['totals']['api_errors'] == sum(errors.values())
    # A full read of the same file agrees with the read in runs.
    assert run(tmp_path)[0]['models'] == result['models']
