# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Sending one task to the running agent and reading what the Claude Code CLI answered.

The agent is ``claude -p --input-format stream-json --output-format stream-json --verbose`` run by systemd:
it reads tasks as JSON lines from a FIFO (held open by ``jada-agent.socket``, so it never sees the end of its
input) and appends its JSON lines to an output file. Everything below was checked against Claude Code 2.1.328.

For a task whose ``uuid`` is U the CLI writes, in this order: ``command_lifecycle`` lines with ``command_uuid``
U (``queued``, then ``started`` once the previous task is done, then ``completed`` or ``cancelled``), a
``system``/``init`` line (the model it resolved), ``system``/``api_retry`` lines while the API fails, one or
more ``assistant`` lines with ``user_message_uuid`` U and finally a ``result`` line with ``user_message_uuid``
U. ``init`` and ``api_retry`` lines name no task: they belong to the task started last.

A result's ``duration_ms`` and ``model_usage_since_last_result`` are the task's own; its ``duration_api_ms``,
``total_cost_usd`` and ``modelUsage`` add up the session (one run of the CLI), whose results are counted by
``result_index`` (0 for the first).

Nothing here returns, raises or logs the prompt or any text of an answer: only models, counts, costs,
durations and the API's error codes leave this file.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import stat
import struct
import termios
import time
import uuid

DEFAULT_INBOX = '/run/jada-agent/tasks'
DEFAULT_OUTPUT = '/var/log/jada-agent/output.jsonl'
DEFAULT_LOCK = '/run/jada-agent/tasks.lock'
SOCKET_UNIT = 'jada-agent.socket'
SMOKE_PROMPT = 'Reply with the single word OK.'

# The model the CLI puts on the assistant line it makes up itself when the API call failed.
SYNTHETIC_MODEL = '<synthetic>'

# Up to this many bytes a write to a pipe is atomic (POSIX; 4096 on Linux).
PIPE_BUF = select.PIPE_BUF
# fcntl.F_GETPIPE_SZ only exists from Python 3.10 on; the number is Linux's.
F_GETPIPE_SZ = getattr(fcntl, 'F_GETPIPE_SZ', 1032)

READ_CHUNK = 65536
# An output line longer than this (an assistant line quoting a huge file) is skipped unread: nothing this file
# looks for is ever that long, and the wait must not hold an unbounded line in memory.
MAX_LINE = 16 * 1024 * 1024
TAIL_BYTES = 262144

# What an API status most likely means for an agent that worked before.
API_STATUS_MEANING = {
    400: 'the API refused the request as invalid (for example a setting the model does not support)',
    401: 'the API key is missing, invalid or revoked',
    403: 'the API key has no permission for this model or feature',
    404: 'the model does not exist for this account or region, or the account has no access to it',
    413: 'the request was too large for the API',
    429: 'a rate or usage limit of the account was hit',
    500: 'the API had an internal error',
    529: 'the API was overloaded',
}
# The "error" of api_retry lines, as the CLI names them.
RETRY_ERROR_MEANING = {
    'overloaded': 'the API was overloaded',
    'rate_limit': 'the API rate-limited the requests',
    'server_error': 'the API had internal errors',
    'authentication_failed': 'the API refused the API key',
}

_LABEL_MAX = 100


class TaskError(Exception):
    """The task could not be handed to the agent; the message names the path and the likely cause."""


def task_line(prompt, task_uuid):
    """The JSON line (newline included) that hands ``prompt`` to the agent as task ``task_uuid``.

    ASCII-only, so no byte of it can be a newline inside the prompt and its length in bytes is its length.
    """
    return json.dumps({'type': 'user', 'message': {'role': 'user', 'content': prompt}, 'uuid': task_uuid},
                      ensure_ascii=True, separators=(',', ':')) + '\n'


# --- submitting ----------------------------------------------------------------------------------------

def _lock(lock_path, deadline, clock, sleep):
    try:
        # Read-only is enough for flock, so a submitter that cannot write the lock file can still take it.
        fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise TaskError('cannot open the submit lock %s: %s' % (lock_path, exc.strerror))
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if clock() >= deadline:
                os.close(fd)
                raise TaskError('another submitter has held the submit lock %s for too long' % lock_path)
            sleep(0.05)


