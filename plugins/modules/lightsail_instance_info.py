#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
---
module: lightsail_instance_info
short_description: Read Amazon Lightsail instances and optionally wait until they are in an expected state
version_added: 0.1.0
description:
  - Reads one Lightsail instance (O(name), one C(GetInstance) call) or several (O(names), one C(GetInstances)
    listing, following its pages, rather than one call per instance), the way
    C(aws lightsail get-instance --instance-name NAME --region REGION) does.
  - Returns the instance as the API describes it, with its keys in snake case (the same shape as the
    C(community.aws.lightsail) module returns), plus its state name and IP addresses as flat values.
  - Optionally asserts that each instance is in O(expected_state) and has a public IP address
    (O(wait_for_public_ip)), failing with the expected and the actual state. With O(wait=true) it polls until they
    are, or until O(wait_timeout).
  - Never changes anything, so it runs the same way in check mode and always reports C(changed=false).
  - Throttled requests (C(ThrottlingException) and the other throttling codes) are retried with jittered backoff.
  - Failures name the instance and the region. Messages never contain credentials.
author:
  - jada.agent maintainers (@jada)
options:
  name:
    description:
      - Name of the one instance to read.
      - Exactly one of O(name) and O(names) is required.
    type: str
  names:
    description:
      - Names of several instances to read with one C(GetInstances) listing.
      - The results in RV(instances) follow this order. Duplicates are read and returned once.
      - Exactly one of O(name) and O(names) is required.
    type: list
    elements: str
  expected_state:
    description:
      - The state every instance must be in, as the API names it, for example V(running), V(pending),
        V(stopped), V(stopping).
      - When omitted the module only reports the state.
      - Without O(wait) the state is checked once and a mismatch fails the module; with O(wait=true) it is polled
        until it matches or O(wait_timeout) runs out.
      - Instances that do not exist are not checked when O(fail_if_not_found=false).
    type: str
  wait:
    description:
      - Poll until every existing instance is in O(expected_state) and, with O(wait_for_public_ip=true), has a public
        IP address; fail with the expected and the actual state when O(wait_timeout) runs out.
      - Requires O(expected_state) or O(wait_for_public_ip=true); there is no implicit V(running).
      - A missing instance is not waited for. With O(fail_if_not_found=true) it fails the module at once.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds O(wait=true) polls before it gives up.
    type: int
    default: 300
  wait_delay:
    description:
      - Seconds to sleep between two polls. Fractions are allowed.
      - V(0) polls back to back; use it only against a local test endpoint.
    type: float
    default: 5
  wait_for_public_ip:
    description:
      - Also require a public IP address, which Lightsail may assign only some time after the instance is running.
      - Checked once without O(wait), polled for with O(wait=true).
    type: bool
    default: false
  fail_if_not_found:
    description:
      - Fail when an instance does not exist, naming it and the region.
      - When V(false) a missing instance is reported with RV(exists=false) (for O(names), in its RV(instances) entry).
    type: bool
    default: true
notes:
  - Lightsail calls need the C(lightsail:GetInstance) permission for O(name) and C(lightsail:GetInstances) for O(names).
  - Set O(endpoint_url) to use a local test endpoint; the region must still be given and is used to sign requests.
  - A region that botocore does not know to offer Lightsail gives a warning (when O(endpoint_url) is not set), since
    the request would fail with a connection error.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so check mode changes nothing about what it does.
  diff_mode:
    support: none
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: Fail unless the agent's instance is running
  jada.agent.lightsail_instance_info:
    name: jada-agent
    region: us-east-1
    expected_state: running

- name: Wait up to ten minutes for the instance to run and get its public IP
  jada.agent.lightsail_instance_info:
    name: jada-agent
    region: us-east-1
    expected_state: running
    wait: true
    wait_timeout: 600
    wait_delay: 10
    wait_for_public_ip: true
  register: agent_instance

- name: Use the public IP
  ansible.builtin.debug:
    msg: "ssh {{ agent_instance.instance.username }}@{{ agent_instance.public_ip_address }}"

- name: Report on several instances with one API listing, tolerating missing ones
  jada.agent.lightsail_instance_info:
    names:
      - jada-agent
      - jada-agent-canary
    region: eu-west-1
    fail_if_not_found: false
  register: fleet

- name: Show the state of each
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.state if item.exists else 'missing' }}"
  loop: "{{ fleet.instances }}"

- name: Talk to a local test endpoint instead of AWS
  jada.agent.lightsail_instance_info:
    name: jada-agent
    region: us-east-1
    endpoint_url: http://127.0.0.1:8080
    access_key: AKIAIOSFODNN7EXAMPLE
    secret_key: not-a-real-secret
"""

RETURN = r"""
changed:
  description: Always V(false); the module only reads.
  returned: always
  type: bool
  sample: false
exists:
  description:
    - Whether the instance exists. For O(names), whether every one of them exists.
  returned: always
  type: bool
  sample: true
state:
  description: The instance's state name, or V(null) when it does not exist.
  returned: when O(name) is used
  type: str
  sample: running
