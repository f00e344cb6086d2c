# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A local, scriptable Amazon Lightsail endpoint for tests and the demo.

It speaks the AWS JSON 1.1 protocol that botocore uses for Lightsail and checks every request and every response
against botocore's own Lightsail service model, so a module that passes against it sends requests AWS would accept
and understands responses AWS could send. Only GetInstance and GetInstances are implemented.

Python use::

    from ansible_collections.jada.agent.tests.lightsail_endpoint.server import LightsailEndpoint

    with LightsailEndpoint({'instances': {'web': {'states': ['pending', 'running']}}}) as endpoint:
        ...  # point boto3 or a module at endpoint.url
        endpoint.assert_clean()

Command line use (serves until SIGTERM or SIGINT)::

    python server.py --port 0 --scenario scenario.json --port-file /tmp/port

Run ``python server.py --help`` for every flag and ``python server.py --example-scenario`` for an example.

The scenario (a dict, or a JSON file for the command line; every key is optional):

``region``
    The region served (default us-east-1). A request signed for another region gets InvalidSignatureException,
    as AWS answers it.
``account_id``
    Twelve digits used in ARNs and support codes (default 123456789012).
``page_size``
    Instances per GetInstances page (default 25); smaller values exercise nextPageToken.
``access_keys``
    When given, only these access key IDs are accepted; any other gets UnrecognizedClientException.
``instances``
    ``{name: {...}}`` in listing order; a name that is not here gets NotFoundException. Each may have
    ``states`` (state names for successive reads of that instance, the last one sticks; default ``["running"]``),
    ``public_ip`` (default 203.0.113.10 + position; null for never), ``public_ip_after`` (how many reads come
    without the public IP before it appears; default 0), ``private_ip``, ``blueprint_id``, ``blueprint_name``,
    ``bundle_id``, ``username``, ``created_at`` (epoch seconds or ISO 8601), ``tags`` (``{key: value}``) and
    ``raw`` (camelCase members merged into the API instance as they are, to script odd or invalid responses).
``errors``
    Rules tried in order on each request. A rule matches ``operation`` (GetInstance, GetInstances or ``*``, the
    default) and, if given, the GetInstance ``instance`` name; it lets ``after`` matching calls through (default 0),
    then fails ``count`` of them (default 1; null: every one) with ``code`` (the ``__type``, for example
    ThrottlingException), ``message`` and ``status`` (default 400; 500 or 503 for server-side codes).

Each read of an instance (a GetInstance of it, or a GetInstances page holding it) moves its script one step on.
Requests that do not fit the model are answered with ValidationException (or SerializationException,
UnknownOperationException) and recorded in ``violations``; a scripted response that does not fit the model is
answered with a 500 InternalFailure and recorded there too. ``assert_clean()`` fails on any violation or unsigned
request; the command line serves the same lists at GET /_fake/violations and /_fake/requests.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import functools
import http.server
import ipaddress
import json
import os
import re
import signal
import sys
import threading
import uuid

import botocore.session
import botocore.validate


SERVICE_NAME = 'lightsail'
DEFAULT_REGION = 'us-east-1'
DEFAULT_ACCOUNT_ID = '123456789012'
DEFAULT_PAGE_SIZE = 25
JSON_CONTENT_TYPE = 'application/x-amz-json-1.1'
CONTROL_PREFIX = '/_fake/'
# How often serve_forever() looks for a shutdown request: stop() waits up to this long.
POLL_INTERVAL = 0.02

# Lightsail reuses the EC2 instance state codes.
STATE_CODES = {
    'pending': 0,
    'running': 16,
    'shutting-down': 32,
    'terminated': 48,
    'stopping': 64,
    'stopped': 80,
}

# The service model gives no HTTP status for errors; these are the ones AWS sends for the codes a test may script.
ERROR_STATUS = {
    'ServiceException': 500,
    'InternalFailure': 500,
    'InternalError': 500,
    'ServiceUnavailable': 503,
    'ServiceUnavailableException': 503,
    'NotImplemented': 501,
}

