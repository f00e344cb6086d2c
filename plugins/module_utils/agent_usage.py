# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Token usage of Claude Code, read from its transcripts and counted the way ccusage 20.0.24 counts it.

Claude Code writes each session to ``<config dir>/projects/<project>/<session>.jsonl`` and each subagent to
``<project>/<session>/subagents/agent-<id>.jsonl``; every ``*.jsonl`` under ``projects/`` is read. The reference is
``ccusage claude daily --json`` (its ``modelBreakdowns``); ``tests/usage/ccusage-20.0.24.md`` has the evidence.

What counts (ccusage's daily loader; a line failing any step is not counted):

* the line holds the bytes ``"usage":{``, and no ``:null`` after one of the names ccusage refuses to see null;
* it is JSON with ``timestamp`` and ``message.usage.input_tokens``/``output_tokens`` (integers >= 0), optional
  fields of the right type, or the same one level down as an agent-progress line (``data.message``);
* its timestamp is ``YYYY-MM-DDTHH:MM:SS[.mmm](Z|+HH:MM)``; ``version`` starts with ``N.N.N``; ids, model and
  session id are not empty. The line's ``type`` does not matter, nor does a missing ``requestId``.

De-duplication, over all files at once, in the order of the files' paths and of their lines (what ccusage 20.0.24
does, probed line by line against its binary):

* the key is (``message.id``, ``requestId``); without ``requestId`` it is (``message.id``, session, instant of the
  line), the session being ``sessionId``, else the one the file's path names;
* failing the key, the first earlier answer with the same ``message.id`` filed under the same session matches when
  either of the two is a sidechain (a ``/btw`` replay); an answer is filed under the session of every duplicate it
  absorbed;
* of two matching lines the non-sidechain one is kept, then the one with more tokens, then the dearer, then the one
  with a ``speed``; a full tie keeps the first. Lines without ``message.id`` all count.

Cache creation is ``ephemeral_5m + ephemeral_1h`` when ``usage.cache_creation`` is there, else
``cache_creation_input_tokens`` (priced as 5m). ``<synthetic>`` or model-less answers count in the totals only;
``usage.speed == "fast"`` makes the model ``<model>-fast``.

Duplicates are not only adjacent lines of one answer (one line per content block): resumed sessions, ``/btw``
replays and agent-progress copies repeat answers in other files, so the state keeps one compact record per kept
answer (about 65 bytes: hashes of the ids, time, five token counts, latency, model, file, flags), never a line.

Latency of an answer: from the timestamp of the last ``type: user`` line (a prompt or a tool result) written in the
same file since the previous assistant line, to the timestamp of the answer's first line. The CLI writes that line
when the answer's first content block is complete, so this is request to first complete block, retries and queueing
included; an answer without such a user line before it (an agent-progress copy, a later block) has none. Samples are
exact: each kept answer keeps its latency in its record (4 bytes), percentiles use the nearest rank.

Tasks: a task is a prompt of the main agent (a ``type: user`` line that is not a sidechain, not a tool result, not
``isMeta`` or ``isCompactSummary``; the real CLI writes one per ``-p`` run or typed prompt, its tool results as
further user lines with ``tool_result`` blocks). It counts once, under the model and at the time of the first
answer written after it in the same file, and only when that answer is counted: a prompt answered by an error is no
task of any model. The record of that answer carries the mark (one bit), so copies of the prompt count once.

API errors are assistant lines with ``isApiErrorMessage: true`` and ``type: system`` lines with ``subtype:
api_error``, counted under the model of the line, else of the file's latest answer, else of its next answer (the
first request of a session refused, then retried), else ``<synthetic>``.

Nothing of a line's text is kept or returned: only numbers, model IDs, file paths and timestamps.

Reading: files are cut into segments of 4 MB (a line belongs to the segment it begins in); with more than 32 MB to
read, forked workers parse the segments into Line tuples and this process applies them, one file after the other in
the order of the paths and lines, so de-duplication, latency and tasks see exactly what one process reading alone
would. Only parsing is shared out; its cost is decoding the JSON of every user and assistant line, which exactness
requires (a line that is not valid JSON counts for nothing, so no byte shortcut can stand in for the decoder).

Public API::

    PRICING, PRICING_DATE, GROUP_BY, FIGURES
    UsageError
    pricing_table(overrides=None)            # PRICING with overrides, validated
    model_price(model, table)                # (key, prices) of a model: its own entry or, dated, its undated one
    parse_timestamp(text)                    # ms since the epoch as ccusage reads a timestamp, else None
    parse_bound(text)                        # ms since the epoch of a since/until bound; raises UsageError
    json_loads(line)                         # json.loads(line), quicker for a UTF-8 object
    parse_line(line)                         # Line, or None for a line that says nothing about usage
    refuses_null(line)                       # whether ccusage's byte scan drops the line for a null
    read_segment(path, start, end, aligned, last)   # (Lines, offset, torn, tail digest, error) of a part of a file
    find_transcripts(config_dirs)            # (sorted paths, warnings)
    Ledger                                   # the kept answers, de-duplicated as ccusage does; to/from state
    summarize(ledger, table, since=None, until=None, group_by='none')
    is_prompt(data)                          # whether a user line starts a task
    last_complete_rollout(lines)             # (the last complete history line or None, bad lines)
    read_history(path)                       # (the last complete rollout or None, warnings)
    comparison_windows(rollout, now, window_days)   # {before: (since, until), after: (since, until)} or None
    derived_figures(figures, tasks, days)    # tokens_per_task, cost_per_day, error_rate
    window_figures(ledger, table, since, until)     # (per-model figures of one window, warnings)
    comparison(ledger, table, rollout, now, window_days)
    collect_usage(config_dirs, state=None, since=None, until=None, group_by='none', pricing=None, compare=False,
                  rollout=None, window_days=7, now=None)
