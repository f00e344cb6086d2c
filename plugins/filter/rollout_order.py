# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_order
short_description: The hosts a rollout changes, in the order it changes them, canary first
version_added: 0.2.0
description:
  - Orders the hosts to change by inventory order, so the first batch (the canary) is always the same host and
    never whichever host answered the read first.
  - The canary is the host named by C(jada_agent_canary) when it is one of the hosts to change, else the first of
    them in inventory order.
options:
  _input:
    description: The hosts to change, in any order.
    type: list
    elements: str
    required: true
  inventory:
    description: Every host in inventory order (C(groups['all'])).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars); C(jada_agent_canary) is read from the hosts to change, the first set value in inventory
      order wins.
    type: dict
author:
  - jada.agent maintainers (@jada)
"""

EXAMPLES = r"""
- name: Upgrade the orchestrators that differ, canary first
  hosts: "{{ groups['jada_agent_to_change'] | default([]) | jada.agent.rollout_order(groups['all'], hostvars) }}"
  serial: [1, "100%"]
  tasks: []
"""

RETURN = r"""
_value:
  description: The hosts in rollout order.
  type: list
  elements: str
"""

from ansible_collections.jada.agent.plugins.module_utils import rollout_input


def rollout_order(pending, inventory, hostvars=None):
    ordered = rollout_input.rollout_order(pending, inventory)
    canary = None
    for name in ordered:
        value = (hostvars or {})[name].get('jada_agent_canary') if hostvars is not None else None
        if value:
            canary = str(value)
            break
    return rollout_input.rollout_order(pending, inventory, canary)


class FilterModule(object):
    def filters(self):
        return {'rollout_order': rollout_order}