def _open_inbox(inbox, socket_unit):
    try:
        # Non-blocking, so that a FIFO without reader fails at once (ENXIO) instead of hanging the task.
        fd = os.open(inbox, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise TaskError('nobody reads the agent inbox %s: the socket unit %s is not running '
                            '(it keeps the FIFO open for the agent)' % (inbox, socket_unit))
        if exc.errno == errno.ENOENT:
            raise TaskError('the agent inbox %s does not exist: the socket unit %s is not running '
                            '(it creates the FIFO)' % (inbox, socket_unit))
        raise TaskError('cannot open the agent inbox %s: %s' % (inbox, exc.strerror))
    if not stat.S_ISFIFO(os.fstat(fd).st_mode):
        os.close(fd)
        raise TaskError('the agent inbox %s is not a FIFO: the socket unit %s did not create it' % (inbox, socket_unit))
    return fd


def pipe_backlog(fd):
    """Bytes written into the pipe of ``fd`` and not read yet."""
    buf = fcntl.ioctl(fd, termios.FIONREAD, struct.pack('i', 0))
    return struct.unpack('i', buf)[0]


def _write_line(fd, data, inbox, deadline, clock, sleep):
    # A line written in two parts would be one broken JSON line for the CLI: wait until the pipe has room for
    # all of it, then write it at once.
    capacity = fcntl.fcntl(fd, F_GETPIPE_SZ)
    if len(data) > capacity:
        raise TaskError('the task line has %d bytes, more than the agent inbox %s can hold (%d)' % (
            len(data), inbox, capacity))
    while True:
        backlog = pipe_backlog(fd)
        if capacity - backlog >= len(data):
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                written = 0
            if written == len(data):
                return
            if written:
                raise TaskError('only %d of %d bytes of the task line went into the agent inbox %s' % (
                    written, len(data), inbox))
        if clock() >= deadline:
            raise TaskError('the agent inbox %s is full (%d bytes unread): the agent does not read its tasks' % (
                inbox, backlog))
        sleep(0.05)


def submit(inbox, line, lock_path=DEFAULT_LOCK, socket_unit=SOCKET_UNIT, timeout=10.0,
           clock=time.monotonic, sleep=time.sleep):
    """Write one task line into the agent's FIFO ``inbox``, in one write.

    ``lock_path`` is flocked exclusively around the write so that concurrent submitters never interleave.
    Without a lock (``lock_path=None``) only lines up to PIPE_BUF bytes are accepted: only those are atomic.
    Raises TaskError when nobody reads the FIFO, it is missing, or it stays full for ``timeout`` seconds.
    """
    data = line.encode('utf-8') if not isinstance(line, bytes) else line
    if not data.endswith(b'\n') or b'\n' in data[:-1]:
        raise ValueError('a task line is exactly one line ending in a newline')
    if lock_path is None and len(data) > PIPE_BUF:
        raise TaskError('the task line has %d bytes, more than PIPE_BUF (%d): without the submit lock another '
                        'writer could interleave with it in %s' % (len(data), PIPE_BUF, inbox))
    deadline = clock() + timeout
    lock_fd = _lock(lock_path, deadline, clock, sleep) if lock_path is not None else None
    try:
        fd = _open_inbox(inbox, socket_unit)
        try:
            _write_line(fd, data, inbox, deadline, clock, sleep)
        finally:
            os.close(fd)
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


def inbox_backlog(inbox):
    """Bytes of tasks in the FIFO ``inbox`` that nobody read yet, or None when it cannot be opened."""
    try:
        fd = os.open(inbox, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
        return pipe_backlog(fd)
    finally:
        os.close(fd)


# --- reading the answer ----------------------------------------------------------------------------------

def _label(value):
    """A short identifier out of the CLI's output (a model, an error code), or None for anything else."""
    if isinstance(value, str) and value:
        return value[:_LABEL_MAX]
    return None


def _int(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _decode(line):
    if isinstance(line, bytes):
        line = line.decode('utf-8', 'replace')
    line = line.strip()
    if not line.startswith('{'):
        return None
    try:
        document = json.loads(line)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _usage(model_usage):
    """Per model: tokens and cost of one ``modelUsage``-shaped dict."""
    usage = {}
    if not isinstance(model_usage, dict):
        return usage
    for model, counts in model_usage.items():
        if not isinstance(counts, dict):
            continue
        usage[model[:_LABEL_MAX]] = {
            'input_tokens': _int(counts.get('inputTokens')) or 0,
            'output_tokens': _int(counts.get('outputTokens')) or 0,
            'cache_creation_input_tokens': _int(counts.get('cacheCreationInputTokens')) or 0,
            'cache_read_input_tokens': _int(counts.get('cacheReadInputTokens')) or 0,
            'cost_usd': _number(counts.get('costUSD')) or 0,
        }
    return usage


def _no_retries():
    return {'count': 0, 'attempt': None, 'max_retries': None, 'error': None, 'error_status': None}


def _session_mark(document):
    """(session_id, (result_index, duration_api_ms)) of a result line."""
    return document.get('session_id'), (_int(document.get('result_index')), _int(document.get('duration_api_ms')))


def session_marks(lines):
    """Per session of the CLI, (result_index, duration_api_ms) of its latest result in ``lines``.

    ``duration_api_ms`` adds up the session: a task's own is the difference to the result before it.
    """
    marks = {}
    for line in lines:
        document = _decode(line)
        if document is not None and document.get('type') == 'result':
            session, mark = _session_mark(document)
            marks[session] = mark
    return marks


def _own_api_ms(mark, previous):
    index, api_ms = mark
    if index == 0 or api_ms is None:
        return api_ms
    if index is not None and previous is not None and previous[0] == index - 1 and previous[1] is not None:
        return api_ms - previous[1]
    # The session's result before this one was not seen: the task's own share is unknown.
    return None


class Scanner(object):
    """Follows the CLI's output lines for one task; ``summary()`` is what ``scan`` returns.

    ``marks`` are ``session_marks`` of the output before the lines fed, for the task's own ``duration_api_ms``.
    """

    def __init__(self, task_uuid, marks=None):
        self.task_uuid = task_uuid
        self.marks = dict(marks or {})
        self.done = False
        self.state = None
        self.is_error = None
        self.api_error_status = None
        self.api_error_type = None
        self.subtype = None
        self.terminal_reason = None
        self.models = set()
        self.init_model = None
        self.usage = None
        self.duration_ms = None
        self.duration_api_ms = None
        self.retries = _no_retries()
        # None while no lifecycle line of the task was seen: CLIs without them have one task at a time.
        self._running = None

    def feed(self, line):
        if self.done:
            return
        document = _decode(line)
        if document is None:
            return
        kind = document.get('type')
        if kind == 'command_lifecycle':
            self._lifecycle(document)
        elif kind == 'system' and self._running is not False:
            self._system(document)
        elif kind == 'assistant' and document.get('user_message_uuid') == self.task_uuid:
            self._assistant(document)
        elif kind == 'result' and document.get('user_message_uuid') == self.task_uuid:
            self._result(document)
        elif kind == 'result':
            session, mark = _session_mark(document)
            self.marks[session] = mark

    def _lifecycle(self, document):
        if document.get('command_uuid') != self.task_uuid:
            return
        self.state = _label(document.get('state'))
        if self.state in ('queued', 'started'):
            # What came before belonged to the task the CLI was working on until now.
            self._running = self.state == 'started'
            self.init_model = None
            self.retries = _no_retries()

    def _system(self, document):
        subtype = document.get('subtype')
        if subtype == 'init':
            self.init_model = _label(document.get('model')) or self.init_model
        elif subtype == 'api_retry':
            self.retries = {
                'count': self.retries['count'] + 1,
                'attempt': _int(document.get('attempt')),
                'max_retries': _int(document.get('max_retries')),
                'error': _label(document.get('error')),
                'error_status': _int(document.get('error_status')),
            }

    def _assistant(self, document):
        message = document.get('message')
        model = _label(message.get('model')) if isinstance(message, dict) else None
        if model and model != SYNTHETIC_MODEL:
            self.models.add(model)
        # The result repeats these; an assistant line is all there is when the result never comes.
        if document.get('api_error_status') is not None:
            self.api_error_status = _int(document.get('api_error_status'))
            self.api_error_type = _label(document.get('api_error_type'))

    def _result(self, document):
        self.done = True
        self.is_error = bool(document.get('is_error'))
        if 'api_error_status' in document:
            self.api_error_status = _int(document.get('api_error_status'))
            self.api_error_type = _label(document.get('api_error_type'))
        self.subtype = _label(document.get('subtype'))
        self.terminal_reason = _label(document.get('terminal_reason'))
        # total_cost_usd and modelUsage add up the whole session; this field is the task alone.
        if 'model_usage_since_last_result' in document:
            self.usage = _usage(document.get('model_usage_since_last_result'))
        self.duration_ms = _int(document.get('duration_ms'))
        session, mark = _session_mark(document)
        self.duration_api_ms = _own_api_ms(mark, self.marks.get(session))

    def summary(self):
        usage = self.usage or {}
        return {
            'done': self.done,
            'state': self.state,
            'is_error': self.is_error,
            'api_error_status': self.api_error_status,
            'api_error_type': self.api_error_type,
            'subtype': self.subtype,
            'terminal_reason': self.terminal_reason,
            'answered_by': sorted(self.models),
            'init_model': self.init_model,
            'usage': usage,
            'cost_usd': round(sum(item['cost_usd'] for item in usage.values()), 8) if self.usage is not None else None,
            'duration_ms': self.duration_ms,
            'duration_api_ms': self.duration_api_ms,
            'retries': dict(self.retries),
        }


def scan(lines, task_uuid, marks=None):
    """What the decoded output ``lines`` say about task ``task_uuid``; lines that are not JSON are skipped.

    Keys: done (its result line was seen), state (its last lifecycle state), is_error, api_error_status,
    api_error_type, subtype, terminal_reason, answered_by (models of its assistant lines, sorted, without
    the CLI's ``<synthetic>``), init_model, usage (per model, this task only), cost_usd, duration_ms,
    duration_api_ms (the task's own; None when the session's result before it is neither in ``lines`` nor in
    ``marks``) and retries (count, attempt, max_retries, error, error_status of the last api_retry line).
    """
    scanner = Scanner(task_uuid, marks)
    for line in lines:
        scanner.feed(line)
    return scanner.summary()


class _Follower(object):
    """Reads the lines appended to a file after an offset, a bounded chunk at a time."""

    def __init__(self, path, offset, chunk_size=READ_CHUNK, max_line=MAX_LINE):
        self.path = path
        self.position = offset
        self.chunk_size = chunk_size
        self.max_line = max_line
        self._partial = b''
        self._skipping = False

    def lines(self):
        try:
            handle = open(self.path, 'rb')
        except FileNotFoundError:
            return
        except OSError as exc:
            raise TaskError('cannot read the agent output %s: %s' % (self.path, exc.strerror))
        with handle:
            if os.fstat(handle.fileno()).st_size < self.position:
                # Truncated (copytruncate) or replaced: what is in it now was all written after the offset.
                self.position = 0
                self._partial = b''
                self._skipping = False
            handle.seek(self.position)
            while True:
                chunk = handle.read(self.chunk_size)
                if not chunk:
                    return
                self.position += len(chunk)
                yield from self._split(chunk)

    def _split(self, chunk):
        pieces = chunk.split(b'\n')
        pieces[0] = self._partial + pieces[0]
        self._partial = pieces.pop()
        for piece in pieces:
            if self._skipping:
                self._skipping = False
                continue
            yield piece.decode('utf-8', 'replace')
        if len(self._partial) > self.max_line:
            self._partial = b''
            self._skipping = True


def output_size(path):
    """The size of the output file now (0 when it does not exist yet): the offset to wait from."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def wait_for_result(output_path, offset, task_uuid, timeout, poll=0.2, clock=time.monotonic, sleep=time.sleep,
                    chunk_size=READ_CHUNK, max_line=MAX_LINE, marks=None):
    """Follow ``output_path`` from byte ``offset`` until the result of ``task_uuid`` or ``timeout`` seconds.

    ``offset`` is the file's size taken before the task was submitted, ``marks`` the ``session_marks`` of the
    output before it. Returns ``scan``'s dict plus ``timed_out``.
    """
    scanner = Scanner(task_uuid, marks)
    follower = _Follower(output_path, offset, chunk_size=chunk_size, max_line=max_line)
    deadline = clock() + timeout
    while True:
        for line in follower.lines():
            scanner.feed(line)
            if scanner.done:
                break
        if scanner.done:
            break
        now = clock()
        if now >= deadline:
            break
        sleep(min(poll, deadline - now))
    result = scanner.summary()
    result['timed_out'] = not scanner.done
    return result


def run_task(prompt, inbox=DEFAULT_INBOX, output=DEFAULT_OUTPUT, lock=DEFAULT_LOCK, timeout=60.0, task_uuid=None,
             socket_unit=SOCKET_UNIT, poll=0.2, clock=time.monotonic, sleep=time.sleep):
    """Submit ``prompt`` as a new task and wait for its result: ``wait_for_result``'s dict plus ``task_uuid``
    and, when it timed out, ``inbox_backlog`` (bytes of tasks nobody read, None when unknown).

    Raises TaskError when the task cannot be submitted.
    """
    task_uuid = task_uuid or str(uuid.uuid4())
    offset = output_size(output)
    marks = session_marks(tail_lines(output, end=offset))
    submit(inbox, task_line(prompt, task_uuid), lock_path=lock, socket_unit=socket_unit,
           timeout=min(timeout, 10.0), clock=clock, sleep=sleep)
    result = wait_for_result(output, offset, task_uuid, timeout, poll=poll, clock=clock, sleep=sleep, marks=marks)
    result['task_uuid'] = task_uuid
    result['inbox_backlog'] = inbox_backlog(inbox) if result['timed_out'] else None
    return result


# --- the latest answer, from the tail of the output ---------------------------------------------------------

def latest_answer(lines):
    """The latest answer in decoded output ``lines``, or None when there is no JSON line at all.

    Keys: task_uuid, is_error, api_error_status, api_error_type, models (of the latest result: the keys of
    model_usage_since_last_result, else of modelUsage; None without a result line), assistant_models and
    assistant_timestamp (of the latest assistant lines, those of one task, without ``<synthetic>``) and
    init_model (of the latest init line).
    """
    seen = False
    answer = {
        'task_uuid': None, 'is_error': None, 'api_error_status': None, 'api_error_type': None, 'models': None,
        'assistant_models': [], 'assistant_timestamp': None, 'init_model': None,
    }
    assistant_task = None
    assistant_models = set()
    for line in lines:
        document = _decode(line)
        if document is None:
            continue
        seen = True
        kind = document.get('type')
        if kind == 'system' and document.get('subtype') == 'init':
            answer['init_model'] = _label(document.get('model')) or answer['init_model']
        elif kind == 'assistant':
            task = document.get('user_message_uuid')
            if task != assistant_task:
                assistant_task = task
                assistant_models = set()
            message = document.get('message')
            model = _label(message.get('model')) if isinstance(message, dict) else None
            if model and model != SYNTHETIC_MODEL:
                assistant_models.add(model)
            answer['assistant_models'] = sorted(assistant_models)
            answer['assistant_timestamp'] = _label(document.get('timestamp'))
        elif kind == 'result':
            # An empty model_usage_since_last_result is a task no model answered; modelUsage would name the
            # models of the session's earlier tasks instead. Only CLIs without the field need modelUsage.
            if 'model_usage_since_last_result' in document:
                usage = document.get('model_usage_since_last_result')
            else:
                usage = document.get('modelUsage')
            answer.update(
                task_uuid=_label(document.get('user_message_uuid')),
                is_error=bool(document.get('is_error')),
                api_error_status=_int(document.get('api_error_status')),
                api_error_type=_label(document.get('api_error_type')),
                models=sorted(model[:_LABEL_MAX] for model in usage) if isinstance(usage, dict) else [],
            )
    return answer if seen else None


def tail_lines(path, end=None, tail_bytes=TAIL_BYTES):
    """The decoded whole lines in the last ``tail_bytes`` before byte ``end`` (default: the end) of a file;
    [] when it is missing."""
    try:
        with open(path, 'rb') as handle:
            size = os.fstat(handle.fileno()).st_size
            end = size if end is None else min(end, size)
            start = max(0, end - tail_bytes)
            handle.seek(start)
            data = handle.read(end - start)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise TaskError('cannot read the agent output %s: %s' % (path, exc.strerror))
    lines = data.split(b'\n')
    if start > 0:
        # The first line is cut at the start of the tail.
        lines = lines[1:]
    return [line.decode('utf-8', 'replace') for line in lines]


def read_latest_answer(output_path, tail_bytes=TAIL_BYTES):
    """``latest_answer`` of the last ``tail_bytes`` of the output file; None when it is missing or empty."""
    return latest_answer(tail_lines(output_path, tail_bytes=tail_bytes))


# --- the verdict ------------------------------------------------------------------------------------------

def model_matches(model, expected):
    """``model`` is ``expected`` or its dated snapshot (``expected-YYYYMMDD``), which the API answers for an alias."""
    if model == expected:
        return True
    suffix = model[len(expected):] if model.startswith(expected) else ''
    return len(suffix) == 9 and suffix[0] == '-' and suffix[1:].isdigit()


def _retry_sentence(retries):
    error = retries.get('error')
    status = retries.get('error_status')
    what = RETRY_ERROR_MEANING.get(error) or API_STATUS_MEANING.get(status) or 'the API failed (%s)' % (error or 'unknown error')
    if status is not None:
        what += ' (%s)' % status
    attempt = retries.get('attempt') or retries.get('count')
    if retries.get('max_retries'):
        return '%s, the CLI retried %s of %s times' % (what, attempt, retries['max_retries'])
    return '%s, the CLI retried %s times' % (what, attempt)


def _timeout_sentence(result, timeout):
    within = 'within %g s' % timeout if timeout is not None else 'before the timeout'
    retries = result.get('retries') or {}
    if retries.get('count'):
        why = _retry_sentence(retries)
    elif result.get('state') == 'queued':
        why = 'the task is still queued behind another task of the agent'
    elif result.get('state') == 'started':
        why = 'the agent started the task, but reported neither an answer nor an API retry'
    elif result.get('inbox_backlog'):
        why = '%d bytes of tasks are unread in the inbox: the agent does not read it (is the service running?)' % (
            result['inbox_backlog'])
    else:
        why = 'the agent never acknowledged the task (is the service running and writing to its output file?)'
    return 'no result for the task %s: %s' % (within, why)


def _error_sentence(result):
    status = result.get('api_error_status')
    if status is None:
        return 'the agent ended the task with an error (subtype %s, terminal reason %s)' % (
            result.get('subtype') or 'unknown', result.get('terminal_reason') or 'unknown')
    sentence = 'the agent answered with API error %s (%s)' % (status, result.get('api_error_type') or 'no type')
    meaning = API_STATUS_MEANING.get(status)
    if meaning:
        sentence += ': ' + meaning
    if result.get('init_model'):
        sentence += '; the agent runs %s' % result['init_model']
    return sentence


def verdict(result, expected_model=None, timeout=None):
    """Problem sentences about a task result (``scan``/``wait_for_result``/``run_task`` dict); [] when it is fine.

    They name models, counts and API error codes, never any text of the prompt or the answer.
    """
    problems = []
    answered_by = result.get('answered_by') or []
    if result.get('timed_out') or not result.get('done', True):
        problems.append(_timeout_sentence(result, timeout))
    elif result.get('is_error'):
        problems.append(_error_sentence(result))
    elif not answered_by:
        problems.append('no model answered the task (its result has no assistant message)')
    if expected_model:
        if answered_by and not all(model_matches(model, expected_model) for model in answered_by):
            problems.append('the task was answered by %s, not by the expected %s only' % (
                ', '.join(answered_by), expected_model))
        elif not answered_by and result.get('init_model') and not model_matches(result['init_model'], expected_model):
            problems.append('the agent runs %s, not the expected %s' % (result['init_model'], expected_model))
    return problems


# What the modules return of a task: what a playbook can act on, nothing the CLI wrote as text.
REPORTED = ('task_uuid', 'is_error', 'answered_by', 'init_model', 'usage', 'cost_usd', 'duration_ms',
            'duration_api_ms', 'api_error_status', 'api_error_type', 'retries', 'timed_out', 'state')


def report(result, expected_model=None, timeout=None):
    """A module's view of a ``run_task`` dict: the REPORTED keys plus ``problems`` (``verdict``)."""
    reported = dict((key, result.get(key)) for key in REPORTED)
    reported['problems'] = verdict(result, expected_model, timeout)
    return reported
