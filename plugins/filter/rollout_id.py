# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_id
short_description: A new rollout id, as M(jada.agent.config_snapshot) makes them
version_added: 0.2.0
description:
  - The UTC time (of the input, epoch seconds) and four random hexadecimal digits, such as C(20261130T084641Z-1f2e),
    so ids sort by time and two runs in the same second still differ.
  - C(upgrade-model.yml) names each run with it once, so every host's snapshot carries the same id.
options:
  _input:
    description: The time, in seconds since the epoch.
    type: float
    required: true
author:
  - jada.agent maintainers (@jada)
"""

EXAMPLES = r"""
- name: Name this rollout
  ansible.builtin.set_fact:
    jada_agent_rollout_id: "{{ now().timestamp() | jada.agent.rollout_id }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The id.
  type: str
"""

from ansible_collections.jada.agent.plugins.module_utils import snapshots


def rollout_id(now):
    return snapshots.new_id(float(now))


class FilterModule(object):
    def filters(self):
        return {'rollout_id': rollout_id}
