# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_problems
short_description: What is wrong with a rollout's input, before any host is read
version_added: 0.2.0
description:
  - "The one check of the role C(jada.agent.orchestrator)'s input (module_utils C(rollout_input)), run on the controller
    before any host is read: the model (known to the pinned Claude Code version, or of the documented shape of an
    Anthropic, Bedrock or Vertex AI model ID, unless C(jada_agent_allow_unknown_model)), the rollout batches
    (C(jada_agent_serial)), the canary (C(jada_agent_canary)), the settle and smoke-task timeouts, the open-files limit
    and the CLI request (version, platform, sha256, installs kept, paths)."
  - Returns one sentence per problem, each naming the variable, its value and the fix; an empty list when the input
    is fine.
options:
  _input:
    description: The role's variables by their names (C(jada_agent_model), C(jada_agent_serial), ...).
    type: dict
    required: true
  context:
    description:
      - The role's own tables the checks need, C(hosts) (the hosts of the run), C(cli_checksums), C(cli_platforms),
        C(cli_url) and C(cli_package).
    type: dict
author:
  - jada.agent maintainers (@jada)
"""

EXAMPLES = r"""
- name: Refuse bad input before any host is read
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ {'jada_agent_model': 'claude sonnet', 'jada_agent_serial': 0} | jada.agent.rollout_problems }}"
  # -> jada_agent_model is "claude sonnet", with blanks ... jada_agent_serial is 0, and 0 is no batch: ...
"""

RETURN = r"""
_value:
  description: The problems, one sentence each.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.jada.agent.plugins.module_utils import rollout_input


def rollout_problems(inputs, context=None):
    if not isinstance(inputs, dict):
        raise AnsibleFilterError('rollout_problems expects a dict of variable names to values, got %s'
                                 % type(inputs).__name__)
    return rollout_input.problems(inputs, context)


class FilterModule(object):
    def filters(self):
        return {'rollout_problems': rollout_problems}