"""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import concurrent.futures.process
import datetime
import errno
import hashlib
import json
import itertools
import math
import multiprocessing
import os
import re
import sys
import time
import zlib
from array import array

# USD per million tokens: Anthropic's list prices as this table knew them on PRICING_DATE. ``since`` is the day the
# price took effect (the model's release). Override or extend with pricing_table(overrides).
PRICING_DATE = '2026-12-01'
PRICING = {
    'claude-haiku-4-5': {'input': 1.0, 'output': 5.0, 'cache_write_5m': 1.25, 'cache_write_1h': 2.0,
                         'cache_read': 0.10, 'since': '2025-10-15'},
    'claude-sonnet-4': {'input': 3.0, 'output': 15.0, 'cache_write_5m': 3.75, 'cache_write_1h': 6.0,
                        'cache_read': 0.30, 'since': '2025-05-22'},
    'claude-sonnet-4-5': {'input': 3.0, 'output': 15.0, 'cache_write_5m': 3.75, 'cache_write_1h': 6.0,
                          'cache_read': 0.30, 'since': '2025-09-29'},
    'claude-sonnet-4-6': {'input': 3.0, 'output': 15.0, 'cache_write_5m': 3.75, 'cache_write_1h': 6.0,
                          'cache_read': 0.30, 'since': '2026-02-17'},
    'claude-opus-4': {'input': 15.0, 'output': 75.0, 'cache_write_5m': 18.75, 'cache_write_1h': 30.0,
                      'cache_read': 1.50, 'since': '2025-05-22'},
    'claude-opus-4-1': {'input': 15.0, 'output': 75.0, 'cache_write_5m': 18.75, 'cache_write_1h': 30.0,
                        'cache_read': 1.50, 'since': '2025-08-05'},
    'claude-opus-4-5': {'input': 5.0, 'output': 25.0, 'cache_write_5m': 6.25, 'cache_write_1h': 10.0,
                        'cache_read': 0.50, 'since': '2025-11-24'},
    'claude-opus-4-6': {'input': 5.0, 'output': 25.0, 'cache_write_5m': 6.25, 'cache_write_1h': 10.0,
                        'cache_read': 0.50, 'since': '2026-02-05'},
}
PRICE_KEYS = ('input', 'output', 'cache_write_5m', 'cache_write_1h', 'cache_read')
# ccusage's price factor for usage.speed == "fast" (its fast-multiplier-overrides.json). Only used to choose between
# duplicates as ccusage does; a "-fast" model is not priced (no list price here), its cost_usd is null.
FAST_MULTIPLIER = {'claude-opus-4-6': 6.0}
GROUP_BY = ('none', 'day')
# The figures of a model (and of the totals), in the order they are accumulated.
FIGURES = ('requests', 'input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens',
           'api_errors')
SYNTHETIC = '<synthetic>'
MAIN = 'main'
SUBAGENTS = 'subagents'

# The one alias rule: a dated snapshot ID is priced as its undated model. Nothing fuzzier, so a new model is never
# priced as an old one.
_DATED = re.compile(r'^(.+)-([0-9]{8})$')
_ISO_DATE = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
_BOUND = re.compile(r'^([0-9]{4})-([0-9]{2})-([0-9]{2})'
                    r'(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$')
_SEMVER_PREFIX = re.compile(r'^[0-9]+[.][0-9]+[.][0-9]')

_USAGE_MARKER = b'"usage":{'
# What json.loads does after detecting the encoding: the C scanner from the first character, then only whitespace.
_SCAN = json.JSONDecoder().scan_once
_WHITESPACE = re.compile(r'[ \t\n\r]*').match
# Lines worth parsing without that marker: prompts and tool results (latency), answers ccusage does not count (they
# still end a wait), API errors.
_OTHER_MARKERS = (b'"user"', b'"assistant"', b'"isApiErrorMessage":true', b'"api_error"')
# ccusage drops a line with ":null" after one of these names, wherever in the line (is_unsupported_nullable_field).
_NULL_REFUSED = frozenset([b'id', b'cwd', b'model', b'speed', b'costUSD', b'version', b'sessionId', b'requestId',
                           b'isApiErrorMessage', b'cache_read_input_tokens', b'cache_creation_input_tokens'])
_U64_MAX = (1 << 64) - 1
_MS_PER_DAY = 86400000
_EPOCH = datetime.datetime(1970, 1, 1)

# Bytes before the offset that must not have changed for a file to be read on from there: the end of the last line
# read (its uuid and timestamp), which any rewrite of the file changes.
_TAIL = 1024
# Bytes read at a time (by one worker): several batches in flight stay a few MB of facts, and a batch's round trip
# costs little beside its parsing.
_SEGMENT = 4 * 1024 * 1024
# Fewer new bytes than this are read in this process: forking workers would cost more than they save.
_PARALLEL_MIN = 32 * 1024 * 1024
# Each worker is a whole Python process (10-20 MB): more would not fit the module's memory budget.
_WORKERS_MAX = 3
# 2: records carry TASK, files the prompt waiting for its answer; a state of format 1 is read anew.
STATE_FORMAT = 2

ENTRY, USER, ERROR, OTHER = 'entry', 'user', 'error', 'other'

Line = collections.namedtuple('Line', [
    'kind',            # ENTRY (counted by ccusage), USER (a latency anchor), ERROR (an API error only) or OTHER
                       # (an assistant line ccusage does not count)
    'timestamp',       # ms since the epoch
    'model',           # the model ID as written (None when absent)
    'message_id', 'request_id',
    'session',         # the line's sessionId (None when absent: the file's path says which session)
    'sidechain',       # isSidechain is true
    'input_tokens', 'output_tokens', 'cache_creation_5m', 'cache_creation_1h', 'cache_read_input_tokens',
    'speed',           # usage.speed is present (ccusage's last tie-break); 'fast' renames the model
    'fast',
    'api_error',       # isApiErrorMessage is true, or a system api_error line
    'assistant',       # a direct line of type assistant (progress copies are not answers of this file)
    'prompt',          # a USER line that is a prompt of the main agent (see is_prompt), which starts a task
], defaults=(False,))


class UsageError(ValueError):
    """A pricing table, a bound or a group_by that cannot be used."""


# --- prices -----------------------------------------------------------------------------------------------

def _price(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise UsageError('%s must be a number, got %r' % (what, value))
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise UsageError('%s must be a finite number >= 0, got %r' % (what, value))
    return float(value)


def pricing_table(overrides=None):
    """PRICING with ``overrides`` ({model: {price: USD per million tokens, since: date}}) laid over it.

    A known model takes the prices given and keeps the others; a new model needs all five prices.
    """
    table = dict((model, dict(entry)) for model, entry in PRICING.items())
    for model, entry in (overrides or {}).items():
        what = 'pricing[%s]' % model
        if not isinstance(model, str) or not model:
            raise UsageError('pricing keys must be model IDs, got %r' % (model,))
        if not isinstance(entry, dict):
            raise UsageError('%s must be a dictionary of prices, got %s' % (what, type(entry).__name__))
        unknown = sorted(set(entry) - set(PRICE_KEYS + ('since',)))
        if unknown:
            raise UsageError('%s has unknown keys %s; allowed are %s and since'
                             % (what, ', '.join(map(str, unknown)), ', '.join(PRICE_KEYS)))
        merged = dict(table.get(model, {}))
        for key in PRICE_KEYS:
            if entry.get(key) is not None:
                merged[key] = _price(entry[key], '%s.%s' % (what, key))
        missing = [key for key in PRICE_KEYS if key not in merged]
        if missing:
            raise UsageError('%s needs %s (a model the built-in table does not know)' % (what, ', '.join(missing)))
        since = entry.get('since', merged.get('since'))
        if since is not None and not (isinstance(since, str) and _ISO_DATE.match(since)):
            raise UsageError('%s.since must be a date (YYYY-MM-DD), got %r' % (what, since))
        merged['since'] = since
        table[model] = merged
    return table


def model_price(model, table):
    """(key, prices) of ``model`` in ``table``: its own entry, else the undated model's for ``<model>-YYYYMMDD``."""
    if model in table:
        return model, table[model]
    dated = _DATED.match(model or '')
    if dated and dated.group(1) in table:
        return dated.group(1), table[dated.group(1)]
    return None, None


def cost_usd(prices, input_tokens, output_tokens, cache_5m, cache_1h, cache_read):
    """USD of these token counts at ``prices`` (per million tokens), rounded to 6 places; None without prices."""
    if prices is None:
        return None
    total = (input_tokens * prices['input'] + output_tokens * prices['output'] + cache_5m * prices['cache_write_5m']
             + cache_1h * prices['cache_write_1h'] + cache_read * prices['cache_read'])
    return round(total / 1e6, 6)


# --- timestamps -------------------------------------------------------------------------------------------

def _days_from_civil(year, month, day):
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _valid_date(year, month, day):
    if not 1 <= month <= 12 or day < 1:
        return False
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return day <= (29 if leap else 28)
    return day <= (30 if month in (4, 6, 9, 11) else 31)


# ccusage's parse_ts_timestamp: exactly this shape, the fraction three digits or none, the zone Z or +HH:MM.
_TIMESTAMP = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.]([0-9]{3}))?'
                        r'(?:Z|([+-])([0-9]{2}):([0-9]{2}))\Z')
# Days since the epoch of the dates met so far: transcripts span few days, and most of a timestamp's cost is its date.
_DAY_NUMBERS = {}


def _day_number(text):
    """Days since the epoch of a timestamp's valid ``YYYY-MM-DD`` (its first ten characters), else None."""
    date = text[:10]
    number = _DAY_NUMBERS.get(date)
    if number is None:
        year, month, day = int(date[:4]), int(date[5:7]), int(date[8:10])
        if not _valid_date(year, month, day):
            return None
        if len(_DAY_NUMBERS) > 4096:
            _DAY_NUMBERS.clear()
        number = _DAY_NUMBERS[date] = _days_from_civil(year, month, day)
    return number


