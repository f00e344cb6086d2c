# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shortcuts agent_usage takes for speed give what the plain way gives, line for line and file for file.

Each table holds lines chosen to part the two ways if they ever diverge: escaped quotes, nulls, missing fields, odd
key order, spaces, unicode escapes, other encodings, torn and cut lines.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import json
import os

import pytest

from ansible_collections.jada.agent.plugins.module_utils import agent_usage
from ansible_collections.jada.agent.plugins.module_utils.agent_usage import (
    collect_usage,
    json_loads,
    parse_line,
    parse_timestamp,
    read_segment,
    refuses_null,
)

from ansible_collections.jada.agent.tests.unit.plugins.module_utils.test_agent_usage import (
    SECRET,
    SONNET,
    api_error,
    assistant,
    at,
    progress,
    prompt,
    tool_result,
    usage,
    write,
    write_session,
)

ANSWER = assistant('msg_01A', 'req_01A', SONNET, usage(3, 150, cache_5m=2000, cache_read=10000), at('10:00:02.000'))


def pretty(line):
    return json.dumps(json.loads(line), indent=2, ensure_ascii=True).replace('\n', ' ')


def reordered(line):
    return json.dumps(dict(reversed(list(json.loads(line).items()))), separators=(',', ':'))


# Lines for the JSON decoder and for parse_line: each shape the CLI writes, and what it never writes.
LINES = [
    ANSWER,
    prompt(at('10:00:00.000')),
    tool_result(at('10:00:04.000')),
    api_error(at('10:01:00.000')),
    progress('msg_01B', 'req_01B', SONNET, usage(5, 6), at('10:00:03.000')),
    '{"type":"system","subtype":"api_error","timestamp":"2026-11-30T10:00:01.000Z","error":{"status":529}}',
    # Another key order, spaces and newlines between the tokens, every non-ASCII character escaped.
    reordered(ANSWER),
    pretty(ANSWER),
    pretty(prompt(at('10:00:00.000'))),
    ' ' + ANSWER + ' \t\r',
    # Escaped quotes and backslashes where the markers are looked for.
    ANSWER.replace('The answer is', 'The \\"usage\\":{ \\"id\\":null \\\\" is'),
    prompt(at('10:00:00.000')).replace('Please do', '\\"type\\":\\"user\\" \\\\'),
    # Unicode escapes: the key type spelled \u0074ype, a surrogate pair, a lone surrogate.
    '{"\\u0074ype":"user","timestamp":"2026-11-30T10:00:00.000Z","message":{"content":"x"}}',
    '{"type":"user","timestamp":"2026-11-30T10:00:00.000Z","message":{"content":"\\ud83d\\ude42 \\udc00"}}',
    # Nulls where ccusage refuses them, and where it does not.
    ANSWER.replace('"requestId":"req_01A"', '"requestId":null'),
    ANSWER.replace('"stop_reason":null', '"stop_reason":null,"x":{"id":null}'),
    ANSWER.replace('"stop_sequence":null', '"stop_sequence" :null'),
    # Missing and wrongly typed fields.
    ANSWER.replace('"timestamp":"2026-11-30T10:00:02.000Z"', '"when":"2026-11-30T10:00:02.000Z"'),
    ANSWER.replace('"isSidechain":false', '"isSidechain":"no"'),
    ANSWER.replace('"input_tokens":3', '"input_tokens":3.0'),
    ANSWER.replace('"input_tokens":3', '"input_tokens":true'),
    ANSWER.replace('"input_tokens":3', '"input_tokens":18446744073709551616'),
    # A key twice: the last one counts.
    ANSWER.replace('{"parentUuid"', '{"type":"user","parentUuid"'),
    ANSWER[:-1] + ',"timestamp":"2026-11-30T11:00:00.000Z"}',
    # Not one JSON object: cut, two values, extra data, NaN, an array, another encoding, a byte order mark.
    ANSWER[:-1],
    ANSWER + ANSWER,
    ANSWER + 'x',
    ANSWER.replace('"input_tokens":3', '"input_tokens":NaN'),
    '[' + ANSWER + ']',
    ANSWER.replace('\u00fc', '\\xfc'),
    '{"type":"user","timestamp":"2026-11-30T10:00:00.000Z","message":{"content":"\t"}}',
    '',
    '{',
    '{}',
]
ENCODED = [line.encode('utf-8') for line in LINES] + [
    ANSWER.encode('utf-16-le'), ANSWER.encode('utf-16'), ANSWER.encode('utf-32'), b'\xef\xbb\xbf' + ANSWER.encode(),
    ANSWER.encode('utf-8').replace(b'The answer', b'The \xff answer'),
    b'{\x00"type"', b'{"a":"\xed\xa0\x80"}',
]


def decoded(function, line):
    try:
        return 'value', function(line)
    except ValueError as exc:
        return 'error', type(exc).__name__ if not isinstance(exc, json.JSONDecodeError) else 'JSONDecodeError'


