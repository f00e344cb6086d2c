# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A local, scriptable stand-in for the Anthropic Messages API, for the demo and the tests.

The real Claude Code CLI talks to it through ``ANTHROPIC_BASE_URL``. It answers ``POST /v1/messages`` the way the
API does: server-sent events (``message_start``, ``content_block_start``, ``content_block_delta``,
``content_block_stop``, ``message_delta``, ``message_stop``) when the body asks for ``"stream": true``, one JSON
message otherwise, and errors in the API's shape (``{"type": "error", "error": {"type": ..., "message": ...}}``
with the API's HTTP status). Every request's model is appended to a JSON-lines log; prompts are never logged.

It needs only the Python standard library, so it runs on the controller and inside the test containers alike.

Command line use (serves until SIGTERM or SIGINT)::

    python3 server.py --port 8765 --scenario scenario.json --log requests.jsonl [--port-file FILE]

The scenario file is read again whenever it changes, so a test scripts the API while the agent runs.

Python use::

    from ansible_collections.jada.agent.tests.messages_api.server import MessagesAPI

    with MessagesAPI({'models': {'claude-sonnet-4-6': {'error': 'not_found_error'}}}) as api:
        ...  # ANTHROPIC_BASE_URL=api.url
        api.requests()  # what was asked, model by model

The scenario (a JSON object; every key is optional):

``text``
    The answer's text (default ``OK``).
``usage``
    ``input_tokens``, ``output_tokens``, ``cache_creation_input_tokens``, ``cache_read_input_tokens`` of each
    answer (defaults 12, 4, 0, 0), and ``cache_creation``, the split of the cache writes by lifetime
    (``{"ephemeral_5m_input_tokens": N, "ephemeral_1h_input_tokens": N}``; by default all of
    ``cache_creation_input_tokens`` as 5-minute writes, as the API reports the CLI's default cache control; ``null``
    leaves the split out, as older API versions did). A streamed answer carries the input and cache counts in
    ``message_start`` and the final ``output_tokens`` in ``message_delta``, as the API sends them.
``delay_seconds``
    Wait this long before answering.
``error``
    Answer every request with this API error type instead (``not_found_error`` 404, ``overloaded_error`` 529,
    ``rate_limit_error`` 429, ``api_error`` 500, ``authentication_error`` 401, ``permission_error`` 403,
    ``invalid_request_error`` 400).
``fail_first``
    ``{"error": TYPE, "count": N}``: answer the first N requests of each model with that API error, counted since
    the scenario was set or its file changed, then answer normally (the CLI retries a 529 meanwhile).