def parse_timestamp(text):
    """Milliseconds since the epoch of a transcript timestamp, or None when ccusage would not read it either.

    As ccusage's parse_ts_timestamp: ``YYYY-MM-DDTHH:MM:SS`` then ``Z`` or ``+HH:MM``, with exactly three fraction
    digits or none.
    """
    match = _TIMESTAMP.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    dummy, dummy, dummy, hour, minute, second, millis, sign, zone_hours, zone_minutes = match.groups()
    hour, minute, second = int(hour), int(minute), int(second)
    if hour > 23 or minute > 59 or second > 59:
        return None
    days = _day_number(text)
    if days is None:
        return None
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    if sign is not None:
        offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
        seconds += offset if sign == '-' else -offset
    return seconds * 1000 + (int(millis) if millis else 0)


def parse_bound(text):
    """Milliseconds since the epoch of a since/until bound: an ISO 8601 date or date and time, UTC when no zone."""
    match = _BOUND.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise UsageError('%r is not an ISO 8601 date or time (2026-11-30, 2026-11-30T08:00:00Z)' % (text,))
    year, month, day, hour, minute, second = [int(group or 0) for group in match.groups()[:6]]
    fraction, zone = match.group(7), match.group(8)
    if not _valid_date(year, month, day) or hour > 23 or minute > 59 or second > 59:
        raise UsageError('%r is not a valid date or time' % (text,))
    offset = 0
    if zone and zone != 'Z':
        digits = zone[1:].replace(':', '')
        offset = (int(digits[:2]) * 60 + int(digits[2:])) * (1 if zone[0] == '+' else -1)
    millis = int((fraction or '0')[:3].ljust(3, '0'))
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset * 60
    return seconds * 1000 + millis


def utc_day(timestamp):
    return (_EPOCH + datetime.timedelta(milliseconds=timestamp)).strftime('%Y-%m-%d')


# --- one line ---------------------------------------------------------------------------------------------

def refuses_null(line):
    """Whether ccusage drops ``line`` for a null value: its byte scan, names found the way it finds them.

    For each ``:null``, the name is what lies between the last two ``"`` before it, escaped or not.
    """
    index = line.find(b':null')
    while index >= 0:
        end = line.rfind(b'"', 0, index)
        start = line.rfind(b'"', 0, end) if end > 0 else -1
        if start >= 0 and line[start + 1:end] in _NULL_REFUSED:
            return True
        index = line.find(b':null', index + 5)
    return False


def _u64(value):
    # JSON's true is no count, though Python's True is an int.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _U64_MAX


# The serde types of the optional envelope fields ccusage reads (a JSON number is an int or a float).
_STRING, _NUMBER, _BOOL = (str,), (int, float), (bool,)
_DIRECT_FIELDS = (('version', _STRING), ('sessionId', _STRING), ('requestId', _STRING), ('costUSD', _NUMBER),
                  ('isSidechain', _BOOL))
_PROGRESS_FIELDS = (('requestId', _STRING), ('costUSD', _NUMBER), ('isSidechain', _BOOL))
_MESSAGE_FIELDS = (('model', _STRING), ('id', _STRING))
_SPEEDS = ('standard', 'fast')


def _well_typed(container, fields):
    """Whether each of these optional fields is absent, null or of its type."""
    for key, kinds in fields:
        value = container.get(key)
        # JSON's true is no number either.
        if value is not None and (not isinstance(value, kinds) or (isinstance(value, bool) and kinds is not _BOOL)):
            return False
    return True


def _usage_message(message):
    """(model, id, tokens, speed) of a message as ccusage's serde types accept it, else None."""
    if not isinstance(message, dict):
        return None
    usage = message.get('usage')
    if not isinstance(usage, dict):
        return None
    get = usage.get
    input_tokens, output_tokens = get('input_tokens'), get('output_tokens')
    # serde's #[serde(default)] fills in a missing count, not a null one.
    cache_write, cache_read = get('cache_creation_input_tokens', 0), get('cache_read_input_tokens', 0)
    if not (_u64(input_tokens) and _u64(output_tokens) and _u64(cache_write) and _u64(cache_read)):
        return None
    speed = get('speed')
    if speed is not None and speed not in _SPEEDS:
        return None
    split = get('cache_creation')
    if split is None:
        cache_5m, cache_1h = cache_write, 0
    elif isinstance(split, dict):
        cache_5m, cache_1h = split.get('ephemeral_5m_input_tokens', 0), split.get('ephemeral_1h_input_tokens', 0)
        if not (_u64(cache_5m) and _u64(cache_1h)):
            return None
    else:
        return None
    if not _well_typed(message, _MESSAGE_FIELDS):
        return None
    return message.get('model'), message.get('id'), (input_tokens, output_tokens, cache_5m, cache_1h, cache_read), speed


def _entry(data):
    """(timestamp, model, id, request id, session, sidechain, tokens, speed, direct) of a counted line, else None."""
    fields, parsed, timestamp = data, _usage_message(data.get('message')), data.get('timestamp')
    session, version = data.get('sessionId'), data.get('version')
    direct = parsed is not None and isinstance(timestamp, str) and _well_typed(data, _DIRECT_FIELDS)
    if not direct:
        # Not the direct shape: ccusage tries an agent-progress line, whose answer is under data.message. Its session
        # is the line's own (top-level) sessionId; its version is not looked at.
        fields = data.get('data')
        fields = fields.get('message') if isinstance(fields, dict) else None
        if not isinstance(fields, dict):
            return None
        parsed, timestamp, version = _usage_message(fields.get('message')), fields.get('timestamp'), None
        if (parsed is None or not isinstance(timestamp, str) or not _well_typed(fields, _PROGRESS_FIELDS)
                or (session is not None and not isinstance(session, str))):
            return None
    millis = parse_timestamp(timestamp)
    if millis is None:
        return None
    model, message_id, tokens, speed = parsed
    if version is not None and not _SEMVER_PREFIX.match(version):
        return None
    request_id = fields.get('requestId')
    if '' in (session, request_id, message_id, model):
        return None
    return millis, model, message_id, request_id, session, fields.get('isSidechain') is True, tokens, speed, direct


def json_loads(line):
    """json.loads(line), without its detours for the lines transcripts are made of: a JSON object in UTF-8."""
    # json.loads detects the encoding from the first two bytes: "{" and a byte that is not 0 mean UTF-8.
    if line[:1] != b'{' or line[1:2] == b'\x00':
        return json.loads(line)
    text = line.decode('utf-8', 'surrogatepass')
    data, end = _SCAN(text, 0)
    if _WHITESPACE(text, end).end() != len(text):
        raise ValueError('extra data after the JSON value')
    return data


def parse_line(line):
    """The usage facts of one transcript line (bytes, without its newline), or None; no text of it is kept."""
    has_usage = _USAGE_MARKER in line
    if not has_usage:
        for marker in _OTHER_MARKERS:
            if marker in line:
                break
        else:
            return None
    try:
        data = json_loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    kind = data.get('type')
    api_error = data.get('isApiErrorMessage') is True or (kind == 'system' and data.get('subtype') == 'api_error')
    entry = _entry(data) if has_usage and not refuses_null(line) else None
    if entry is not None:
        millis, model, message_id, request_id, session, sidechain, tokens, speed, direct = entry
        return Line(ENTRY, millis, model, message_id, request_id, session, sidechain, tokens[0], tokens[1], tokens[2],
                    tokens[3], tokens[4], speed is not None, speed == 'fast', api_error,
                    direct and kind == 'assistant')
    millis = parse_timestamp(data.get('timestamp'))
    if millis is None:
        return None
    model = data.get('message', {}).get('model') if isinstance(data.get('message'), dict) else None
    if api_error:
        return Line(ERROR, millis, model if isinstance(model, str) else None, None, None, None,
                    data.get('isSidechain') is True, 0, 0, 0, 0, 0, False, False, True, kind == 'assistant')
    if kind == 'user':
        return Line(USER, millis, None, None, None, None, data.get('isSidechain') is True, 0, 0, 0, 0, 0, False,
                    False, False, False, is_prompt(data))
    if kind == 'assistant':
        # An answer ccusage does not count still ends the wait for the one before it.
        return Line(OTHER, millis, None, None, None, None, False, 0, 0, 0, 0, 0, False, False, False, True)
    return None


