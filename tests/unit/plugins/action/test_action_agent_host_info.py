# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the agent_host_info action plugin, run as the controller runs it (in a fresh Python): the module's
execution is replaced by a recorded answer, so what reaches the host, and when, is what is checked."""

from __future__ import annotations

import json

import pytest

from ansible_collections.jada.agent.tests.unit.plugins.action import controller_harness

# The module's execution, recorded: which module with which arguments, and a scripted answer.
PRELUDE = """
from ansible.plugins.action import ActionBase
ANSWER = json.loads(%r)
def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
    observed.append({'module': module_name, 'args': module_args})
    return dict(ANSWER)
ActionBase._execute_module = _execute_module
"""

REFUSING = {'service': {'name': 'jada-agent'}, 'plan': {'pending': True, 'refusals': ['the agent has failed.']}}
CONVERGED = {'service': {'name': 'jada-agent'}, 'plan': {'pending': False, 'refusals': []}}
ARGS = {'service': 'jada-agent', 'desired': {'model': 'claude-sonnet-4-6'}}


def run(args, answer):
    return controller_harness.run_action('agent_host_info', args, {'inventory_hostname': 'h1'},
                                         prelude=PRELUDE % json.dumps(answer))


def test_bad_input_fails_on_the_controller_and_the_host_is_not_read():
    result, observed = run(dict(ARGS, refuse=True, input_problems=['jada_agent_serial is "0".']), CONVERGED)
    assert observed == []
    assert result['failed'] is True and result['refused'] == 'input'
    assert result['msg'] == 'h1: jada_agent_serial is "0". Nothing was read or changed.'
    assert 'service' not in result and 'plan' not in result


def test_a_refusing_plan_fails_after_the_read_and_keeps_the_read():
    result, observed = run(dict(ARGS, refuse=True, input_problems=[]), REFUSING)
    assert observed == [{'module': 'jada.agent.agent_host_info', 'args': ARGS}]
    assert result['failed'] is True and result['refused'] == 'plan'
    assert result['msg'] == 'h1: the agent has failed. Nothing was changed on any host.'
    assert result['plan'] == REFUSING['plan'] and result['service'] == REFUSING['service']


@pytest.mark.parametrize('args', [
    # A drift report refuses nothing: it lists what it finds, and the input is not its business.
    dict(ARGS, refuse=False, input_problems=['jada_agent_serial is "0".']),
    ARGS,
])
def test_without_refuse_the_read_is_returned_as_it_is(args):
    result, observed = run(args, REFUSING)
    # The controller's own options never reach the host.
    assert observed == [{'module': 'jada.agent.agent_host_info', 'args': ARGS}]
    assert not result.get('failed') and 'refused' not in result and result['plan'] == REFUSING['plan']


def test_a_converged_read_passes_under_refuse():
    result, observed = run(dict(ARGS, refuse=True), CONVERGED)
    assert len(observed) == 1 and not result.get('failed') and 'refused' not in result


def test_an_unreachable_host_is_no_refusal():
    result, observed = run(dict(ARGS, refuse=True), dict(REFUSING, unreachable=True, msg='Failed to connect'))
    assert len(observed) == 1 and result['unreachable'] is True and 'refused' not in result
