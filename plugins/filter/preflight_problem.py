# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_problem
short_description: Why a host's Lightsail or EC2 instance does not allow a change, or null
version_added: 0.2.0
description:
  - The one decision of the playbooks' preflight (C(playbooks/tasks/preflight.yml)), from what
    M(jada.agent.lightsail_instance_info) (one call per region, for every host of the play) and
    M(amazon.aws.ec2_instance_info) returned.
  - Returns a sentence naming the instance, its region, its state and the one expected, or an empty string when the
    instance is in the expected state or the host runs on no cloud instance (O(platform) C(none)).
options:
  _input:
    description: The registered result of the Lightsail read (a loop over regions), or C(null).
    type: dict
    required: true
  platform:
    description: C(lightsail), C(ec2) or C(none).
    type: str
    required: true
  region:
    description: The instance's AWS region.
    type: str
    required: true
  lightsail_instance_name:
    description: The Lightsail instance's name.
    type: str
  ec2_result:
    description: The registered result of M(amazon.aws.ec2_instance_info) for the host.
    type: dict
  ec2_instance_id:
    description: The EC2 instance's ID.
    type: str
  expected_state:
    description: The state required.
    type: str
    default: running
author:
  - jada.agent maintainers (@jada)
"""

EXAMPLES = r"""
- name: Fail when the instance is not running
  ansible.builtin.assert:
    that: not problem
    fail_msg: "{{ inventory_hostname }}: {{ problem }}"
  vars:
    problem: "{{ lightsail_batches | jada.agent.preflight_problem('lightsail', 'us-east-1', lightsail_instance_name='jada-agent') }}"
"""

RETURN = r"""
_value:
  description: The problem, or an empty string.
  type: str
"""

from ansible.errors import AnsibleFilterError

PLATFORMS = ('lightsail', 'ec2', 'none')
STOP = 'nothing was touched, and the rollout stops here.'


def lightsail_instance(batches, region, name):
    """The entry of instance ``name`` in ``region`` from the Lightsail read, or {'exists': False}."""
    for batch in (batches or {}).get('results') or []:
        if batch.get('item', {}).get('region') != region:
            continue
        for instance in batch.get('instances') or []:
            if instance.get('name') == name:
                return instance
    return {'name': name, 'exists': False, 'state': None}


def preflight_problem(batches, platform, region, lightsail_instance_name=None, ec2_result=None, ec2_instance_id=None,
                      expected_state='running'):
    if platform not in PLATFORMS:
        raise AnsibleFilterError('jada_agent_platform is %r; use one of %s' % (platform, ', '.join(PLATFORMS)))
    if platform == 'lightsail':
        instance = lightsail_instance(batches, region, lightsail_instance_name)
        state = instance.get('state') if instance.get('exists') else None
        if state == expected_state:
            return ''
        return 'Lightsail instance %s in %s is %s, expected %s; %s' % (
            lightsail_instance_name, region, state or 'not found', expected_state, STOP)
    if platform == 'ec2':
        instances = (ec2_result or {}).get('instances') or []
        state = instances[0].get('state', {}).get('name') if len(instances) == 1 else None
        if state == expected_state:
            return ''
        return 'EC2 instance %s in %s is %s, expected %s; %s' % (
            ec2_instance_id, region, state or 'not found', expected_state, STOP)
    return ''


class FilterModule(object):
    def filters(self):
        return {'preflight_problem': preflight_problem}
