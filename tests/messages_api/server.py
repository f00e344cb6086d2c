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
    answer (defaults 12, 4, 0, 0).
``delay_seconds``
    Wait this long before answering.
``error``
    Answer every request with this API error type instead (``not_found_error`` 404, ``overloaded_error`` 529,
    ``rate_limit_error`` 429, ``api_error`` 500, ``authentication_error`` 401, ``permission_error`` 403,
    ``invalid_request_error`` 400).
``models``
    ``{model ID: {...}}``: the keys above for requests of that model only (they win over the top-level ones).
    ``"*"`` matches any model not listed.
"""

from __future__ import annotations

import argparse
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
}
SCENARIO_KEYS = ('text', 'usage', 'delay_seconds', 'error')


def answer_plan(scenario, model):
    """What to answer a request for model: a dict of SCENARIO_KEYS, the model's own entry winning."""
    plan = {'text': 'OK', 'usage': dict(DEFAULT_USAGE), 'delay_seconds': 0, 'error': None}
    models = scenario.get('models') or {}
    entry = models.get(model, models.get('*', {}))
    for layer in (scenario, entry):
        for key in SCENARIO_KEYS:
            if key in layer:
                plan[key] = dict(DEFAULT_USAGE, **layer[key]) if key == 'usage' else layer[key]
    if plan['error'] is not None and plan['error'] not in ERROR_STATUS:
        raise ValueError('unknown API error type %r; known: %s' % (plan['error'], ', '.join(sorted(ERROR_STATUS))))
    return plan


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


def message(model, plan, message_id):
    """The non-streaming answer."""
    return {
        'id': message_id,
        'type': 'message',
        'role': 'assistant',
        'model': model,
        'content': [{'type': 'text', 'text': plan['text']}],
        'stop_reason': 'end_turn',
        'stop_sequence': None,
        'usage': dict(plan['usage']),
    }


def stream_events(model, plan, message_id):
    """The streamed answer: (event name, data) pairs in the order the API sends them."""
    usage = plan['usage']
    start_usage = dict(usage, output_tokens=1)
    started = dict(message(model, plan, message_id), content=[], stop_reason=None, usage=start_usage)
    yield 'message_start', {'type': 'message_start', 'message': started}
    yield 'content_block_start', {'type': 'content_block_start', 'index': 0,
                                  'content_block': {'type': 'text', 'text': ''}}
    yield 'ping', {'type': 'ping'}
    yield 'content_block_delta', {'type': 'content_block_delta', 'index': 0,
                                  'delta': {'type': 'text_delta', 'text': plan['text']}}
    yield 'content_block_stop', {'type': 'content_block_stop', 'index': 0}
    yield 'message_delta', {'type': 'message_delta', 'delta': {'stop_reason': 'end_turn', 'stop_sequence': None},
                            'usage': {'output_tokens': usage['output_tokens']}}
    yield 'message_stop', {'type': 'message_stop'}


class ScenarioFile:
    """A scenario read from a JSON file, again whenever the file changes; a broken file keeps the last good one."""

    def __init__(self, path, initial=None):
        self.path = path
        self.stamp = None
        self.scenario = initial or {}
        self.lock = threading.Lock()

    def current(self):
        if not self.path:
            return self.scenario
        with self.lock:
            try:
                info = os.stat(self.path)
            except FileNotFoundError:
                self.scenario, self.stamp = {}, None
                return self.scenario
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            if stamp != self.stamp:
                try:
                    with open(self.path, encoding='utf-8') as handle:
                        loaded = json.load(handle)
                    if not isinstance(loaded, dict):
                        raise ValueError('the scenario must be a JSON object')
                    self.scenario, self.stamp = loaded, stamp
                except ValueError as exc:
                    sys.stderr.write('scenario %s not loaded: %s\n' % (self.path, exc))
            return self.scenario


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
        try:
            plan = answer_plan(self.server.scenario.current(), model)
        except (ValueError, TypeError, AttributeError) as exc:
            sys.stderr.write('scenario error: %s\n' % exc)
            plan = dict(answer_plan({}, model), error='api_error')
        stream = bool(body.get('stream'))
        started = time.time()
        if plan['delay_seconds']:
            time.sleep(float(plan['delay_seconds']))
        request_id = 'req_' + uuid.uuid4().hex[:24]
        status = ERROR_STATUS[plan['error']] if plan['error'] else 200
        message_id = 'msg_' + uuid.uuid4().hex[:24]
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
            self.send_stream(model, plan, message_id, request_id)
        else:
            self.send_json(200, message(model, plan, message_id), {'request-id': request_id})

    def send_stream(self, model, plan, message_id, request_id):
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-cache')
        self.send_header('request-id', request_id)
        self.send_header('Connection', 'close')
        self.end_headers()
        for event, data in stream_events(model, plan, message_id):
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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def set_scenario(self, scenario):
        self.server.scenario.scenario = scenario

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
