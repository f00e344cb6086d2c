# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: model_environment
short_description: Keep only the variables of an environment that decide which model Claude Code requests
version_added: 0.2.0
description:
  - Returns the part of an environment (a dict) that the collection's model-resolution engine reads
    (C(ANTHROPIC_MODEL), C(ANTHROPIC_DEFAULT_*_MODEL), C(CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP), C(CLAUDE_CONFIG_DIR),
    C(HOME)) and drops every other value, API keys above all.
  - The role C(jada.agent.orchestrator) passes the unit's environment through it to M(jada.agent.agent_host_info), so
    no secret is ever a module argument.
options:
  _input:
    description: The environment, variable names to values.
    type: dict
    required: true
author:
  - jada.agent maintainers (@jada)
"""

EXAMPLES = r"""
- name: Show which model variables the unit sets
  ansible.builtin.debug:
    msg: "{{ {'ANTHROPIC_API_KEY': 'sk-ant-...', 'ANTHROPIC_MODEL': 'claude-sonnet-4-6'} | jada.agent.model_environment }}"
  # -> {"ANTHROPIC_MODEL": "claude-sonnet-4-6"}
"""

RETURN = r"""
_value:
  description: The model-related variables and their values.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.jada.agent.plugins.module_utils import model_resolution


def model_environment(environment):
    if not isinstance(environment, dict):
        raise AnsibleFilterError('model_environment expects a dict of variable names to values, got %s'
                                 % type(environment).__name__)
    return dict((name, str(value)) for name, value in
                model_resolution.model_environment(environment, model_resolution.PLAN_VARIABLES).items())


class FilterModule(object):
    def filters(self):
        return {'model_environment': model_environment}
