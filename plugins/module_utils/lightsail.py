# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What jada.agent.lightsail_instance_info does, whoever runs it: the module on its host, or its action plugin
inside the controller. Both build an AnsibleAWSModule with ``module_kwargs()`` and hand it to ``run``, so options,
credentials, retries, messages and results are the same code either way.

Public API::

    module_kwargs() -> dict                 # AnsibleAWSModule(**module_kwargs()): options and how they combine
    run(module) -> NoReturn                 # read, wait, then module.exit_json or module.fail_json
    argument_spec() -> dict                 # the module's own options (AnsibleAWSModule adds the AWS ones)
    parameter_problem(params) -> str | None
    unique(names) -> list
    summarize(name, instance) -> dict       # the flat view of one API instance (None: missing)
    shortfall(summary, expected_state=None, want_public_ip=False) -> str | None
    shortfalls(summaries, ...) -> [(name, reason)]
    missing_names(summaries) -> [name]
    settled(summaries, ...) -> bool
    poll(fetch, done, wait=False, timeout=0, delay=0, clock=..., sleep=...) -> (result, elapsed)
    get_instance(client, name) -> dict | None
    list_instances(client) -> {name: instance}
    fetcher(client, names, single) -> callable
    build_result(summaries, single, elapsed) -> dict
    location(region, endpoint_url=None) / quoted(names) / not_found_message / waited_text / mismatch_message
    unmet_message / error_code / error_hint / failure_message / region_warning / known_lightsail_regions