# Shapes of the model's error codes carry a short machine code besides the message, as the real service sends.
LIGHTSAIL_ERROR_CODES = {
    'NotFoundException': 'DoesNotExist',
    'InvalidInputException': 'InvalidInput',
    'AccessDeniedException': 'AccessDenied',
    'UnauthenticatedException': 'Unauthenticated',
    'ServiceException': 'ServiceException',
    'OperationFailureException': 'OperationFailure',
}

DEFAULT_MESSAGES = {
    'ThrottlingException': 'Rate exceeded',
    'AccessDeniedException': 'User is not authorized to perform: lightsail:{operation}',
    'UnrecognizedClientException': 'The security token included in the request is invalid.',
    'InvalidSignatureException': 'The request signature we calculated does not match the signature you provided.',
    'ServiceException': 'An internal error occurred.',
}

EXAMPLE_SCENARIO = {
    'region': 'us-east-1',
    'page_size': 25,
    'access_keys': ['AKIAIOSFODNN7EXAMPLE'],
    'instances': {
        'jada-agent': {
            'states': ['pending', 'pending', 'running'],
            'public_ip': '203.0.113.10',
            'public_ip_after': 3,
            'private_ip': '172.26.0.10',
            'blueprint_id': 'ubuntu_22_04',
            'bundle_id': 'nano_3_0',
            'username': 'ubuntu',
            'tags': {'role': 'agent'},
        },
        'jada-agent-2': {'states': ['running']},
    },
    'errors': [
        {'operation': 'GetInstance', 'code': 'ThrottlingException', 'count': 2},
        {'operation': '*', 'code': 'ServiceUnavailable', 'count': 1, 'after': 5},
    ],
}

_SCENARIO_KEYS = frozenset(('region', 'account_id', 'page_size', 'access_keys', 'instances', 'errors'))
_INSTANCE_KEYS = frozenset(('states', 'public_ip', 'public_ip_after', 'private_ip', 'blueprint_id', 'blueprint_name',
                            'bundle_id', 'username', 'created_at', 'tags', 'raw'))
_ERROR_KEYS = frozenset(('operation', 'code', 'count', 'after', 'message', 'status', 'instance'))
_CREDENTIAL_RE = re.compile(r'Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request')
_EPOCH_BASE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


class ScenarioError(ValueError):
    """The scenario is malformed; the message says where."""


class EndpointError(Exception):
    """An AWS error response: the JSON protocol's ``__type`` code, a message and the HTTP status."""

    def __init__(self, code, message, status=None):
        super().__init__(f'{code}: {message}')
        self.code = code
        self.message = message
        self.status = status or ERROR_STATUS.get(code, 400)


@functools.lru_cache(maxsize=1)
def service_model():
    """botocore's Lightsail service model: the single source of truth for what is valid."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


# ---------------------------------------------------------------------------------------------------------------
# Model validation
# ---------------------------------------------------------------------------------------------------------------

def _constraint_errors(value, shape, path):
    """Enum and pattern violations, which botocore's ParamValidator does not check."""
    problems = []
    if shape is None or value is None:
        return problems
    if shape.type_name == 'structure' and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                problems.extend(_constraint_errors(item, shape.members[key], f'{path}.{key}'))
    elif shape.type_name == 'list' and isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_constraint_errors(item, shape.member, f'{path}[{index}]'))
    elif shape.type_name == 'map' and isinstance(value, dict):
        for key, item in value.items():
            problems.extend(_constraint_errors(key, shape.key, f'{path} key {key!r}'))
            problems.extend(_constraint_errors(item, shape.value, f'{path}.{key}'))
    elif shape.type_name == 'string' and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f'Invalid value for parameter {path}, value: {value!r}, valid values: {", ".join(shape.enum)}')
        pattern = shape.metadata.get('pattern')
        # Smithy patterns are not anchored, hence search rather than fullmatch.
        if pattern and re.search(pattern, value) is None:
            problems.append(f'Invalid value for parameter {path}, value: {value!r}, must match pattern {pattern}')
    return problems