``tool_use``
    ``{"name": TOOL, "input": {...}}`` (optionally ``"text"``): a request whose last user message holds no
    ``tool_result`` block is answered with a text block (``text``, else the answer's text) and a call of that tool
    with a fresh ``toolu_`` id, stop reason ``tool_use``; streamed, the call's input comes as ``input_json_delta``
    pieces. A request that carries the ``tool_result``, or whose ``tools`` do not offer that tool (a subagent
    without it), gets the plain text answer. So the CLI runs one real tool round trip per prompt.
``models``
    ``{model ID: {...}}``: the keys above for requests of that model only (they win over the top-level ones).
    ``"*"`` matches any model not listed.

The request log has, per request: time, model, HTTP status, error, message and request ids, the usage answered,
``stop_reason``, the ``tool_use`` name called (or null) and whether the request carried a ``tool_result``.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import http.server
import json
import os
import signal
import sys
import threading
import time
import uuid

ERROR_STATUS = {
    'invalid_request_error': 400,
    'authentication_error': 401,
    'permission_error': 403,
    'not_found_error': 404,
    'request_too_large': 413,
    'rate_limit_error': 429,
    'api_error': 500,
    'overloaded_error': 529,
}
DEFAULT_USAGE = {
    'input_tokens': 12,
    'output_tokens': 4,
    'cache_creation_input_tokens': 0,
    'cache_read_input_tokens': 0,
    'cache_creation': {'ephemeral_5m_input_tokens': 0, 'ephemeral_1h_input_tokens': 0},
}
SCENARIO_KEYS = ('text', 'usage', 'delay_seconds', 'error', 'fail_first', 'tool_use')


def answer_usage(usage):
    """The usage of one answer: the scenario's counts over the defaults, with the cache-write split."""
    merged = dict(DEFAULT_USAGE, **usage)
    if 'cache_creation' not in usage:
        # The CLI asks for the 5-minute cache, so the API reports every cache write as a 5-minute one. Without
        # this split the CLI records zeros there, and ccusage then counts no cache writes at all.
        merged['cache_creation'] = {'ephemeral_5m_input_tokens': merged['cache_creation_input_tokens'],
                                    'ephemeral_1h_input_tokens': 0}
    elif merged['cache_creation'] is None:
        del merged['cache_creation']
    return merged


def answer_plan(scenario, model):
    """What to answer a request for model: a dict of SCENARIO_KEYS, the model's own entry winning."""
    plan = {'text': 'OK', 'usage': answer_usage({}), 'delay_seconds': 0, 'error': None, 'fail_first': None,
            'tool_use': None}
    models = scenario.get('models') or {}
    entry = models.get(model, models.get('*', {}))
    for layer in (scenario, entry):
        for key in SCENARIO_KEYS:
            if key in layer:
                plan[key] = answer_usage(layer[key]) if key == 'usage' else layer[key]
    check_error_type(plan['error'])
    if plan['fail_first'] is not None:
        check_error_type(plan['fail_first'].get('error'))
        count = plan['fail_first'].get('count')
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError('fail_first needs a count of 0 or more, not %r' % (count,))
    call = plan['tool_use']
    if call is not None and not (isinstance(call.get('name'), str) and isinstance(call.get('input'), dict)):
        raise ValueError('tool_use needs a "name" (string) and an "input" (object)')
    return plan


def check_error_type(error_type):
    if error_type is not None and error_type not in ERROR_STATUS:
        raise ValueError('unknown API error type %r; known: %s' % (error_type, ', '.join(sorted(ERROR_STATUS))))


def last_user_content(body):
    """The content blocks of the request's last user message (a plain string counts as one text block)."""
    for entry in reversed(body.get('messages') or []):
        if isinstance(entry, dict) and entry.get('role') == 'user':
            content = entry.get('content')
            return content if isinstance(content, list) else [{'type': 'text', 'text': content}]
    return []


def tool_call(plan, body):
    """The tool_use block to answer this request with, or None for a plain text answer."""
    call = plan['tool_use']
    if call is None:
        return None
    if any(isinstance(block, dict) and block.get('type') == 'tool_result' for block in last_user_content(body)):
        return None
    offered = body.get('tools')
    # A model never calls a tool it was not offered: a subagent without the tool answers in text, instead of
    # calling it again and again.
    if offered is not None and not any(isinstance(tool, dict) and tool.get('name') == call['name']
                                       for tool in offered):
        return None
    return {'type': 'tool_use', 'id': 'toolu_' + uuid.uuid4().hex[:24], 'name': call['name'],
            'input': call['input']}


def content_blocks(plan, call):
    """The answer's content: the text, then the tool call if there is one."""
    if call is None:
        return [{'type': 'text', 'text': plan['text']}]
    return [{'type': 'text', 'text': plan['tool_use'].get('text', plan['text'])}, call]


def error_body(error_type, model):
    messages = {
        'not_found_error': 'model: %s' % model,
        'overloaded_error': 'Overloaded',
        'rate_limit_error': 'Number of request tokens has exceeded your per-minute rate limit',
    }
    return {
        'type': 'error',
        'error': {'type': error_type, 'message': messages.get(error_type, error_type.replace('_', ' '))},
        'request_id': 'req_' + uuid.uuid4().hex[:24],
    }


def message(model, plan, message_id, blocks=None):
    """The non-streaming answer."""
    blocks = content_blocks(plan, None) if blocks is None else blocks
    return {
        'id': message_id,
        'type': 'message',
        'role': 'assistant',
        'model': model,
        'content': blocks,
        'stop_reason': 'tool_use' if blocks[-1]['type'] == 'tool_use' else 'end_turn',
        'stop_sequence': None,
        'usage': copy.deepcopy(plan['usage']),
    }


def stream_events(model, plan, message_id, blocks=None):
    """The streamed answer: (event name, data) pairs in the order the API sends them."""
    whole = message(model, plan, message_id, blocks)
    usage = whole['usage']
    # The API counts input and cache tokens once, at the start; output tokens only once the answer is done.
    start_usage = dict(usage, output_tokens=min(usage['output_tokens'], 1))
    started = dict(whole, content=[], stop_reason=None, usage=start_usage)
    yield 'message_start', {'type': 'message_start', 'message': started}
    for index, block in enumerate(whole['content']):
        yield 'content_block_start', {'type': 'content_block_start', 'index': index,
                                      'content_block': dict(block, input={}) if block['type'] == 'tool_use'
                                      else dict(block, text='')}
        if index == 0:
            yield 'ping', {'type': 'ping'}
        for delta in block_deltas(block):
            yield 'content_block_delta', {'type': 'content_block_delta', 'index': index, 'delta': delta}
        yield 'content_block_stop', {'type': 'content_block_stop', 'index': index}
    yield 'message_delta', {'type': 'message_delta',
                            'delta': {'stop_reason': whole['stop_reason'], 'stop_sequence': None},
                            'usage': {'output_tokens': usage['output_tokens']}}
    yield 'message_stop', {'type': 'message_stop'}


def block_deltas(block):
    if block['type'] != 'tool_use':
        return [{'type': 'text_delta', 'text': block['text']}]
    # The API streams a call's input as pieces of its JSON text, the first one often empty.
    text = json.dumps(block['input'])
    middle = len(text) // 2
    return [{'type': 'input_json_delta', 'partial_json': piece} for piece in ('', text[:middle], text[middle:])]


class ScenarioFile:
    """A scenario read from a JSON file, again whenever the file changes; a broken file keeps the last good one."""

    def __init__(self, path, initial=None):
        self.path = path
        self.stamp = None
        self.scenario = initial or {}
        # Bumped whenever the scenario is replaced: fail_first counts requests from there.
        self.generation = 0
        self.lock = threading.Lock()

    def replace(self, scenario):
        with self.lock:
            self.scenario = scenario
            self.generation += 1

    def current(self):
        """The scenario and its generation."""
        if not self.path:
            return self.scenario, self.generation
        with self.lock:
            try:
                info = os.stat(self.path)
            except FileNotFoundError:
                if self.stamp is not None:
                    self.scenario, self.stamp = {}, None
                    self.generation += 1
                return self.scenario, self.generation
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            if stamp != self.stamp:
                try:
                    with open(self.path, encoding='utf-8') as handle:
                        loaded = json.load(handle)
                    if not isinstance(loaded, dict):
                        raise ValueError('the scenario must be a JSON object')
                    self.scenario, self.stamp = loaded, stamp
                    self.generation += 1
                except ValueError as exc:
                    sys.stderr.write('scenario %s not loaded: %s\n' % (self.path, exc))
            return self.scenario, self.generation


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'jada-messages-api/1'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if not self.server.quiet:
            sys.stderr.write('%s - %s\n' % (self.address_string(), format % args))

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.split('?')[0] == '/api/hello':
            self.send_json(200, {'message': 'hello'})
        else:
            self.send_json(404, error_body('not_found_error', 'n/a'))

    def do_HEAD(self):  # noqa: N802
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def do_POST(self):  # noqa: N802
        path = self.path.split('?')[0]
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            body = json.loads(raw or b'{}')
        except ValueError:
            self.send_json(400, error_body('invalid_request_error', 'n/a'))
            return
        model = body.get('model') if isinstance(body, dict) else None
        if path == '/v1/messages/count_tokens':
            self.send_json(200, {'input_tokens': 12})
            return
        if path != '/v1/messages' or not isinstance(model, str):
            self.send_json(404 if path != '/v1/messages' else 400,
                           error_body('not_found_error' if path != '/v1/messages' else 'invalid_request_error',
                                      model))
            return
        scenario, generation = self.server.scenario.current()
        try:
            plan = answer_plan(scenario, model)
            call = tool_call(plan, body)
        except (ValueError, TypeError, AttributeError) as exc:
            sys.stderr.write('scenario error: %s\n' % exc)
            plan, call = dict(answer_plan({}, model), error='api_error'), None
        if not plan['error'] and plan['fail_first'] and self.server.fails(model, generation,
                                                                          plan['fail_first']['count']):
            plan = dict(plan, error=plan['fail_first']['error'])
        stream = bool(body.get('stream'))
        started = time.time()
        if plan['delay_seconds']:
            time.sleep(float(plan['delay_seconds']))
        request_id = 'req_' + uuid.uuid4().hex[:24]
        status = ERROR_STATUS[plan['error']] if plan['error'] else 200
        message_id = 'msg_' + uuid.uuid4().hex[:24]
        blocks = None if plan['error'] else content_blocks(plan, call)
        self.server.record({
            'time': datetime.datetime.now(datetime.timezone.utc).isoformat(),
            'path': path,
            'model': model,
            'stream': stream,
            'status': status,
            'error': plan['error'],
            'id': None if plan['error'] else message_id,
            'request_id': request_id,
            'usage': None if plan['error'] else plan['usage'],
            'stop_reason': None if plan['error'] else ('tool_use' if call else 'end_turn'),
            'tool_use': call['name'] if call and not plan['error'] else None,
            'tool_result': any(isinstance(block, dict) and block.get('type') == 'tool_result'
                               for block in last_user_content(body)),
            'delay_seconds': plan['delay_seconds'],
            'received': started,
            # The size of what the CLI sends (system prompt, tools, messages), never its text: it tells what a
            # request would cost on the real API.
            'body_bytes': len(raw),
            'tools': len(body.get('tools') or []),
        })
        if plan['error']:
            self.send_json(status, error_body(plan['error'], model), {'request-id': request_id})
        elif stream:
            self.send_stream(model, plan, message_id, request_id, blocks)
        else:
            self.send_json(200, message(model, plan, message_id, blocks), {'request-id': request_id})

    def send_stream(self, model, plan, message_id, request_id, blocks=None):
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-cache')
        self.send_header('request-id', request_id)
        self.send_header('Connection', 'close')
        self.end_headers()
        for event, data in stream_events(model, plan, message_id, blocks):
            self.wfile.write(('event: %s\ndata: %s\n\n' % (event, json.dumps(data))).encode('utf-8'))
            self.wfile.flush()
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, scenario, log_path=None, quiet=True):
        super().__init__(address, Handler)
        self.scenario = scenario
        self.log_path = log_path
        self.quiet = quiet
        self.log = []
        self.log_lock = threading.Lock()
        self.failures = {}
        self.failures_generation = None
        self.failures_lock = threading.Lock()

    def fails(self, model, generation, count):
        """Whether this request of model is one of the first count since the scenario's generation began."""
        with self.failures_lock:
            if generation != self.failures_generation:
                self.failures, self.failures_generation = {}, generation
            seen = self.failures.get(model, 0)
            self.failures[model] = seen + 1
            return seen < count

    def record(self, entry):
        with self.log_lock:
            self.log.append(entry)
            if self.log_path:
                with open(self.log_path, 'a', encoding='utf-8') as handle:
                    handle.write(json.dumps(entry, sort_keys=True) + '\n')


