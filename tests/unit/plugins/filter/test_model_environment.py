# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.jada.agent.plugins.filter.model_environment import model_environment


@pytest.mark.parametrize('environment, expected', [
    ({}, {}),
    ({'ANTHROPIC_API_KEY': 'sk-ant-secret', 'ANTHROPIC_BASE_URL': 'http://127.0.0.1:8765'}, {}),
    ({'ANTHROPIC_API_KEY': 'sk-ant-secret', 'ANTHROPIC_MODEL': 'claude-haiku-4-5'}, {'ANTHROPIC_MODEL': 'claude-haiku-4-5'}),
    ({'CLAUDE_CONFIG_DIR': '/etc/claude', 'HOME': '/home/jada', 'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': 1},
     {'CLAUDE_CONFIG_DIR': '/etc/claude', 'HOME': '/home/jada', 'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': '1'}),
    ({'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}, {'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}),
])
def test_only_model_variables_pass(environment, expected):
    assert model_environment(environment) == expected


def test_not_a_dict_is_refused():
    with pytest.raises(AnsibleFilterError, match='expects a dict'):
        model_environment(['ANTHROPIC_MODEL=claude-haiku-4-5'])