def validate_against_shape(value, shape):
    """Every way ``value`` (Python types, timestamps as datetime) does not fit ``shape``; empty when it fits."""
    if shape is None:
        return [] if not value else [f'no members are allowed, got {sorted(value)}']
    report = botocore.validate.ParamValidator().validate(value, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + _constraint_errors(value, shape, shape.name)


def _json_default(value):
    if isinstance(value, datetime.datetime):
        # The JSON protocol sends timestamps as epoch seconds.
        return value.timestamp()
    raise TypeError(f'cannot serialise {type(value).__name__}')


def to_json(value):
    return json.dumps(value, default=_json_default, sort_keys=True).encode('utf-8')


# ---------------------------------------------------------------------------------------------------------------
# Scenario
# ---------------------------------------------------------------------------------------------------------------

def _require(condition, message):
    if not condition:
        raise ScenarioError(message)


def _check_keys(data, allowed, where):
    _require(isinstance(data, dict), f'{where} must be an object, not {type(data).__name__}')
    unknown = sorted(set(data) - allowed)
    _require(not unknown, f'{where} has unknown keys {unknown}; allowed: {sorted(allowed)}')


def _check_count(value, where, allow_none=False):
    if value is None and allow_none:
        return
    _require(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
             f'{where} must be a non-negative integer, not {value!r}')


def _check_ip(value, where):
    try:
        ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, TypeError, ValueError):
        raise ScenarioError(f'{where} must be an IPv4 address, not {value!r}') from None


def _parse_created_at(value, where):
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace('Z', '+00:00'))
    except ValueError:
        raise ScenarioError(f'{where} must be epoch seconds or an ISO 8601 timestamp, not {value!r}') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


class InstanceScript:
    """One scripted instance: what it looks like on each successive read."""

    def __init__(self, name, index=0, states=('running',), public_ip='', public_ip_after=0, private_ip=None,
                 blueprint_id='ubuntu_22_04', blueprint_name='Ubuntu', bundle_id='nano_3_0', username='ubuntu',
                 created_at=None, tags=None, raw=None):
        where = f'instance {name!r}'
        _require(isinstance(name, str) and name, f'{where}: the name must be a non-empty string')
        states = [states] if isinstance(states, str) else list(states)
        _require(states, f'{where}: states must list at least one state')
        for state in states:
            _require(state in STATE_CODES, f'{where}: unknown state {state!r}; known: {sorted(STATE_CODES)}')
        _check_count(public_ip_after, f'{where}: public_ip_after')
        if public_ip == '':
            public_ip = str(ipaddress.IPv4Address('203.0.113.10') + index)
        if public_ip is not None:
            _check_ip(public_ip, f'{where}: public_ip')
        private_ip = private_ip or str(ipaddress.IPv4Address('172.26.0.10') + index)
        _check_ip(private_ip, f'{where}: private_ip')
        _require(tags is None or isinstance(tags, dict), f'{where}: tags must be an object')
        _require(raw is None or isinstance(raw, dict), f'{where}: raw must be an object')
        self.name = name
        self.states = states
        self.public_ip = public_ip
        self.public_ip_after = public_ip_after
        self.private_ip = private_ip
        self.blueprint_id = blueprint_id
        self.blueprint_name = blueprint_name
        self.bundle_id = bundle_id
        self.username = username
        self.created_at = (_EPOCH_BASE + datetime.timedelta(minutes=index) if created_at is None
                           else _parse_created_at(created_at, f'{where}: created_at'))
        self.tags = dict(tags or {})
        self.raw = dict(raw or {})
        self.reads = 0

    def state_at(self, read):
        """The state on the ``read``-th read (0 based); the last state sticks."""
        return self.states[min(read, len(self.states) - 1)]

    def public_ip_at(self, read):
        """The public IP on the ``read``-th read (0 based), or None while it has not appeared."""
        if self.public_ip is None or read < self.public_ip_after:
            return None
        return self.public_ip


