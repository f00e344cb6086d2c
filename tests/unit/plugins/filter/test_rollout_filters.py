# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.jada.agent.plugins.filter.rollout_order import rollout_order
from ansible_collections.jada.agent.plugins.filter.rollout_problems import rollout_problems

INVENTORY = ['jada-agent-1', 'jada-agent-2', 'jada-agent-3']


@pytest.mark.parametrize('hostvars, order', [
    (None, ['jada-agent-1', 'jada-agent-3']),
    ({'jada-agent-1': {}, 'jada-agent-3': {}}, ['jada-agent-1', 'jada-agent-3']),
    ({'jada-agent-1': {'jada_agent_canary': ''}, 'jada-agent-3': {'jada_agent_canary': ''}},
     ['jada-agent-1', 'jada-agent-3']),
    ({'jada-agent-1': {'jada_agent_canary': 'jada-agent-3'}, 'jada-agent-3': {'jada_agent_canary': 'jada-agent-3'}},
     ['jada-agent-3', 'jada-agent-1']),
    # Hosts that disagree: the first host in inventory order says which is the canary.
    ({'jada-agent-1': {'jada_agent_canary': 'jada-agent-3'}, 'jada-agent-3': {'jada_agent_canary': 'jada-agent-1'}},
     ['jada-agent-3', 'jada-agent-1']),
])
def test_rollout_order_reads_the_canary_from_the_hosts(hostvars, order):
    assert rollout_order(['jada-agent-3', 'jada-agent-1'], INVENTORY, hostvars) == order


def test_rollout_problems_wants_a_dict():
    with pytest.raises(AnsibleFilterError, match='expects a dict'):
        rollout_problems(['jada_agent_model'])


def test_rollout_problems_names_the_bad_values():
    found = rollout_problems({'jada_agent_model': 'claude sonnet', 'jada_agent_serial': 0,
                              'jada_agent_settle_seconds': 5, 'jada_agent_smoke_timeout': 60,
                              'jada_agent_cli_version': '2.1.328', 'jada_agent_cli_platform': 'linux-x64',
                              'jada_agent_cli_keep_versions': 1, 'jada_agent_cli_bin': '/b',
                              'jada_agent_cli_install_root': '/r'},
                             {'cli_platforms': ['linux-x64'], 'cli_checksums': {'2.1.328': {'linux-x64': 'a' * 64}}})
    assert [problem.split(' is ')[0] for problem in found] == ['jada_agent_model', 'jada_agent_serial']


def test_rollout_id_names_the_time_and_differs_each_time():
    from ansible_collections.jada.agent.plugins.filter.rollout_id import rollout_id
    ids = set(rollout_id(1796028401.5) for dummy in range(20))
    assert all(value.startswith('20261130T084641Z-') and len(value) == 21 for value in ids)
    assert len(ids) > 1
