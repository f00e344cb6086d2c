# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.jada.agent.plugins.filter.preflight_problem import lightsail_instance, preflight_problem

# What lightsail_instance_info returns in a loop over regions, as the preflight registers it.
BATCHES = {'results': [
    {'item': {'region': 'us-east-1'}, 'instances': [
        {'name': 'jada-agent-1', 'exists': True, 'state': 'running'},
        {'name': 'jada-agent-2', 'exists': True, 'state': 'stopped'},
        {'name': 'jada-agent-3', 'exists': False, 'state': None},
    ]},
    {'item': {'region': 'eu-west-1'}, 'instances': [{'name': 'jada-agent-1', 'exists': True, 'state': 'pending'}]},
]}


@pytest.mark.parametrize('region, name, expected, problem', [
    ('us-east-1', 'jada-agent-1', 'running', None),
    ('us-east-1', 'jada-agent-2', 'running', 'Lightsail instance jada-agent-2 in us-east-1 is stopped, expected running'),
    ('us-east-1', 'jada-agent-2', 'stopped', None),
    ('us-east-1', 'jada-agent-3', 'running', 'Lightsail instance jada-agent-3 in us-east-1 is not found, expected running'),
    ('us-east-1', 'never-read', 'running', 'Lightsail instance never-read in us-east-1 is not found, expected running'),
    # The same name in another region is another instance.
    ('eu-west-1', 'jada-agent-1', 'running', 'Lightsail instance jada-agent-1 in eu-west-1 is pending, expected running'),
])
def test_lightsail(region, name, expected, problem):
    said = preflight_problem(BATCHES, 'lightsail', region, lightsail_instance_name=name, expected_state=expected)
    if problem is None:
        assert said == ''
    else:
        assert said == problem + '; nothing was touched, and the rollout stops here.'


@pytest.mark.parametrize('result, problem', [
    ({'instances': [{'state': {'name': 'running'}}]}, None),
    ({'instances': [{'state': {'name': 'stopped'}}]}, 'EC2 instance i-0abc in us-east-1 is stopped, expected running'),
    ({'instances': []}, 'EC2 instance i-0abc in us-east-1 is not found, expected running'),
    (None, 'EC2 instance i-0abc in us-east-1 is not found, expected running'),
])
def test_ec2(result, problem):
    said = preflight_problem(None, 'ec2', 'us-east-1', ec2_result=result, ec2_instance_id='i-0abc')
    assert said == (problem + '; nothing was touched, and the rollout stops here.' if problem else '')


def test_no_platform_no_problem():
    assert preflight_problem(None, 'none', 'us-east-1') == ''


def test_an_unknown_platform_is_refused():
    with pytest.raises(AnsibleFilterError, match="jada_agent_platform is 'azure'"):
        preflight_problem(None, 'azure', 'us-east-1')


def test_lightsail_instance_of_a_region():
    assert lightsail_instance(BATCHES, 'eu-west-1', 'jada-agent-1')['state'] == 'pending'
    assert lightsail_instance(None, 'us-east-1', 'jada-agent-1') == {'name': 'jada-agent-1', 'exists': False, 'state': None}