public_ip_address:
  description: The public IPv4 address, or V(null) while there is none or when the instance does not exist.
  returned: when O(name) is used
  type: str
  sample: 203.0.113.10
private_ip_address:
  description: The private IPv4 address, or V(null) when the instance does not exist.
  returned: when O(name) is used
  type: str
  sample: 172.26.0.10
elapsed:
  description: Seconds spent reading and, with O(wait=true), waiting.
  returned: always
  type: float
  sample: 12.5
instance:
  description:
    - The instance as C(GetInstance) returns it, keys in snake case; empty when it does not exist.
    - Only the main keys are listed here; every key the API returns is included.
  returned: when O(name) is used
  type: dict
  contains:
    name:
      description: The instance name.
      returned: when the instance exists
      type: str
      sample: jada-agent
    arn:
      description: The instance ARN.
      returned: when the instance exists
      type: str
      sample: arn:aws:lightsail:us-east-1:123456789012:Instance/4b8a2c3e-53b8-5c8e-9b2c-0e6c5d8b6a11
    support_code:
      description: The code to quote to AWS support about the instance.
      returned: when the instance exists
      type: str
      sample: 123456789012/i-4b8a2c3e53b85c8e9
    created_at:
      description: When the instance was created.
      returned: when the instance exists
      type: str
      sample: "2025-01-01T00:00:00+00:00"
    location:
      description: Where the instance is.
      returned: when the instance exists
      type: dict
      contains:
        availability_zone:
          description: The Availability Zone.
          returned: always
          type: str
          sample: us-east-1a
        region_name:
          description: The region.
          returned: always
          type: str
          sample: us-east-1
    resource_type:
      description: Always V(Instance).
      returned: when the instance exists
      type: str
      sample: Instance
    tags:
      description: The tags, as the API lists them.
      returned: when the instance exists
      type: list
      elements: dict
      sample: [{"key": "role", "value": "agent"}]
    blueprint_id:
      description: The blueprint (image) ID.
      returned: when the instance exists
      type: str
      sample: ubuntu_22_04
    blueprint_name:
      description: The blueprint's friendly name.
      returned: when the instance exists
      type: str
      sample: Ubuntu
    bundle_id:
      description: The bundle (plan) ID.
      returned: when the instance exists
      type: str
      sample: nano_3_0
    is_static_ip:
      description: Whether the public IP address is a static IP.
      returned: when the instance exists
      type: bool
      sample: false
    private_ip_address:
      description: The private IPv4 address.
      returned: when the instance exists
      type: str
      sample: 172.26.0.10
    public_ip_address:
      description: The public IPv4 address.
      returned: when the instance has one
      type: str
      sample: 203.0.113.10
    ipv6_addresses:
      description: The IPv6 addresses.
      returned: when the instance exists
      type: list
      elements: str
      sample: []
    ip_address_type:
      description: V(ipv4), V(ipv6) or V(dualstack).
      returned: when the instance exists
      type: str
      sample: ipv4
    hardware:
      description: CPU count, RAM size and disks.
      returned: when the instance exists
      type: dict
      sample: {"cpu_count": 2, "ram_size_in_gb": 0.5, "disks": []}
    networking:
      description: Monthly transfer allowance and the open ports.
      returned: when the instance exists
      type: dict
      sample: {"monthly_transfer": {"gb_per_month_allocated": 1024}, "ports": []}
    state:
      description: The instance state.
      returned: when the instance exists
      type: dict
      contains:
        code:
          description: The state code.
          returned: always
          type: int
          sample: 16
        name:
          description: The state name.
          returned: always
          type: str
          sample: running
    username:
      description: The user name to connect with.
      returned: when the instance exists
      type: str
      sample: ubuntu
    ssh_key_name:
      description: The SSH key pair name.
      returned: when the instance exists
      type: str
      sample: LightsailDefaultKeyPair
instances:
  description: One entry per name in O(names), in that order.
  returned: when O(names) is used
  type: list
  elements: dict
  contains:
    name:
      description: The name as given in O(names).
      returned: always
      type: str
      sample: jada-agent
    exists:
      description: Whether the instance exists.
      returned: always
      type: bool
      sample: true
    state:
      description: The state name, or V(null) when the instance does not exist.
      returned: always
      type: str
      sample: running
    public_ip_address:
      description: The public IPv4 address, or V(null) while there is none.
      returned: always
      type: str
      sample: 203.0.113.10
    private_ip_address:
      description: The private IPv4 address, or V(null) when the instance does not exist.
      returned: always
      type: str
      sample: 172.26.0.10
    instance:
      description: The instance in the same snake-cased shape as RV(instance); empty when it does not exist.
      returned: always
      type: dict
      sample: {"name": "jada-agent", "state": {"code": 16, "name": "running"}}
"""

import time

try:
    import botocore
    import botocore.session
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.jada.agent.plugins.module_utils.aws_retry import retry_with_backoff


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


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('name', 'names')],
        required_one_of=[('name', 'names')],
        supports_check_mode=True,
    )
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


if __name__ == '__main__':
    main()
