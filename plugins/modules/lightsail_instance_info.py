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

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

# The functions live in module_utils, shared with the action plugin; they stay importable from here too.
from ansible_collections.jada.agent.plugins.module_utils.lightsail import (  # pylint: disable=unused-import
    CONNECTION_ERROR_CODES,
    CREDENTIAL_ERROR_CODES,
    PERMISSION_ERROR_CODES,
    THROTTLING_ERROR_CODES,
    argument_spec,
    build_result,
    error_code,
    error_hint,
    failure_message,
    fetcher,
    get_instance,
    known_lightsail_regions,
    list_instances,
    location,
    mismatch_message,
    missing_names,
    module_kwargs,
    not_found_message,
    parameter_problem,
    poll,
    quoted,
    region_warning,
    run,
    settled,
    shortfall,
    shortfalls,
    summarize,
    unique,
    unmet_message,
    waited_text,
)


def main():
    run(AnsibleAWSModule(**module_kwargs()))


if __name__ == '__main__':
    main()