class MessagesAPI:
    """The API in a thread of this process, for Python tests."""

    def __init__(self, scenario=None, scenario_path=None, log_path=None):
        self.server = Server(('127.0.0.1', 0), ScenarioFile(scenario_path, scenario), log_path)
        # A short poll: leaving the context waits for the serving loop to notice the shutdown.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def set_scenario(self, scenario):
        self.server.scenario.replace(scenario)

    def requests(self):
        with self.server.log_lock:
            return list(self.server.log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=8765, help='port; 0 picks a free one (default 8765)')
    parser.add_argument('--scenario', help='JSON scenario file, read again whenever it changes')
    parser.add_argument('--log', help='append one JSON line per request here')
    parser.add_argument('--port-file', help='write the port here once listening')
    parser.add_argument('--verbose', action='store_true', help='log each HTTP request on stderr')
    args = parser.parse_args(argv)
    server = Server((args.host, args.port), ScenarioFile(args.scenario), args.log, quiet=not args.verbose)
    if args.port_file:
        with open(args.port_file + '.tmp', 'w', encoding='utf-8') as handle:
            handle.write('%d\n' % server.server_address[1])
        os.replace(args.port_file + '.tmp', args.port_file)
    signal.signal(signal.SIGTERM, lambda signum, frame: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