def build_instance(script, read, region=DEFAULT_REGION, account_id=DEFAULT_ACCOUNT_ID):
    """The API's ``Instance`` as it looks on the ``read``-th read (Python types: ``createdAt`` is a datetime)."""
    state = script.state_at(read)
    resource_id = uuid.uuid5(uuid.NAMESPACE_URL, f'lightsail:{region}:{script.name}')
    instance = {
        'name': script.name,
        'arn': f'arn:aws:lightsail:{region}:{account_id}:Instance/{resource_id}',
        'supportCode': f'{account_id}/i-{resource_id.hex[:17]}',
        'createdAt': script.created_at,
        'location': {'availabilityZone': f'{region}a', 'regionName': region},
        'resourceType': 'Instance',
        'tags': [{'key': key, 'value': str(value)} for key, value in sorted(script.tags.items())],
        'blueprintId': script.blueprint_id,
        'blueprintName': script.blueprint_name,
        'bundleId': script.bundle_id,
        'addOns': [],
        'isStaticIp': False,
        'privateIpAddress': script.private_ip,
        'ipv6Addresses': [],
        'ipAddressType': 'ipv4',
        'hardware': {
            'cpuCount': 2,
            'ramSizeInGb': 0.5,
            'disks': [{
                'createdAt': script.created_at,
                'sizeInGb': 20,
                'isSystemDisk': True,
                'iops': 100,
                'path': '/dev/xvda',
                'attachedTo': script.name,
                'attachmentState': 'attached',
            }],
        },
        'networking': {
            'monthlyTransfer': {'gbPerMonthAllocated': 1024},
            'ports': [{
                'fromPort': 22,
                'toPort': 22,
                'protocol': 'tcp',
                'accessFrom': 'Anywhere (0.0.0.0/0 and ::/0)',
                'accessType': 'Public',
                'commonName': '',
                'accessDirection': 'inbound',
                'cidrs': ['0.0.0.0/0'],
                'ipv6Cidrs': ['::/0'],
                'cidrListAliases': [],
            }],
        },
        'state': {'code': STATE_CODES[state], 'name': state},
        'username': script.username,
        'sshKeyName': 'LightsailDefaultKeyPair',
        'metadataOptions': {
            'state': 'applied',
            'httpTokens': 'required',
            'httpEndpoint': 'enabled',
            'httpPutResponseHopLimit': 1,
            'httpProtocolIpv6': 'disabled',
        },
    }
    public_ip = script.public_ip_at(read)
    if public_ip is not None:
        instance['publicIpAddress'] = public_ip
    instance.update(script.raw)
    return instance


class ErrorRule:
    """Make matching calls fail: skip the first ``after`` matches, then fail ``count`` of them (None: all)."""

    def __init__(self, code, operation='*', count=1, after=0, message=None, status=None, instance=None):
        where = f'error {code!r}'
        _require(isinstance(code, str) and code, 'an error needs a non-empty code')
        _require(operation == '*' or operation in service_model().operation_names,
                 f'{where}: operation {operation!r} is not a Lightsail operation')
        _check_count(count, f'{where}: count', allow_none=True)
        _check_count(after, f'{where}: after')
        _require(status is None or (isinstance(status, int) and 400 <= status <= 599),
                 f'{where}: status must be an HTTP error status')
        self.code = code
        self.operation = operation
        self.count = count
        self.after = after
        self.message = message
        self.status = status
        self.instance = instance

    def matches(self, operation, params):
        if self.operation not in ('*', operation):
            return False
        return self.instance is None or params.get('instanceName') == self.instance

    def exhausted(self):
        return self.count is not None and self.count <= 0

    def fire(self, operation):
        """Consume one matching call; the error to send, or None to let this call through."""
        if self.after > 0:
            self.after -= 1
            return None
        if self.count is not None:
            self.count -= 1
        template = DEFAULT_MESSAGES.get(self.code, 'Scripted {code}')
        message = self.message or template.format(operation=operation, code=self.code)
        return EndpointError(self.code, message, self.status)