def is_prompt(data):
    """Whether a ``type: user`` line is a prompt of the main agent: what starts a task.

    Not a subagent's (``isSidechain``: the Task tool's prompt to it, part of the parent's task), not a tool result
    (content blocks of type ``tool_result``), not a line the CLI adds itself (``isMeta``, ``isCompactSummary``).
    """
    if data.get('isSidechain') is True or data.get('isMeta') is True or data.get('isCompactSummary') is True:
        return False
    message = data.get('message')
    content = message.get('content') if isinstance(message, dict) else None
    if isinstance(content, str):
        return True
    if not isinstance(content, list) or not content:
        return False
    return not any(isinstance(block, dict) and block.get('type') == 'tool_result' for block in content)


def model_key(line):
    """The model an entry counts under, as ccusage names it; None for a synthetic or model-less answer."""
    if line.model is None or line.model == SYNTHETIC:
        return None
    return line.model + '-fast' if line.fast else line.model


# --- the kept answers -------------------------------------------------------------------------------------

# The ids met last, hashed: an answer's lines repeat its ids, a file its session.
_HASHED = {4: {}, 8: {}}


def _hash(text, size):
    known = _HASHED[size]
    value = known.get(text)
    if value is None:
        if len(known) >= 4096:
            known.clear()
        value = known[text] = int.from_bytes(
            hashlib.blake2b(text.encode('utf-8', 'surrogatepass'), digest_size=size).digest(), 'little')
    return value


# Flags of a record.
COUNTED = 1        # an answer ccusage counts (tokens, requests)
HAS_ID = 2         # has message.id: takes part in de-duplication
HAS_REQUEST = 4
SIDECHAIN = 8
SPEED = 16
API_ERROR = 32     # an API error, counted under ``model``
DEAD = 64          # its file was truncated, replaced or deleted
TASK = 128         # the first answer of the main agent to a prompt: one task, at the answer's time and model

# name, typecode: message hash (64 bits: unique among millions), request and session hashes (32 bits: only compared
# between answers with the same message id), time, the five token counts (32 bits, widened to 64 for the ledger
# that meets a larger one), latency (-1 none), model (-1 none), file, flags.
_COLUMNS = (('message', 'Q'), ('request', 'I'), ('session', 'I'), ('time', 'q'), ('input', 'I'), ('output', 'I'),
            ('cache_5m', 'I'), ('cache_1h', 'I'), ('cache_read', 'I'), ('latency', 'i'), ('model', 'i'), ('file', 'i'),
            ('flags', 'B'))
_WIDE = {'I': 'Q'}
_NAMES = tuple(name for name, dummy in _COLUMNS)
# Where a record's values (a tuple in _COLUMNS order) hold these.
_SESSION, _TOKENS, _LATENCY, _MODEL, _FLAGS = 2, slice(4, 9), 9, 10, 12
_LATENCY_MAX = (1 << 31) - 1