Messages never contain credentials.
"""

from __future__ import annotations

import time

try:
    import botocore
    import botocore.session
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.jada.agent.plugins.module_utils.aws_retry import retry_with_backoff


__all__ = [
    'CONNECTION_ERROR_CODES',
    'CREDENTIAL_ERROR_CODES',
    'PERMISSION_ERROR_CODES',
    'THROTTLING_ERROR_CODES',
    'argument_spec',
    'build_result',
    'error_code',
    'error_hint',
    'failure_message',
    'fetcher',
    'get_instance',
    'known_lightsail_regions',
    'list_instances',
    'location',
    'mismatch_message',
    'missing_names',
    'module_kwargs',
    'not_found_message',
    'parameter_problem',
    'poll',
    'quoted',
    'region_warning',
    'run',
    'settled',
    'shortfall',
    'shortfalls',
    'summarize',
    'unique',
    'unmet_message',
    'waited_text',
]

CREDENTIAL_ERROR_CODES = frozenset((
    'UnrecognizedClientException',
    'InvalidClientTokenId',
    'UnauthenticatedException',
    'AuthFailure',
    'ExpiredToken',
    'ExpiredTokenException',
    'MissingAuthenticationTokenException',
    'IncompleteSignature',
    'SignatureDoesNotMatch',
    'NoCredentialsError',
    'PartialCredentialsError',
))
PERMISSION_ERROR_CODES = frozenset(('AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation'))
CONNECTION_ERROR_CODES = frozenset(('EndpointConnectionError', 'ConnectTimeoutError', 'ReadTimeoutError',
                                    'ConnectionClosedError', 'SSLError', 'ProxyConnectionError'))
THROTTLING_ERROR_CODES = frozenset(('ThrottlingException', 'Throttling', 'TooManyRequestsException',
                                    'RequestLimitExceeded'))


def unique(names):
    """The names in their first order, each once."""
    return list(dict.fromkeys(names))


def summarize(name, instance):
    """The flat view of one API instance (None: it does not exist) that the module returns."""
    if instance is None:
        return dict(name=name, exists=False, state=None, public_ip_address=None, private_ip_address=None, instance={})
    return dict(
        name=name,
        exists=True,
        state=(instance.get('state') or {}).get('name'),
        public_ip_address=instance.get('publicIpAddress'),
        private_ip_address=instance.get('privateIpAddress'),
        instance=camel_dict_to_snake_dict(instance),
    )


def shortfall(summary, expected_state=None, want_public_ip=False):
    """Why an existing instance does not meet the conditions yet, or None when it does (or does not exist)."""
    if not summary['exists']:
        return None
    reasons = []
    if expected_state and summary['state'] != expected_state:
        reasons.append(f"is '{summary['state']}', expected '{expected_state}'")
    if want_public_ip and not summary['public_ip_address']:
        reasons.append(f"has no public IP address yet (state '{summary['state']}')")
    return ' and '.join(reasons) or None


def missing_names(summaries):
    return [summary['name'] for summary in summaries if not summary['exists']]


def shortfalls(summaries, expected_state=None, want_public_ip=False):
    """(name, reason) for every existing instance that does not meet the conditions."""
    found = ((summary['name'], shortfall(summary, expected_state, want_public_ip)) for summary in summaries)
    return [(name, reason) for name, reason in found if reason]


def settled(summaries, expected_state=None, want_public_ip=False, fail_if_not_found=True):
    """Whether polling can stop: every condition is met, or an instance is missing and that is fatal."""
    if fail_if_not_found and missing_names(summaries):
        return True
    return not shortfalls(summaries, expected_state, want_public_ip)


def poll(fetch, done, wait=False, timeout=0, delay=0, clock=time.monotonic, sleep=time.sleep):
    """Call ``fetch`` until ``done(result)``, or once without ``wait``; return (last result, seconds elapsed).

    The last poll happens at the deadline rather than one delay before it.
    """
    start = clock()
    while True:
        result = fetch()
        elapsed = clock() - start
        if not wait or done(result) or elapsed >= timeout:
            return result, elapsed
        sleep(max(0, min(delay, timeout - elapsed)))


def location(region, endpoint_url=None):
    text = f'region {region or "(none)"}'
    return f'{text} (endpoint {endpoint_url})' if endpoint_url else text


def quoted(names):
    return ', '.join(f"'{name}'" for name in names)


def not_found_message(names, where):
    if len(names) == 1:
        return f"Lightsail instance '{names[0]}' was not found in {where}"
    return f'Lightsail instances {quoted(names)} were not found in {where}'


def waited_text(wait, elapsed, timeout):
    if not wait:
        return 'checked once without waiting (set wait=true to wait)'
    return f'after waiting {elapsed:.1f}s (wait_timeout {timeout}s)'


def mismatch_message(problems, total, where, wait, elapsed, timeout):
    """The failure message listing every instance that does not meet the conditions, expected versus actual."""
    waited = waited_text(wait, elapsed, timeout)
    if total == 1:
        name, reason = problems[0]
        return f"Lightsail instance '{name}' in {where} {reason}, {waited}"
    details = '; '.join(f"'{name}' {reason}" for name, reason in problems)
    return f'{len(problems)} of {total} Lightsail instances in {where} do not meet the expected condition {waited}: {details}'


def unmet_message(missing, problems, total, where, wait, elapsed, timeout):
    """One message naming every missing instance and every one that does not meet the conditions."""
    parts = [not_found_message(missing, where)] if missing else []
    if problems:
        parts.append(mismatch_message(problems, total, where, wait, elapsed, timeout))
    return '; '.join(parts)


def error_code(exception):
    """The AWS error code of a ClientError, or the class name of any other botocore error."""
    response = getattr(exception, 'response', None)
    if isinstance(response, dict):
        return response.get('Error', {}).get('Code') or type(exception).__name__
    return type(exception).__name__


def error_hint(code):
    """What to check for an AWS error code; empty when there is nothing specific to say."""
    if code in CREDENTIAL_ERROR_CODES:
        return 'AWS did not accept the credentials; check access_key, secret_key, session_token or profile'
    if code == 'InvalidSignatureException':
        return ('AWS rejected the request signature; check the credentials and that region is the one the '
                'instance is in')
    if code in PERMISSION_ERROR_CODES:
        return 'the credentials are not allowed to read Lightsail instances (lightsail:GetInstance/GetInstances)'
    if code in CONNECTION_ERROR_CODES:
        return 'could not reach the Lightsail endpoint; check region, endpoint_url and network access'
    if code in THROTTLING_ERROR_CODES:
        return 'AWS kept throttling the requests and the retries ran out'
    return ''


def failure_message(code, subject, where):
    hint = error_hint(code)
    message = f'Failed to read {subject} in {where}'
    return f'{message}: {hint}' if hint else message


def region_warning(region, known_regions):
    """A warning when botocore does not know Lightsail in the region, or None."""
    if not region or region in known_regions:
        return None
    return (f"Region '{region}' is not a Lightsail region known to botocore {botocore.__version__} "
            f"({', '.join(sorted(known_regions))}); the request will probably fail to connect")


def known_lightsail_regions():
    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions('lightsail', partition_name=partition))
    return regions


def get_instance(client, name):
    try:
        return client.get_instance(aws_retry=True, instanceName=name)['instance']
    except is_boto3_error_code('NotFoundException'):
        return None


def list_instances(client):
    """Every instance in the region by name, following the listing's pages."""
    instances = {}
    params = {}
    while True:
        page = client.get_instances(aws_retry=True, **params)
        instances.update((instance['name'], instance) for instance in page.get('instances', []))
        token = page.get('nextPageToken')
        if not token or token == params.get('pageToken'):
            return instances
        params['pageToken'] = token