@pytest.mark.parametrize('line', ENCODED)
def test_json_loads_is_json_loads(line):
    # Errors need only both be ValueErrors (parse_line drops the line either way).
    ours, theirs = decoded(json_loads, line), decoded(json.loads, line)
    assert ours[0] == theirs[0]
    if ours[0] == 'value':
        assert ours[1] == theirs[1]


@pytest.mark.parametrize('line', ENCODED)
def test_parse_line_with_the_shortcut_is_parse_line_with_json_loads(line, monkeypatch):
    ours = parse_line(line)
    monkeypatch.setattr(agent_usage, 'json_loads', json.loads)
    assert ours == parse_line(line)


def ccusage_null_scan(line):
    """ccusage's has_unsupported_null_field, step by step (mod.rs:456-498): for each ``:null``, back to the quote
    before it (searching down to the first byte), then back to the quote before that; the bytes between name it."""
    offset = 0
    while True:
        index = line.find(b':null', offset)
        if index < 0:
            return False
        end = max(index - 1, 0)
        if line[end:end + 1] != b'"':
            while end > 0 and line[end:end + 1] != b'"':
                end -= 1
        if line[end:end + 1] == b'"':
            start = max(end - 1, 0)
            while start > 0 and line[start:start + 1] != b'"':
                start -= 1
            if line[start:start + 1] == b'"' and line[start + 1:end] in agent_usage._NULL_REFUSED:
                return True
        offset = index + 5


@pytest.mark.parametrize('line', ENCODED + [
    b':null', b'":null', b'"":null', b'id":null', b'"id":null', b'"id" :null', b'"id" x:null', b'"id""x":null',
    b'{"a":"id","b":null}', b'{"x":"\\"id\\":null"}', b'{"speed":null}', b'{"speed": null}', b'"id"', b':nul',
    b'"model":nullx', b'"cwd":null:null', b'x"model":null', b'"requestId":null,"requestId":"r"',
])
def test_refuses_null_is_ccusage_scan(line):
    assert refuses_null(line) == ccusage_null_scan(line)


@pytest.mark.parametrize('text, millis', [
    ('2024-02-29T00:00:00.000Z', 1709164800000),
    ('2026-11-30T10:00:02+05:30', 1795996800000 + 36002000 - 19800000),
    ('2026-11-30T10:00:02.007-00:30', 1795996800000 + 36002007 + 1800000),
    ('1970-01-01T00:00:00Z', 0),
    ('2025-02-29T00:00:00.000Z', None),
    ('2026-11-30T24:00:00.000Z', None),
    ('2026-11-30T10:60:00.000Z', None),
    ('2026-13-01T10:00:00.000Z', None),
    ('2026-11-30T10:00:02.000z', None),
    ('2026-11-30T10:00:02.000+0530', None),
    ('2026-11-30T10:00:02.00Z', None),
    ('2026-11-30T10:00:02.000Z ', None),
    ('\u0662026-11-30T10:00:02.000Z', None),
    # A digit slice ending in a newline is no digit (an earlier version read it as one, ccusage never did).
    ('2026-11-30T10:00:0\nZ', None),
    ('2026-11-30T10:00:02.00\nZ', None),
    ('2026-11-30T10:00:02+0\n:00', None),
    (20261130, None),
])
def test_parse_timestamp_edges(text, millis):
    assert parse_timestamp(text) == millis
    # Twice: the second time the day comes from the cache.
    assert parse_timestamp(text) == millis


# --- segments ---------------------------------------------------------------------------------------------

def transcript(tmp_path, torn=''):
    path = write(tmp_path, 's.jsonl', [
        prompt(at('10:00:00.000')), ANSWER, tool_result(at('10:00:04.000')), '', 'not json',
        assistant('msg_01B', 'req_01B', SONNET, usage(1, 40), at('10:00:05.000')), api_error(at('10:01:00.000'))])
    if torn:
        with open(path, 'a') as handle:
            handle.write(torn)
    return path


@pytest.mark.parametrize('torn', ['', prompt(at('10:02:00.000'))[:50]], ids=['whole', 'torn'])
def test_any_cut_into_segments_reads_what_one_segment_reads(tmp_path, torn):
    path = transcript(tmp_path, torn)
    size = os.path.getsize(path)
    whole = read_segment(path, 0, size, True, True)
    assert whole[2] == bool(torn)
    assert whole[1] == size - len(torn)
    for cut in range(1, size):
        first = read_segment(path, 0, cut, True, False)
        second = read_segment(path, cut, size, False, True)
        if first[2]:
            # The torn line begins before the cut: the reading of the file stops there, what follows is not used.
            assert first[:4] == whole[:4], cut
        else:
            assert first[0] + second[0] == whole[0], cut
            assert second[1:4] == whole[1:4], cut
            assert first[3] is None


def test_a_segment_can_be_empty_or_cut_inside_a_long_line(tmp_path):
    path = transcript(tmp_path)
    size = os.path.getsize(path)
    facts, offset, torn, tail, error = read_segment(path, 10, 20, False, False)
    # The first line is longer than 20 bytes: it belongs to the segment before.
    assert (facts, torn, error) == ([], False, None)
    assert offset == len(prompt(at('10:00:00.000')).encode()) + 1
    assert read_segment(path, size, size, True, True)[:3] == ([], size, False)