class Ledger(object):
    """One record per kept answer (and per API error), in array columns, with ccusage's de-duplication.

    The message-id index is an open-addressing table of record numbers (4 bytes a slot, at most half full), so the
    whole costs about 65 bytes per answer however long its lines were.
    """

    def __init__(self, models=None, table=None):
        self.columns = dict((name, array(code)) for name, code in _COLUMNS)
        self.models = list(models or [])
        self._model_ids = dict((name, index) for index, name in enumerate(self.models))
        self._table = array('i', [-1]) * 1024
        self._used = 0
        # Further sessions a record answers for: those of the duplicates it absorbed (ccusage files the record under
        # each of their keys). Rare: a duplicate from another session is a resumed or forked session's copy.
        # {record: [[session hash, anchor, sequence]]}: filed after record ``anchor`` was created, ``sequence``-th.
        self.sessions = {}
        self._sequence = 1
        self.pricing = table if table is not None else pricing_table()

    def __len__(self):
        return len(self.columns['flags'])

    # -- the index of message hashes --

    def _place(self, record):
        mask = len(self._table) - 1
        position = self.columns['message'][record] & mask
        while self._table[position] != -1:
            position = (position + 1) & mask
        self._table[position] = record

    def _index(self, record):
        if (self._used + 1) * 2 > len(self._table):
            # Placed again from the columns, this record included.
            self._rebuild()
            return
        self._place(record)
        self._used += 1

    def _same_message(self, message_hash):
        """Live records with this message hash, oldest first (ccusage looks them up in the order it kept them)."""
        mask = len(self._table) - 1
        position = message_hash & mask
        found = []
        messages, flags = self.columns['message'], self.columns['flags']
        while self._table[position] != -1:
            record = self._table[position]
            if messages[record] == message_hash and not flags[record] & DEAD:
                found.append(record)
            position = (position + 1) & mask
        return sorted(found)

    # -- records --

    def model_id(self, name):
        if name is None:
            return -1
        if name not in self._model_ids:
            self._model_ids[name] = len(self.models)
            self.models.append(name)
        return self._model_ids[name]

    def _widen(self, name, value):
        """The column ``name``, 64 bits wide when ``value`` does not fit its 32."""
        column = self.columns[name]
        if column.typecode in _WIDE and value > 0xFFFFFFFF:
            column = self.columns[name] = array(_WIDE[column.typecode], column)
        return column

    def _fit(self, values):
        # Only token counts can outgrow 32 bits (hashes are made to fit); one test spares the others.
        if max(values[_TOKENS]) > 0xFFFFFFFF:
            for name, value in zip(_NAMES[_TOKENS], values[_TOKENS]):
                self._widen(name, value)

    def _append(self, values):
        self._fit(values)
        columns = self.columns
        for name, value in zip(_NAMES, values):
            columns[name].append(value)
        return len(columns['flags']) - 1

    def _write(self, record, values):
        self._fit(values)
        columns = self.columns
        for name, value in zip(_NAMES, values):
            columns[name][record] = value

    def _values(self, record):
        columns = self.columns
        return tuple(columns[name][record] for name in _NAMES)

    def _cost(self, values):
        """The cost ccusage compares duplicates by: fast mode is its model's price times ccusage's multiplier."""
        model = values[_MODEL]
        name = self.models[model] if model >= 0 else None
        multiplier = 1.0
        if name is not None and name.endswith('-fast') and model_price(name, self.pricing)[1] is None:
            name = name[:-len('-fast')]
            multiplier = FAST_MULTIPLIER.get(model_price(name, self.pricing)[0], 1.0)
        dummy, prices = model_price(name, self.pricing) if name is not None else (None, None)
        return multiplier * (cost_usd(prices, *values[_TOKENS]) or 0.0)

    def _replaces(self, candidate, existing):
        """ccusage's should_replace of two records' values: non-sidechain first, then more tokens, then dearer, then
        the one with a speed."""
        if (candidate[_FLAGS] & SIDECHAIN) != (existing[_FLAGS] & SIDECHAIN):
            return bool(existing[_FLAGS] & SIDECHAIN)
        totals = sum(candidate[_TOKENS]), sum(existing[_TOKENS])
        if totals[0] != totals[1]:
            return totals[0] > totals[1]
        # The cost is the model's and the tokens': the same ones (an answer's further lines) cost the same.
        if candidate[_TOKENS] != existing[_TOKENS] or candidate[_MODEL] != existing[_MODEL]:
            costs = self._cost(candidate), self._cost(existing)
            if costs[0] != costs[1]:
                return costs[0] > costs[1]
        return bool(candidate[_FLAGS] & SPEED) and not existing[_FLAGS] & SPEED

    def add_answer(self, line, file_id, latency=None, file_session=None):
        """Keep a counted line as ccusage would: a new record, a replacement of its duplicate, or nothing.

        ``file_session`` is the session the file's path names, for a line without sessionId. Returns the record
        number the answer lives in (its own, or its duplicate's).
        """
        flags = COUNTED | (SIDECHAIN if line.sidechain else 0) | (SPEED if line.speed else 0)
        message_hash = request_hash = 0
        if line.message_id is not None:
            flags |= HAS_ID
            message_hash = _hash(line.message_id, 8)
        session = line.session if line.session is not None else file_session
        session_hash = _hash(session, 4) if session is not None else 0
        if line.request_id is not None:
            flags |= HAS_REQUEST
            request_hash = _hash(line.request_id, 4)
        else:
            # Without requestId, ccusage's key is the message id, the session and the instant of the line.
            request_hash = _hash('%s\n%d' % (session, line.timestamp), 4)
        if latency is not None:
            latency = min(max(int(latency), 0), _LATENCY_MAX)
        values = (message_hash, request_hash, session_hash, line.timestamp, line.input_tokens, line.output_tokens,
                  line.cache_creation_5m, line.cache_creation_1h, line.cache_read_input_tokens,
                  -1 if latency is None else latency, self.model_id(model_key(line)), file_id, flags)
        if not flags & HAS_ID:
            return self._append(values)
        existing = self._match(message_hash, request_hash, session_hash, flags)
        if existing is None:
            record = self._append(values)
            self._index(record)
            return record
        kept = self._values(existing)
        first_session, kept_latency = kept[_SESSION], kept[_LATENCY]
        columns = self.columns
        if self._replaces(values, kept):
            self._write(existing, values)
            columns['session'][existing] = first_session
            # The answer that began a task still does when a fuller copy of it replaces its figures.
            columns['flags'][existing] |= kept[_FLAGS] & TASK
        if kept_latency >= 0:
            # The answer's latency is its first line's; a later block or a copy has none of its own.
            columns['latency'][existing] = kept_latency
        elif values[_LATENCY] >= 0:
            columns['latency'][existing] = values[_LATENCY]
        others = self.sessions.get(existing, ())
        if session_hash != first_session and session_hash not in [other[0] for other in others]:
            self.sessions.setdefault(existing, []).append([session_hash, len(self) - 1, self._sequence])
            self._sequence += 1
        return existing

    def _match(self, message_hash, request_hash, session_hash, flags):
        same = self._same_message(message_hash)
        all_flags, requests, sessions = self.columns['flags'], self.columns['request'], self.columns['session']
        for record in same:
            if (all_flags[record] & HAS_REQUEST) == (flags & HAS_REQUEST) and requests[record] == request_hash:
                return record
        # /btw sidechain logs replay parent messages with new request IDs (ccusage's fallback), in the same session;
        # records are tried in the order they were filed under that session.
        filed = []
        for record in same:
            if sessions[record] == session_hash:
                filed.append(((record, 0), record))
            for other in self.sessions.get(record, ()):
                if other[0] == session_hash:
                    filed.append(((other[1], other[2]), record))
        for dummy, record in sorted(filed):
            if flags & SIDECHAIN or all_flags[record] & SIDECHAIN:
                return record
        return None

    def mark_task(self, record):
        """Count the answer in ``record`` as the start of a task (once, whatever copies of the prompt lead to it)."""
        self.columns['flags'][record] |= TASK

    def add_error(self, timestamp, model, sidechain, file_id):
        self._append((0, 0, 0, timestamp, 0, 0, 0, 0, 0, -1, self.model_id(model), file_id,
                      API_ERROR | (SIDECHAIN if sidechain else 0)))

    def adopt_errors(self, file_id, count, model):
        """Count the last ``count`` API errors of file ``file_id`` filed under ``<synthetic>`` under ``model``."""
        synthetic = self._model_ids.get(SYNTHETIC)
        if synthetic is None:
            return
        files, flags, models = self.columns['file'], self.columns['flags'], self.columns['model']
        target = self.model_id(model)
        # Newest first: the file's records are at the end while it is read, or (read on from a state) further back.
        for record in range(len(flags) - 1, -1, -1):
            if count == 0:
                return
            if (files[record] == file_id and models[record] == synthetic and flags[record] & API_ERROR
                    and not flags[record] & DEAD):
                models[record] = target
                count -= 1

    def drop_files(self, file_ids):
        """Forget what these files contributed (each is read again from its start, or is gone), in one pass."""
        file_ids = set(file_ids)
        if not file_ids:
            return
        files, flags = self.columns['file'], self.columns['flags']
        for record in range(len(flags)):
            if files[record] in file_ids:
                flags[record] |= DEAD

    # -- state --

    def compact(self, index=True):
        """Drop dead records, in place (no second copy of the columns), and rebuild the index unless told not to."""
        flags = self.columns['flags']
        if not any(flag & DEAD for flag in flags):
            if index:
                self._rebuild()
            return
        kept = 0
        moved = {}
        # Anchors name records; each becomes the last live record at or before it (-1 when none), keeping the order.
        anchors = sorted(set(other[1] for others in self.sessions.values() for other in others))
        renamed = {}
        for record in range(len(flags)):
            if not flags[record] & DEAD:
                if kept != record:
                    for column in self.columns.values():
                        column[kept] = column[record]
                if record in self.sessions:
                    moved[record] = kept
                kept += 1
            while anchors and anchors[0] <= record:
                renamed[anchors.pop(0)] = kept - 1
        for column in self.columns.values():
            del column[kept:]
        self.sessions = dict(
            (moved[record], [[other[0], renamed.get(other[1], kept - 1), other[2]] for other in others])
            for record, others in self.sessions.items() if record in moved)
        if index:
            self._rebuild()

    def _rebuild(self):
        size = 1024
        live = sum(1 for flag in self.columns['flags'] if flag & HAS_ID and not flag & DEAD)
        while size < live * 2 + 2:
            size *= 2
        self._table = array('i', [-1]) * size
        self._used = 0
        flags = self.columns['flags']
        for record in range(len(flags)):
            if flags[record] & HAS_ID and not flags[record] & DEAD:
                self._place(record)
                self._used += 1

    def to_state(self):
        """The ledger as a JSON-serialisable dict. It empties the ledger, column by column, so that the ledger and its
        encoding are never both in memory whole."""
        self._table = array('i')
        self.compact(index=False)
        count = len(self)
        columns, types = {}, {}
        for name, dummy in _COLUMNS:
            column = self.columns.pop(name)
            types[name] = column.typecode
            # Level 1: a fifth of level 6's time for a few percent more bytes; the state is rewritten every run.
            columns[name] = base64.b64encode(zlib.compress(column.tobytes(), 1)).decode('ascii')
            del column
        return {'count': count, 'byteorder': sys.byteorder, 'columns': columns, 'types': types,
                'sequence': self._sequence,
                'sessions': [[record, others] for record, others in sorted(self.sessions.items())]}

    @classmethod
    def from_state(cls, state, models, table):
        """The ledger a to_state() dict describes; raises ValueError when it does not fit together."""
        ledger = cls(models, table)
        if state.get('byteorder') != sys.byteorder:
            raise ValueError('written on a host of another byte order')
        count = state['count']
        for name, code in _COLUMNS:
            code = state.get('types', {}).get(name, code)
            if code not in (dict(_COLUMNS)[name], _WIDE.get(dict(_COLUMNS)[name])):
                raise ValueError('column %s has type %r' % (name, code))
            column = array(code)
            column.frombytes(zlib.decompress(base64.b64decode(state['columns'][name])))
            if len(column) != count:
                raise ValueError('column %s has %d records, not %d' % (name, len(column), count))
            ledger.columns[name] = column
        if any(model >= len(models) for model in ledger.columns['model']):
            raise ValueError('a record names a model the state does not list')
        ledger.sessions = dict((int(record), [[int(value) for value in other] for other in others])
                               for record, others in state.get('sessions', []) if 0 <= int(record) < count)
        ledger._sequence = int(state.get('sequence', 1))
        ledger._rebuild()
        return ledger