class Scenario:
    """What the endpoint serves: a region, scripted instances and scripted errors."""

    def __init__(self, region=DEFAULT_REGION, account_id=DEFAULT_ACCOUNT_ID, page_size=DEFAULT_PAGE_SIZE,
                 access_keys=None, instances=None, errors=None):
        regions = service_model().shape_for('RegionName').enum
        _require(region in regions, f'region {region!r} is not a Lightsail region; known: {", ".join(regions)}')
        _require(isinstance(account_id, str) and re.fullmatch(r'\d{12}', account_id) is not None,
                 f'account_id must be twelve digits, not {account_id!r}')
        _require(isinstance(page_size, int) and not isinstance(page_size, bool) and page_size > 0,
                 f'page_size must be a positive integer, not {page_size!r}')
        _require(access_keys is None or (isinstance(access_keys, list) and all(isinstance(k, str) for k in access_keys)),
                 'access_keys must be a list of access key IDs')
        self.region = region
        self.account_id = account_id
        self.page_size = page_size
        self.access_keys = None if access_keys is None else list(access_keys)
        self.instances = {}
        self.errors = []
        for name, spec in (instances or {}).items():
            self.add_instance(name, **_instance_kwargs(name, spec))
        for spec in errors or []:
            self.add_error(**_error_kwargs(spec))

    @classmethod
    def from_dict(cls, data):
        """Build from the JSON scenario format (see ``EXAMPLE_SCENARIO``); raise ScenarioError when malformed."""
        if isinstance(data, cls):
            return data
        _check_keys(data if data is not None else {}, _SCENARIO_KEYS, 'the scenario')
        data = dict(data or {})
        _require(isinstance(data.get('instances', {}), dict), 'instances must be an object keyed by instance name')
        _require(isinstance(data.get('errors', []), list), 'errors must be a list')
        return cls(**data)

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding='utf-8') as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ScenarioError(f'cannot read scenario {path}: {exc}') from None
        return cls.from_dict(data)

    def add_instance(self, name, **spec):
        _require(re.search(service_model().shape_for('ResourceName').metadata['pattern'], name or '') is not None,
                 f'instance name {name!r} is not a valid Lightsail resource name')
        self.instances[name] = InstanceScript(name, index=len(self.instances), **spec)
        return self.instances[name]

    def add_error(self, code, **spec):
        rule = ErrorRule(code, **spec)
        self.errors.append(rule)
        return rule

    def scripted_error(self, operation, params):
        for rule in self.errors:
            if rule.exhausted() or not rule.matches(operation, params):
                continue
            error = rule.fire(operation)
            if error is not None:
                return error
        return None

    def read(self, script):
        """The instance as this read sees it; every read moves its script one step on."""
        instance = build_instance(script, script.reads, self.region, self.account_id)
        script.reads += 1
        return instance

    def summary(self):
        return {
            'region': self.region,
            'instances': {name: {'reads': script.reads, 'next_state': script.state_at(script.reads)}
                          for name, script in self.instances.items()},
            'pending_errors': [{'code': rule.code, 'operation': rule.operation, 'count': rule.count,
                                'after': rule.after} for rule in self.errors if not rule.exhausted()],
        }


def _instance_kwargs(name, spec):
    spec = {} if spec is None else spec
    _check_keys(spec, _INSTANCE_KEYS, f'instance {name!r}')
    return dict(spec)


def _error_kwargs(spec):
    _check_keys(spec, _ERROR_KEYS, 'an error')
    _require('code' in spec, f'error {spec!r} needs a code')
    return dict(spec)


# ---------------------------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------------------------

def _encode_page_token(offset):
    return base64.urlsafe_b64encode(f'offset:{offset}'.encode('ascii')).decode('ascii')


def _decode_page_token(token):
    try:
        text = base64.urlsafe_b64decode(token.encode('ascii')).decode('ascii')
        prefix, offset = text.split(':', 1)
        if prefix != 'offset' or not offset.isdigit():
            raise ValueError(text)
    except (ValueError, UnicodeError, binascii.Error):
        raise EndpointError('InvalidInputException', f'The page token is invalid: {token}') from None
    return int(offset)


def get_instance(scenario, params):
    name = params['instanceName']
    script = scenario.instances.get(name)
    if script is None:
        raise EndpointError('NotFoundException', f'The Instance does not exist: {name}')
    return {'instance': scenario.read(script)}


def get_instances(scenario, params):
    scripts = list(scenario.instances.values())
    offset = _decode_page_token(params['pageToken']) if 'pageToken' in params else 0
    if offset > len(scripts):
        raise EndpointError('InvalidInputException', f'The page token is invalid: {params["pageToken"]}')
    page = scripts[offset:offset + scenario.page_size]
    result = {'instances': [scenario.read(script) for script in page]}
    if offset + scenario.page_size < len(scripts):
        result['nextPageToken'] = _encode_page_token(offset + scenario.page_size)
    return result