def test_a_file_that_is_gone_is_an_error_not_a_crash(tmp_path):
    facts, offset, torn, tail, error = read_segment(str(tmp_path / 'gone.jsonl'), 0, 10, True, True)
    assert (facts, offset, torn, tail) == ([], 0, True, None)
    assert error


# --- parallel or not, the same result ---------------------------------------------------------------------

def many_files(root):
    """A session and its subagent, several sessions whose lines duplicate each other's, and a torn last line."""
    write_session(root)
    for number in range(6):
        write(root, 'other-%d.jsonl' % number, [
            prompt(at('11:%02d:00.000' % number)),
            assistant('msg_%d' % number, 'req_%d' % number, SONNET, usage(number, 10), at('11:%02d:01.000' % number)),
            tool_result(at('11:%02d:02.000' % number)),
            # A /btw replay of the previous session's answer: which copy counts depends on the order of the files.
            assistant('msg_%d' % max(number - 1, 0), 'req_x%d' % number, SONNET, usage(number, 99),
                      at('11:%02d:03.000' % number), sidechain=number % 2 == 1),
        ] + [tool_result(at('11:%02d:04.000' % number))] * 30, end='\n' if number else '\n' + prompt(at('12:00:00'))[:40])


def comparable(result, state):
    """The figures of a run (not how many bytes it read) and its state."""
    result = dict(result)
    del result['bytes_read']
    return result, json.dumps(state, sort_keys=True)


def test_workers_and_segments_give_what_one_process_gives(tmp_path, monkeypatch):
    many_files(tmp_path)
    alone = comparable(*collect_usage([str(tmp_path)], group_by='day'))
    monkeypatch.setattr(agent_usage, '_SEGMENT', 300)
    monkeypatch.setattr(agent_usage, '_PARALLEL_MIN', 0)
    monkeypatch.setattr(agent_usage, '_workers', lambda pending: 2)
    shared = comparable(*collect_usage([str(tmp_path)], group_by='day'))
    assert shared == alone
    assert alone[0]['models'][SONNET]['requests'] > 6


def test_without_a_process_pool_the_reading_is_done_here(tmp_path, monkeypatch):
    many_files(tmp_path)
    alone = comparable(*collect_usage([str(tmp_path)]))

    def no_pool(*args, **kwargs):
        raise OSError('no /dev/shm')
    monkeypatch.setattr(concurrent.futures, 'ProcessPoolExecutor', no_pool)
    monkeypatch.setattr(agent_usage, '_SEGMENT', 300)
    monkeypatch.setattr(agent_usage, '_workers', lambda pending: 2)
    assert comparable(*collect_usage([str(tmp_path)])) == alone


def test_a_batch_whose_worker_died_is_read_here(tmp_path):
    path = transcript(tmp_path)
    batch = [(path, 0, os.path.getsize(path), True, True)]
    future = concurrent.futures.Future()
    future.set_exception(concurrent.futures.process.BrokenProcessPool('killed'))
    assert agent_usage._finished(batch, future) == agent_usage._read_batch(batch)


class BrokenPool(object):
    """A pool whose workers died after the first batch: submitting raises, as concurrent.futures does."""

    def __init__(self, *args):
        self.submitted = 0

    def submit(self, function, *args):
        self.submitted += 1
        if self.submitted > 1:
            raise concurrent.futures.process.BrokenProcessPool('a worker died')
        future = concurrent.futures.Future()
        future.set_result(function(*args))
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def test_once_the_pool_is_broken_the_rest_is_read_here(tmp_path, monkeypatch):
    many_files(tmp_path)
    alone = comparable(*collect_usage([str(tmp_path)]))
    monkeypatch.setattr(concurrent.futures, 'ProcessPoolExecutor', BrokenPool)
    monkeypatch.setattr(agent_usage, '_SEGMENT', 300)
    monkeypatch.setattr(agent_usage, '_workers', lambda pending: 2)
    assert comparable(*collect_usage([str(tmp_path)])) == alone


def test_the_state_of_a_shared_read_serves_the_next_run(tmp_path, monkeypatch):
    many_files(tmp_path)
    monkeypatch.setattr(agent_usage, '_SEGMENT', 300)
    monkeypatch.setattr(agent_usage, '_PARALLEL_MIN', 0)
    monkeypatch.setattr(agent_usage, '_workers', lambda pending: 2)
    first, state = collect_usage([str(tmp_path)])
    with open(str(tmp_path / 'projects' / '-srv-jada-orchestrator' / 'other-0.jsonl'), 'a') as handle:
        handle.write(prompt(at('12:00:00'))[40:] + '\n')
    second, state = collect_usage([str(tmp_path)], state=json.loads(json.dumps(state)))
    monkeypatch.undo()
    assert comparable(second, {}) == comparable(collect_usage([str(tmp_path)])[0], {})
    assert second['bytes_read'] == len(prompt(at('12:00:00')).encode()) + 1
    assert SECRET not in json.dumps([first, second, state])