# --- reading files ----------------------------------------------------------------------------------------

def find_transcripts(config_dirs):
    """(paths, warnings): every ``*.jsonl`` under each directory's ``projects/``, sorted as ccusage sorts them.

    As ccusage: a directory that is itself ``projects`` is taken as it is, links are not followed.
    """
    paths, warnings, seen = [], [], set()
    for directory in config_dirs:
        projects = os.path.join(directory, 'projects')
        if not os.path.isdir(projects) and os.path.basename(os.path.normpath(directory)) == 'projects':
            projects = directory
        if not os.path.isdir(projects):
            warnings.append('%s has no projects directory; no Claude Code transcripts there' % directory)
            continue
        projects = os.path.abspath(projects)
        if projects in seen:
            continue
        seen.add(projects)
        for root, dummy, files in os.walk(projects):
            for name in files:
                path = os.path.join(root, name)
                if name.endswith('.jsonl') and name != '.jsonl' and not os.path.islink(path) and os.path.isfile(path):
                    paths.append(path)
    return sorted(paths), warnings


def path_session(path):
    """The session a transcript's path names, as ccusage's extract_session_parts finds it.

    Below the first ``projects`` component: ``<project>/<session>.jsonl``, ``.../<session>/subagents/<file>``,
    else the directory the file is in.
    """
    parts = [part for part in path.split(os.sep) if part not in ('', '.')]
    if 'projects' in parts:
        parts = parts[parts.index('projects') + 1:]
    if len(parts) == 2 and parts[1].endswith('.jsonl') and len(parts[1]) > len('.jsonl'):
        return parts[1][:-len('.jsonl')]
    if len(parts) >= 4 and parts[-2] == 'subagents':
        return parts[-3]
    return parts[max(len(parts) - 2, 0)] if parts else 'unknown'


def _tail_digest(handle, offset):
    start = max(0, offset - _TAIL)
    handle.seek(start)
    return hashlib.sha256(handle.read(offset - start)).hexdigest()


def read_segment(path, start, end, aligned, last):
    """(facts, offset, torn, tail, error) of the lines of ``path`` that begin in [start, end).

    ``facts`` are their parse_line() results (None left out), ``offset`` is where the last whole line ends. A line
    still being written (no newline yet) stops the reading: ``torn``. Unless ``aligned`` (``start`` is known to begin
    a line), the line ``start`` falls into belongs to the segment before. ``tail`` is the digest of the bytes before
    ``offset`` for the file's last segment (or a torn one), ``error`` the reason the file could not be read.
    """
    facts = []
    append = facts.append
    try:
        with open(path, 'rb') as handle:
            handle.seek(start if aligned else start - 1)
            offset = start if aligned else start - 1 + len(handle.readline())
            torn = False
            readline = handle.readline
            while offset < end:
                line = readline()
                if line[-1:] != b'\n':
                    torn = True
                    break
                offset += len(line)
                parsed = parse_line(line[:-1])
                if parsed is not None:
                    append(parsed)
            tail = _tail_digest(handle, offset) if last or torn else None
    except (IOError, OSError) as exc:
        return [], start, True, None, exc.strerror or str(exc)
    return facts, offset, torn, tail, None


def _read_batch(batch):
    """read_segment() of each segment, its facts as plain tuples: a third of the cost of pickling Lines."""
    results = []
    for segment in batch:
        facts, offset, torn, tail, error = read_segment(*segment)
        results.append((list(map(tuple, facts)), offset, torn, tail, error))
    return results


def _batches(plans):
    """The segments of the planned files, in order, in batches of about _SEGMENT bytes (many small files make one)."""
    batch, size = [], 0
    for plan in plans:
        for segment in plan['segments']:
            batch.append(segment)
            size += segment[2] - segment[1]
            if size >= _SEGMENT:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def _workers(pending):
    """How many processes to read ``pending`` bytes with: 1 (this one) unless there is enough to share out."""
    if pending < _PARALLEL_MIN:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return min(cpus, _WORKERS_MAX)