OPERATIONS = {'GetInstance': get_instance, 'GetInstances': get_instances}


# ---------------------------------------------------------------------------------------------------------------
# The endpoint
# ---------------------------------------------------------------------------------------------------------------

def parse_authorization(header):
    """(access key ID, signing region, signing service) of a SigV4 Authorization header; Nones when absent.

    The signature itself is not checked: the endpoint knows no secret.
    """
    match = _CREDENTIAL_RE.search(header or '')
    if not header or not header.startswith('AWS4-HMAC-SHA256 ') or match is None:
        return None, None, None
    return match.group('key'), match.group('region'), match.group('service')


def error_body(code, message):
    body = {'__type': code, 'message': message}
    if code in LIGHTSAIL_ERROR_CODES:
        body.update(code=LIGHTSAIL_ERROR_CODES[code], docs='https://lightsail.aws.amazon.com/ls/docs',
                    tip='This error was sent by the jada.agent test endpoint.')
    return body


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'jada-lightsail-endpoint'
    sys_version = ''

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        status, payload = self.server.endpoint.handle(self.path, self.headers, body)
        self._send(status, payload, JSON_CONTENT_TYPE)

    def do_GET(self):
        status, payload = self.server.endpoint.control(self.path)
        self._send(status, payload, 'application/json')

    def _send(self, status, payload, content_type):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(payload)))
        self.send_header('x-amzn-RequestId', str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.endpoint.verbose:
            sys.stderr.write(f'lightsail endpoint: {self.address_string()} {format % args}\n')


class LightsailEndpoint:
    """The endpoint: serve a scenario on 127.0.0.1 in a background thread.

    ``requests`` logs every AWS request (operation, params, whether it was signed, the access key ID and region it
    was signed for, status, error code); ``violations`` lists every request or response that did not fit the
    service model. Use it as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, scenario=None, host='127.0.0.1', port=0, verbose=False, on_request=None):
        self.scenario = Scenario.from_dict(scenario)
        self.verbose = verbose
        self.on_request = on_request
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._requests = []
        self._violations = []
        self._server = None
        self._thread = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def bind(self):
        """Bind the socket (port 0: an ephemeral port) without serving yet; return the port."""
        if self._server is None:
            self._server = http.server.ThreadingHTTPServer((self._host, self._port), _Handler)
            self._server.daemon_threads = True
            self._server.endpoint = self
        return self.port

    def start(self):
        self.bind()
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_INTERVAL,), name='lightsail-endpoint',
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until ``shutdown()`` is called from another thread."""
        self.bind()
        self._server.serve_forever(POLL_INTERVAL)

    def shutdown(self):
        """Make ``serve_forever()`` return; call it from another thread than the serving one."""
        if self._server is not None:
            self._server.shutdown()

    def stop(self):
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f'http://{self._host}:{self.port}'

    # -- inspection -----------------------------------------------------------------------------------------

    @property
    def requests(self):
        with self._lock:
            return [dict(record) for record in self._requests]

    @property
    def violations(self):
        with self._lock:
            return [dict(record) for record in self._violations]

    def calls(self, operation=None):
        return [record for record in self.requests if operation is None or record['operation'] == operation]

    def reads(self, name):
        with self._lock:
            return self.scenario.instances[name].reads

    def scenario_summary(self):
        with self._lock:
            return self.scenario.summary()

    def assert_clean(self):
        """Fail unless every request and response fitted the model and every request was signed."""
        problems = [f"#{v['seq']} {v['kind']} {v['operation']}: {v['detail']}" for v in self.violations]
        problems.extend(f"#{r['seq']} {r['operation']}: not signed" for r in self.requests if not r['signed'])
        if problems:
            raise AssertionError('the Lightsail endpoint saw problems:\n' + '\n'.join(problems))

    # -- scripting while running ----------------------------------------------------------------------------

    def add_instance(self, name, **spec):
        with self._lock:
            return self.scenario.add_instance(name, **spec)

    def remove_instance(self, name):
        with self._lock:
            del self.scenario.instances[name]

    def add_error(self, code, **spec):
        with self._lock:
            return self.scenario.add_error(code, **spec)

    # -- request handling -----------------------------------------------------------------------------------

    def handle(self, path, headers, body):
        """Answer one AWS request: (HTTP status, JSON body bytes). Never raises for a bad request."""
        with self._lock:
            record = {'seq': len(self._requests) + 1, 'operation': None, 'params': None, 'signed': False,
                      'access_key_id': None, 'signing_region': None, 'status': None, 'error_code': None}
            self._requests.append(record)
            try:
                operation, params = self._parse(record, path, headers, body)
                record['operation'], record['params'] = operation, params
                self._authorize(record, headers)
                error = self.scenario.scripted_error(operation, params)
                if error is not None:
                    raise error
                result = OPERATIONS[operation](self.scenario, params)
                status, payload = 200, self._checked_response(record, operation, result)
            except EndpointError as exc:
                status, payload = exc.status, self._error_payload(record, exc)
                record['error_code'] = exc.code
            record['status'] = status
            snapshot = dict(record)
        if self.on_request is not None:
            self.on_request(snapshot)
        return status, payload

    def _violation(self, record, kind, detail):
        self._violations.append({'seq': record['seq'], 'kind': kind, 'operation': record['operation'],
                                 'detail': detail})

    def _parse(self, record, path, headers, body):
        model = service_model()
        target = headers.get('X-Amz-Target') or ''
        prefix, _dot, operation = target.partition('.')
        if path != '/' or prefix != model.metadata['targetPrefix'] or operation not in model.operation_names:
            record['operation'] = operation or None
            self._violation(record, 'request', f'unknown operation: POST {path} X-Amz-Target={target!r}')
            raise EndpointError('UnknownOperationException', f'Unknown operation {target!r}')
        record['operation'] = operation
        content_type = (headers.get('Content-Type') or '').split(';')[0].strip()
        if content_type != JSON_CONTENT_TYPE:
            self._violation(record, 'request', f'Content-Type {content_type!r}, expected {JSON_CONTENT_TYPE}')
            raise EndpointError('SerializationException', f'Unsupported Content-Type {content_type!r}')
        try:
            params = json.loads(body.decode('utf-8') or '{}')
        except (UnicodeDecodeError, ValueError) as exc:
            self._violation(record, 'request', f'body is not JSON: {exc}')
            raise EndpointError('SerializationException', 'The request body is not valid JSON') from None
        if not isinstance(params, dict):
            self._violation(record, 'request', 'body is not a JSON object')
            raise EndpointError('SerializationException', 'The request body must be a JSON object')
        record['params'] = params
        problems = validate_against_shape(params, model.operation_model(operation).input_shape)
        if problems:
            self._violation(record, 'request', '; '.join(problems))
            raise EndpointError('ValidationException', ' '.join(problems))
        if operation not in OPERATIONS:
            self._violation(record, 'request', f'{operation} is in the model but not implemented by this endpoint')
            raise EndpointError('NotImplemented', f'{operation} is not implemented by the test endpoint')
        return operation, params

    def _authorize(self, record, headers):
        key, region, service = parse_authorization(headers.get('Authorization'))
        record.update(signed=key is not None, access_key_id=key, signing_region=region)
        if key is None:
            raise EndpointError('MissingAuthenticationTokenException', 'Missing Authentication Token')
        if service != SERVICE_NAME:
            raise EndpointError('InvalidSignatureException',
                                f"Credential should be scoped to correct service: '{SERVICE_NAME}'.")
        if region != self.scenario.region:
            raise EndpointError('InvalidSignatureException',
                                f"Credential should be scoped to a valid region, not '{region}'.")
        if self.scenario.access_keys is not None and key not in self.scenario.access_keys:
            raise EndpointError('UnrecognizedClientException', DEFAULT_MESSAGES['UnrecognizedClientException'])

    def _checked_response(self, record, operation, result):
        problems = validate_against_shape(result, service_model().operation_model(operation).output_shape)
        if problems:
            self._violation(record, 'response', '; '.join(problems))
            raise EndpointError('InternalFailure', 'The scripted response does not fit the Lightsail model: '
                                + ' '.join(problems))
        return to_json(result)

    def _error_payload(self, record, exc):
        body = error_body(exc.code, exc.message)
        shape = service_model().shape_for(exc.code) if exc.code in service_model().shape_names else None
        if shape is not None and shape.metadata.get('exception'):
            members = {key: value for key, value in body.items() if key != '__type'}
            problems = validate_against_shape(members, shape)
            if problems:
                self._violation(record, 'response', '; '.join(problems))
        return to_json(body)

    def control(self, path):
        """Answer GET /_fake/{health,requests,violations,scenario} so another process can inspect the endpoint."""
        views = {
            'health': lambda: {'ok': True, 'region': self.scenario.region},
            'requests': lambda: self.requests,
            'violations': lambda: self.violations,
            'scenario': self.scenario_summary,
        }
        name = path[len(CONTROL_PREFIX):] if path.startswith(CONTROL_PREFIX) else None
        if name not in views:
            return 404, to_json({'message': f'unknown path {path}; try {CONTROL_PREFIX}{{{",".join(views)}}}'})
        return 200, to_json(views[name]())


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------

def write_port_file(path, port):
    """Write the port atomically, so a reader polling for the file never sees it half written."""
    temporary = f'{path}.{os.getpid()}.tmp'
    with open(temporary, 'w', encoding='utf-8') as handle:
        handle.write(f'{port}\n')
    os.replace(temporary, path)


def _request_logger(path):
    def log(record):
        with open(path, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(record, sort_keys=True, default=str) + '\n')
    return log


def _shutdown_on_signal(endpoint):
    def handler(signum, frame):
        # The handler runs in the serving thread, and shutdown() waits for that thread: hand it to another one.
        threading.Thread(target=endpoint.shutdown, name='lightsail-endpoint-shutdown', daemon=True).start()
    return handler


def build_parser():
    parser = argparse.ArgumentParser(
        description='A local Amazon Lightsail endpoint (GetInstance, GetInstances) that validates every request '
                    'and response against botocore\'s service model. Prints the bound port on stdout, serves until '
                    'SIGTERM or SIGINT. Inspect it with GET /_fake/health, /_fake/requests, /_fake/violations, '
                    '/_fake/scenario.')
    parser.add_argument('--host', default='127.0.0.1', help='address to bind (default: %(default)s)')
    parser.add_argument('--port', type=int, default=0, help='port to bind; 0 picks a free one (default: %(default)s)')
    parser.add_argument('--scenario', metavar='FILE', help='scenario JSON (default: no instances)')
    parser.add_argument('--port-file', metavar='PATH', help='also write the bound port here (atomically)')
    parser.add_argument('--request-log', metavar='PATH', help='append every request as a JSON line here')
    parser.add_argument('--quiet', action='store_true', help='do not log requests on stderr')
    parser.add_argument('--example-scenario', action='store_true', help='print an example scenario and exit')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.example_scenario:
        print(json.dumps(EXAMPLE_SCENARIO, indent=2))
        return 0
    try:
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    except ScenarioError as exc:
        sys.stderr.write(f'lightsail endpoint: invalid scenario: {exc}\n')
        return 2
    endpoint = LightsailEndpoint(scenario, host=args.host, port=args.port, verbose=not args.quiet,
                                 on_request=_request_logger(args.request_log) if args.request_log else None)
    try:
        port = endpoint.bind()
    except OSError as exc:
        sys.stderr.write(f'lightsail endpoint: cannot bind {args.host}:{args.port}: {exc}\n')
        return 1
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _shutdown_on_signal(endpoint))
    try:
        if args.port_file:
            write_port_file(args.port_file, port)
        print(port, flush=True)
        sys.stderr.write(f'lightsail endpoint: serving {endpoint.url} (region {scenario.region}, '
                         f'{len(scenario.instances)} instances)\n')
        endpoint.serve_forever()
    finally:
        endpoint.stop()
        if args.port_file and os.path.exists(args.port_file):
            os.unlink(args.port_file)
    return 0


if __name__ == '__main__':
    sys.exit(main())
