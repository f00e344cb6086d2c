# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The documentation of model_policy.policy_argument_spec(); validate-modules checks that the two agree.
    DOCUMENTATION = r"""
options:
  policy:
    description:
      - The model each agent should use, as a list of agent names or fnmatch patterns and their model.
      - An exact name wins over patterns; among patterns the first match in list order wins; O(default_model) applies
        when nothing matches. Names and patterns are case-sensitive.
    type: list
    elements: dict
    default: [{agent: orchestrator, model: claude-sonnet-4-6}]
    suboptions:
      agent:
        description:
          - Agent name or fnmatch pattern, for example V(orchestrator) or V(research-*).
        type: str
        required: true
      model:
        description:
          - The model the agent should use.
        type: str
        required: true
  default_model:
    description:
      - The model of every agent that O(policy) does not name.
    type: str
    default: claude-haiku-4-5
  model_match:
    description:
      - V(canonical) counts every spelling of the policy model as compliant, so for C(claude-haiku-4-5) the dated
        C(claude-haiku-4-5-20251001), the Bedrock C(us.anthropic.claude-haiku-4-5-20251001-v1:0), the Vertex
        C(claude-haiku-4-5@20251001) and the Claude Code alias C(haiku) all comply.
      - V(exact) requires the very string of the policy.
    type: str
    choices: [canonical, exact]
    default: canonical
"""