def _batch_results(batches, workers):
    """The results of each batch, in order: read by ``workers`` forked processes, or here.

    Without fork or a process pool (no /dev/shm), or once a worker died or could not be forked, batches are read
    here: the results are the same. At most a few batches wait for the caller, so memory stays bounded whatever the
    size of the transcripts.
    """
    pool = None
    if workers > 1:
        try:
            pool = concurrent.futures.ProcessPoolExecutor(workers, multiprocessing.get_context('fork'))
        except (ImportError, OSError, ValueError):
            pool = None
    usable = pool is not None
    window = collections.deque()
    try:
        for batch in batches:
            future = None
            if usable:
                try:
                    future = pool.submit(_read_batch, batch)
                except (concurrent.futures.process.BrokenProcessPool, OSError):
                    usable = False
            window.append((batch, future))
            while len(window) > 2 * workers:
                yield _finished(*window.popleft())
        while window:
            yield _finished(*window.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _finished(batch, future):
    """The results of a batch: its worker's, or read here when it has none (or it died)."""
    if future is not None:
        try:
            return future.result()
        except concurrent.futures.process.BrokenProcessPool:
            pass
    return _read_batch(batch)


class _Reader(object):
    """Reads each transcript from where the last run stopped, into a Ledger.

    Files are read in the order of their paths, each line's facts applied in the order of the lines, whether the
    parsing was shared out between processes or not: only parsing is, de-duplication happens here.
    """

    def __init__(self, ledger, files, next_file):
        self.ledger = ledger
        self.files = files
        self.next_file = next_file
        self.bytes_read = 0
        self.warnings = []

    def _start_over(self, path, status):
        previous = self.files.get(path)
        if previous is not None:
            self.ledger.drop_files([previous['id']])
        entry = {'id': self.next_file, 'dev': status.st_dev, 'ino': status.st_ino, 'size': 0, 'offset': 0,
                 'tail': None, 'last_user': None, 'last_model': None, 'prompt': False, 'orphans': 0}
        self.next_file += 1
        self.files[path] = entry
        return entry

    def _plan(self, path):
        """What to read of ``path``: from its offset, or (new, replaced, truncated or rewritten) anew; None when it
        cannot be opened."""
        try:
            handle = open(path, 'rb')
        except (IOError, OSError) as exc:
            self.warnings.append('%s cannot be read: %s' % (path, exc.strerror or exc))
            return None
        with handle:
            status = os.fstat(handle.fileno())
            entry = self.files.get(path)
            anew = (entry is None or (entry['dev'], entry['ino']) != (status.st_dev, status.st_ino)
                    or status.st_size < entry['offset'] or _tail_digest(handle, entry['offset']) != entry['tail'])
            start = 0 if anew else entry['offset']
            starts = list(range(start, status.st_size, _SEGMENT))
            segments = [(path, first, min(first + _SEGMENT, status.st_size), first == start,
                         first + _SEGMENT >= status.st_size) for first in starts]
            # Nothing new: the tail stays what it is (just checked, or that of an empty file).
            tail = None if segments else entry['tail'] if not anew else _tail_digest(handle, 0)
        return {'path': path, 'status': status, 'anew': anew, 'segments': segments, 'tail': tail}

    def read(self, paths):
        plans = [plan for plan in (self._plan(path) for path in paths) if plan is not None]
        pending = sum(segment[2] - segment[1] for plan in plans for segment in plan['segments'])
        results = itertools.chain.from_iterable(_batch_results(_batches(plans), _workers(pending)))
        for plan in plans:
            path, status = plan['path'], plan['status']
            # Started over only now, in the order of the paths: dropped records must not absorb earlier files' lines.
            entry = self._start_over(path, status) if plan['anew'] else self.files[path]
            file_session = path_session(path)
            start, tail, stopped = entry['offset'], plan['tail'], False
            for dummy in plan['segments']:
                facts, offset, torn, segment_tail, error = next(results)
                if stopped:
                    continue
                for parsed in map(Line._make, facts):
                    self._apply(entry, file_session, parsed)
                entry['offset'], tail, stopped = offset, segment_tail, torn
                if error is not None:
                    self.warnings.append('%s cannot be read: %s' % (path, error))
            self.bytes_read += entry['offset'] - start
            entry['size'] = status.st_size
            entry['tail'] = tail

    def _apply(self, entry, file_session, parsed):
        """What one line of a file says, in the ledger and the file's entry (its wait, prompt and model)."""
        ledger = self.ledger
        if parsed.kind == USER:
            entry['last_user'] = parsed.timestamp
            if parsed.prompt:
                entry['prompt'] = True
            return
        latency = None
        task = False
        if parsed.assistant:
            if entry['last_user'] is not None and parsed.timestamp >= entry['last_user']:
                latency = parsed.timestamp - entry['last_user']
            entry['last_user'] = None
            # Only the first answer after a prompt begins its task; a prompt answered by an error begins none.
            task = entry.get('prompt', False) and not parsed.sidechain
            entry['prompt'] = False
        if parsed.kind == ENTRY:
            record = ledger.add_answer(parsed, entry['id'], latency, file_session)
            if parsed.assistant and model_key(parsed) is not None:
                entry['last_model'] = model_key(parsed)
                if entry.get('orphans'):
                    ledger.adopt_errors(entry['id'], entry['orphans'], entry['last_model'])
                    entry['orphans'] = 0
                if task:
                    ledger.mark_task(record)
        if parsed.api_error:
            model = parsed.model if parsed.model not in (None, SYNTHETIC) else entry['last_model']
            if model is None:
                # The session's first request failed: its model is that of the answer its retry gets, if any.
                entry['orphans'] = entry.get('orphans', 0) + 1
            ledger.add_error(parsed.timestamp, model or SYNTHETIC, parsed.sidechain, entry['id'])


# --- figures ----------------------------------------------------------------------------------------------

def _figures(counts, prices):
    """The result dict of one model (or the totals) from [requests, in, out, 5m, 1h, read, errors]."""
    figures = dict(zip(FIGURES, (counts[0], counts[1], counts[2], counts[3] + counts[4], counts[5], counts[6])))
    # No tokens cost nothing, priced or not: API errors alone (under <synthetic>) must not make a sum unknown.
    figures['cost_usd'] = cost_usd(prices, counts[1], counts[2], counts[3], counts[4], counts[5]) if any(
        counts[1:6]) else 0.0
    return figures


def _percentile(ordered, percent):
    """Nearest rank: the smallest sample with at least ``percent`` % of the samples at or below it."""
    return ordered[max(0, int(math.ceil(percent / 100.0 * len(ordered))) - 1)]


class _Tally(object):
    """Sums per model, per agent and per day of the live records inside a window."""

    def __init__(self, ledger, table, since, until, by_day):
        self.ledger, self.table = ledger, table
        self.models = collections.defaultdict(lambda: [0] * 7)
        self.agents = dict((agent, collections.defaultdict(lambda: [0] * 7)) for agent in (MAIN, SUBAGENTS))
        self.totals = [0] * 7
        self.days = collections.defaultdict(lambda: collections.defaultdict(lambda: [0] * 7))
        self.day_totals = collections.defaultdict(lambda: [0] * 7)
        self.latency = collections.defaultdict(lambda: array('i'))
        self.tasks = collections.defaultdict(int)
        self._sum(since, until, by_day)

    def _sum(self, since, until, by_day):
        groups = self._groups(since, until, by_day)
        names = self.ledger.models
        day_names = {}
        for (model, sidechain, number), counts in groups.items():
            name = names[model] if model >= 0 else None
            # ccusage's totals take an answer without a model too (not as a request); its breakdowns do not.
            overall = [self.totals]
            per_model = []
            if name is not None:
                per_model = [self.models[name], self.agents[SUBAGENTS if sidechain else MAIN][name]]
            if by_day:
                day = day_names.get(number)
                if day is None:
                    day = day_names[number] = utc_day(number * _MS_PER_DAY)
                overall.append(self.day_totals[day])
                if name is not None:
                    per_model.append(self.days[day][name])
            for sums in overall + per_model:
                for position, value in enumerate(counts):
                    sums[position] += value

    def _groups(self, since, until, by_day):
        """The counts of the live records in the window per (model, sidechain, day number or None), in one pass over
        the columns; latency samples and tasks per model on the way."""
        columns = self.ledger.columns
        names = self.ledger.models
        groups = collections.defaultdict(lambda: [0] * 7)
        records = zip(columns['flags'], columns['time'], columns['model'], columns['latency'], columns['input'],
                      columns['output'], columns['cache_5m'], columns['cache_1h'], columns['cache_read'])
        for flag, timestamp, model, latency, tokens_in, tokens_out, cache_5m, cache_1h, cache_read in records:
            if flag & DEAD or (since is not None and timestamp < since) or (until is not None and timestamp >= until):
                continue
            counts = groups[model, flag & SIDECHAIN, timestamp // _MS_PER_DAY if by_day else None]
            if flag & API_ERROR:
                counts[6] += 1
            if not flag & COUNTED:
                continue
            counts[1] += tokens_in
            counts[2] += tokens_out
            counts[3] += cache_5m
            counts[4] += cache_1h
            counts[5] += cache_read
            if model >= 0:
                counts[0] += 1
                if latency >= 0:
                    self.latency[names[model]].append(latency)
                if flag & TASK:
                    self.tasks[names[model]] += 1
        return groups

    def model_figures(self, group, warnings):
        result = {}
        for model in sorted(group):
            dummy, prices = model_price(model, self.table)
            result[model] = _figures(group[model], prices)
            if prices is None and any(group[model][1:6]):
                warnings.add('model %s is not in the pricing table (of %s); its cost_usd is null, it is priced as '
                             'no other model (extend the table with the option pricing)' % (model, PRICING_DATE))
        return result

    def total_figures(self, counts, models):
        figures = _figures(counts, None)
        costs = [entry['cost_usd'] for entry in models.values()]
        # An unpriced model makes the sum unknown rather than too low.
        figures['cost_usd'] = None if None in costs else round(sum(costs), 6)
        return figures

    def latency_figures(self):
        result = {}
        for model in sorted(self.latency):
            ordered = sorted(self.latency[model])
            result[model] = {'p50_ms': _percentile(ordered, 50), 'p95_ms': _percentile(ordered, 95),
                             'samples': len(ordered)}
        return result


def summarize(ledger, table, since=None, until=None, group_by='none'):
    """(result, warnings) of the ledger's live records with since <= time < until (ms, either None)."""
    warnings = set()
    tally = _Tally(ledger, table, since, until, group_by == 'day')
    models = tally.model_figures(tally.models, warnings)
    result = {
        'models': models,
        'totals': tally.total_figures(tally.totals, models),
        'by_agent': dict((agent, tally.model_figures(group, warnings)) for agent, group in tally.agents.items()),
        'latency': tally.latency_figures(),
    }
    if group_by == 'day':
        result['days'] = {}
        for day in sorted(tally.day_totals):
            day_models = tally.model_figures(tally.days[day], warnings)
            result['days'][day] = {'models': day_models,
                                   'totals': tally.total_figures(tally.day_totals[day], day_models)}
    return result, sorted(warnings)


# --- before and after a rollout ---------------------------------------------------------------------------

def last_complete_rollout(lines):
    """(entry, bad) of the rollout history's lines (str): the last line with ``result: complete`` and a readable
    ``time``, or None, and how many lines could not be read.

    A rolled-back rollout changed nothing that stayed, so it is no boundary. The history is appended to with one
    write a line; a torn last line (no newline, or cut JSON) is skipped like any line that is not an object.
    """
    found, bad = None, 0
    for text in lines:
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except ValueError:
            bad += 1
            continue
        if not isinstance(entry, dict) or _history_time(entry.get('time')) is None:
            bad += 1
            continue
        if entry.get('result') == 'complete':
            found = entry
    return found, bad


def _history_time(text):
    """ms since the epoch of a history line's time (``2026-11-30T08:00:00Z``), None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        return parse_bound(text)
    except UsageError:
        return None


def read_history(path):
    """(last complete rollout or None, warnings) of the rollout history file; a missing file is no rollout yet."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None, []
        return None, ['the rollout history %s cannot be read (%s)' % (path, exc.strerror or exc)]
    lines = data.decode('utf-8', 'replace').split('\n')
    entry, bad = last_complete_rollout(lines)
    warnings = []
    if bad:
        warnings.append('%d line(s) of the rollout history %s cannot be read and were skipped' % (bad, path))
    return entry, warnings


def comparison_windows(rollout, now, window_days):
    """{before: (since, until), after: (since, until)} in ms around ``rollout`` (a history line), else None.

    before is [S - window_days, S), after [E, min(E + window_days, now)): S is when the rollout began (its line's
    ``started``), E when it ended, the second after its ``time`` (the history keeps whole seconds, rounded down).
    The rollout itself, whose verification already runs on the new model, counts in neither window. A line without
    ``started`` (written before it was recorded) begins at its ``time``. An after window that has not begun (E in
    the future of this host's clock) is empty, [E, E).
    """
    if rollout is None:
        return None
    ended = _history_time(rollout.get('time'))
    if ended is None:
        return None
    began = _history_time(rollout.get('started'))
    if began is None or began > ended:
        began = ended
    ended += 1000
    span = int(window_days * _MS_PER_DAY)
    return {'before': (began - span, began), 'after': (ended, max(ended, min(ended + span, now)))}


def derived_figures(figures, tasks, days):
    """tokens_per_task, cost_per_day and error_rate of one model's figures in a window of ``days`` (fractional).

    tokens_per_task is the four token counts over the tasks (null without a task), cost_per_day the cost over the
    days the window covers (null without a price or for an empty window), error_rate the API errors over every call
    that reached the API, answered or failed (null without a call).
    """
    tokens = sum(figures[name] for name in FIGURES[1:5])
    calls = figures['requests'] + figures['api_errors']
    cost = figures.get('cost_usd')
    return {
        'tokens_per_task': round(float(tokens) / tasks, 1) if tasks else None,
        'cost_per_day': round(cost / days, 6) if cost is not None and days > 0 else None,
        'error_rate': round(float(figures['api_errors']) / calls, 4) if calls else None,
    }


def window_figures(ledger, table, since, until):
    """(models, warnings): per model of the answers in [since, until), the figures of summarize(), latency, tasks
    and the derived figures, from one pass of _Tally over the ledger."""
    warnings = set()
    tally = _Tally(ledger, table, since, until, False)
    latency = tally.latency_figures()
    days = (until - since) / float(_MS_PER_DAY)
    models = tally.model_figures(tally.models, warnings)
    for model, figures in models.items():
        figures['tasks'] = tally.tasks.get(model, 0)
        figures['p50_ms'] = latency.get(model, {}).get('p50_ms')
        figures['p95_ms'] = latency.get(model, {}).get('p95_ms')
        figures.update(derived_figures(figures, figures['tasks'], days))
    return models, sorted(warnings)


def _iso_time(millis):
    return (_EPOCH + datetime.timedelta(milliseconds=millis)).strftime('%Y-%m-%dT%H:%M:%SZ')


def comparison(ledger, table, rollout, now, window_days):
    """(comparison, warnings): the rollout and the figures per model in the windows before and after it."""
    windows = comparison_windows(rollout, now, window_days)
    if windows is None:
        return {'rollout': None}, ['no completed rollout in the rollout history; nothing to compare']
    result, warnings = {'rollout': rollout, 'window_days': window_days}, []
    for name in ('before', 'after'):
        since, until = windows[name]
        models, model_warnings = window_figures(ledger, table, since, until)
        warnings += model_warnings
        result[name] = {'since': _iso_time(since), 'until': _iso_time(until),
                        'days': round((until - since) / float(_MS_PER_DAY), 4), 'models': models}
    return result, sorted(set(warnings))


# --- the whole run ----------------------------------------------------------------------------------------

def _ledger_from_state(state, table):
    """(ledger, files, next_file, warnings) of a state dict; a state that cannot be used starts over."""
    if not state:
        return Ledger(table=table), {}, 0, []
    try:
        if state.get('format') != STATE_FORMAT:
            raise ValueError('format %r, not %d' % (state.get('format'), STATE_FORMAT))
        models = [str(model) for model in state['models']]
        files = dict((str(path), dict(entry)) for path, entry in state['files'].items())
        for entry in files.values():
            for key in ('id', 'dev', 'ino', 'size', 'offset'):
                if not isinstance(entry.get(key), int):
                    raise ValueError('file entry without %s' % key)
        ledger = Ledger.from_state(state['ledger'], models, table)
        return ledger, files, int(state['next_file']), []
    except (AttributeError, KeyError, TypeError, ValueError, zlib.error, base64.binascii.Error) as exc:
        warning = 'the usage state cannot be used (%s); every transcript is read again' % (exc,)
        return Ledger(table=table), {}, 0, [warning]


def collect_usage(config_dirs, state=None, since=None, until=None, group_by='none', pricing=None, compare=False,
                  rollout=None, window_days=7, now=None):
    """Usage in the transcripts under ``config_dirs``, reading only what ``state`` has not seen.

    ``since``/``until`` are ISO 8601 bounds on the answers' timestamps (since inclusive, until exclusive),
    ``pricing`` overrides entries of PRICING. With ``compare``, the result's ``comparison`` holds the windows of
    ``window_days`` before and after ``rollout`` (a history line, or None), ``now`` (ms, default the clock) ending
    the one after; ``since``/``until`` do not apply to them. Returns (result, new state); raises UsageError for bad
    arguments.
    """
    if group_by not in GROUP_BY:
        raise UsageError('group_by must be one of %s, got %r' % (', '.join(GROUP_BY), group_by))
    if compare and (isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1):
        raise UsageError('window_days must be a whole number of days >= 1, got %r' % (window_days,))
    since_ms = parse_bound(since) if since not in (None, '') else None
    until_ms = parse_bound(until) if until not in (None, '') else None
    table = pricing_table(pricing)
    ledger, files, next_file, warnings = _ledger_from_state(state, table)
    # The encoded columns are not needed once decoded (the caller passes its only reference).
    state = None
    paths, found_warnings = find_transcripts(config_dirs)
    warnings += found_warnings
    present = set(paths)
    # Claude Code deletes old transcripts (cleanupPeriodDays); ccusage no longer counts them either.
    ledger.drop_files([files.pop(path)['id'] for path in [path for path in files if path not in present]])
    reader = _Reader(ledger, files, next_file)
    reader.read(paths)
    result, summary_warnings = summarize(ledger, table, since_ms, until_ms, group_by)
    if compare:
        if now is None:
            now = int(time.time() * 1000)
        result['comparison'], comparison_warnings = comparison(ledger, table, rollout, now, window_days)
        summary_warnings = sorted(set(summary_warnings) | set(comparison_warnings))
    result.update(files=len(paths), bytes_read=reader.bytes_read, pricing_date=PRICING_DATE,
                  warnings=warnings + reader.warnings + summary_warnings)
    new_state = {'format': STATE_FORMAT, 'models': ledger.models, 'files': files, 'next_file': reader.next_file,
                 'ledger': ledger.to_state()}
    return result, new_state