def fetcher(client, names, single):
    """A function reading the instances once, returning their summaries in the order of ``names``."""
    if single:
        return lambda: [summarize(names[0], get_instance(client, names[0]))]

    def fetch():
        found = list_instances(client)
        return [summarize(name, found.get(name)) for name in names]

    return fetch


def build_result(summaries, single, elapsed):
    result = dict(changed=False, exists=all(summary['exists'] for summary in summaries), elapsed=round(elapsed, 3))
    if single:
        result.update((key, value) for key, value in summaries[0].items() if key != 'name')
    else:
        result['instances'] = summaries
    return result


def argument_spec():
    return dict(
        name=dict(type='str'),
        names=dict(type='list', elements='str'),
        expected_state=dict(type='str'),
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=300),
        wait_delay=dict(type='float', default=5),
        wait_for_public_ip=dict(type='bool', default=False),
        fail_if_not_found=dict(type='bool', default=True),
    )


def parameter_problem(params):
    """What is wrong with the module's own parameters, or None."""
    if params['names'] is not None and not [name for name in params['names'] if name]:
        return 'names must list at least one instance name'
    if params['name'] is not None and not params['name']:
        return 'name must not be empty'
    if params['wait'] and not (params['expected_state'] or params['wait_for_public_ip']):
        return 'wait=true needs expected_state (for example running) or wait_for_public_ip=true to know what to wait for'
    if params['wait_timeout'] < 0:
        return 'wait_timeout must not be negative'
    if params['wait_delay'] < 0:
        return 'wait_delay must not be negative'
    return None


def module_kwargs():
    """The keyword arguments of AnsibleAWSModule: the options, how they combine, check mode."""
    return dict(
        argument_spec=argument_spec(),
        mutually_exclusive=[('name', 'names')],
        required_one_of=[('name', 'names')],
        supports_check_mode=True,
    )


def run(module):
    """Read the instances, wait for them when asked, and end through ``module.exit_json`` or ``module.fail_json``."""
    params = module.params
    problem = parameter_problem(params)
    if problem:
        module.fail_json(msg=problem)

    single = params['name'] is not None
    names = [params['name']] if single else unique(name for name in params['names'] if name)
    region, endpoint_url, dummy = get_aws_connection_info(module)
    where = location(region, endpoint_url)
    # A custom endpoint may serve any region name; only AWS's own endpoints are known to botocore.
    warning = None if endpoint_url else region_warning(region, known_lightsail_regions())
    if warning:
        # Before the first request: in the controller, a warning hands the task to the module, which reads anew.
        module.warn(warning)

    client = module.client('lightsail', retry_decorator=retry_with_backoff)
    conditions = dict(expected_state=params['expected_state'], want_public_ip=params['wait_for_public_ip'])
    subject = f"Lightsail instance '{names[0]}'" if single else f'Lightsail instances {quoted(names)}'
    try:
        summaries, elapsed = poll(
            fetcher(client, names, single),
            lambda found: settled(found, fail_if_not_found=params['fail_if_not_found'], **conditions),
            wait=params['wait'], timeout=params['wait_timeout'], delay=params['wait_delay'],
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=failure_message(error_code(e), subject, where))

    result = build_result(summaries, single, elapsed)
    missing = missing_names(summaries) if params['fail_if_not_found'] else []
    problems = shortfalls(summaries, **conditions)
    if missing or problems:
        module.fail_json(msg=unmet_message(missing, problems, len(summaries), where, params['wait'], elapsed,
                                           params['wait_timeout']), **result)
    module.exit_json(**result)
