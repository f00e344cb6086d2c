# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.jada.agent.plugins.module_utils import rollout_input

CLI = '2.1.328'
CONTEXT = {
    'hosts': ['jada-agent-1', 'jada-agent-2', 'jada-agent-3'],
    'cli_checksums': {'2.1.328': {'linux-x64': 'a' * 64, 'linux-arm64': 'b' * 64}},
    'cli_platforms': ['linux-x64', 'linux-arm64', 'linux-x64-musl', 'linux-arm64-musl'],
    'cli_url': 'https://registry.npmjs.org/@anthropic-ai/claude-code-linux-x64/-/claude-code-linux-x64-9.9.9.tgz',
    'cli_package': '@anthropic-ai/claude-code-linux-x64',
}
GOOD = {
    'jada_agent_model': 'claude-sonnet-4-6', 'jada_agent_allow_unknown_model': False, 'jada_agent_serial': None,
    'jada_agent_canary': '', 'jada_agent_settle_seconds': 5, 'jada_agent_smoke_timeout': 60,
    'jada_agent_nofile': 65536, 'jada_agent_cli_version': CLI, 'jada_agent_cli_platform': 'linux-x64',
    'jada_agent_cli_sha256': '', 'jada_agent_cli_keep_versions': 2, 'jada_agent_cli_bin': '/opt/jada/bin/claude',
    'jada_agent_cli_install_root': '/opt/jada/lib/claude-code', 'jada_agent_rollout_id': '20261130T084641Z-1f2e',
    'jada_agent_snapshot_keep': 5,
}


@pytest.mark.parametrize('model', [
    'claude-sonnet-4-6', 'claude-haiku-4-5', 'Claude-Sonnet-4-6', 'claude-haiku-4-5-20251001',
    'claude-sonnet-4-6[1m]', 'claude-3-5-haiku-20241022',
    # Aliases resolve to an ID the CLI knows.
    'sonnet', 'Haiku', 'opus[1m]', 'best',
    # Legacy IDs are remapped to the opus alias's ID.
    'claude-opus-4-1',
    # Shapes of IDs the pinned CLI does not list, on each platform.
    'claude-sonnet-4-7', 'claude-opus-4-5-latest', 'claude-3-7-sonnet-20250219',
    'anthropic.claude-sonnet-4-5-20250929-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'global.anthropic.claude-haiku-4-5-20251001-v1:0', 'us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6',
    'claude-sonnet-4-5@20250929', 'claude-3-5-sonnet-v2@20241022', 'claude-opus-4-1@20250805',
])
def test_a_model_the_cli_knows_or_of_a_documented_shape_is_fine(model):
    assert rollout_input.model_problem(model, CLI) is None


@pytest.mark.parametrize('model, said', [
    ('', 'jada_agent_model is "": give the model ID'),
    ('   ', 'jada_agent_model is "   ": give the model ID'),
    (None, 'jada_agent_model is null: give the model ID'),
    (5, 'jada_agent_model is 5: give the model ID'),
    ('claude-' + 'x' * 293, 'jada_agent_model is 300 characters long, more than any model ID (200 at most)'),
    ('claude sonnet', 'jada_agent_model is "claude sonnet", with blanks'),
    (' claude-sonnet-4-6', 'jada_agent_model is " claude-sonnet-4-6", with blanks'),
    ('claude-sonnet-4-6\n', 'jada_agent_model is "claude-sonnet-4-6\\n", with blanks or control characters'),
    # What key=value parsing leaves of -e jada_agent_model=claude sonnet.
    ('claude', 'jada_agent_model is "claude", which Claude Code 2.1.328 does not know'),
    ('default', 'jada_agent_model is "default", which Claude Code 2.1.328 does not know'),
    ('mythos', 'jada_agent_model is "mythos", which Claude Code 2.1.328 does not know'),
    ('gpt-4o', 'jada_agent_model is "gpt-4o", which'),
    ('claude-sonnet', 'jada_agent_model is "claude-sonnet", which'),
    ('claude-sonnet-4-6-', 'jada_agent_model is "claude-sonnet-4-6-", which'),
    ('anthropic.claude-sonnet-4-5', 'jada_agent_model is "anthropic.claude-sonnet-4-5", which'),
    ('claude-sonnet-4-5@2025', 'jada_agent_model is "claude-sonnet-4-5@2025", which'),
])
def test_a_bad_model_is_named_with_its_value_and_the_fix(model, said):
    problem = rollout_input.model_problem(model, CLI)
    assert problem is not None and problem.startswith(said), problem


def test_an_unknown_id_passes_only_when_allowed_explicitly():
    assert 'jada_agent_allow_unknown_model: true' in rollout_input.model_problem('my-gateway-model', CLI)
    assert rollout_input.model_problem('my-gateway-model', CLI, allow_unknown=True) is None
    assert rollout_input.model_problem('my-gateway-model', CLI, allow_unknown='yes') is None
    assert rollout_input.model_problem('my-gateway-model', CLI, allow_unknown='false') is not None
    # Blanks and empty values are never allowed: they are typos, not IDs.
    assert rollout_input.model_problem('claude sonnet', CLI, allow_unknown=True) is not None
    assert rollout_input.model_problem('', CLI, allow_unknown=True) is not None


def test_an_alias_is_checked_as_the_id_it_resolves_to():
    facts = {'9.0.0': {'aliases': {'sonnet': ('SONNET', 'not-a-model')}, 'alias_variable': 'ANTHROPIC_DEFAULT_%s_MODEL',
                       'suffixes': ('[1m]',), 'legacy_remap': (), 'known_ids': (), 'truthy': ('1',),
                       'remap_variable': 'X'}}
    problem = rollout_input.model_problem('sonnet', '9.0.0', facts_table=facts)
    assert problem.startswith('jada_agent_model is "sonnet" (requested as "not-a-model"), which Claude Code 9.0.0')


def test_a_cli_version_without_facts_still_accepts_documented_shapes():
    assert rollout_input.model_problem('claude-sonnet-4-6', '9.9.9') is None
    assert rollout_input.model_problem('claude', '9.9.9') is not None


@pytest.mark.parametrize('serial, fine', [
    (None, True), (1, True), ('1', True), ([1, '100%'], True), (['1', '50%', '100%'], True), ('30%', True),
    ('100%', True), (['2.5%'], True), (2, True),
    (0, False), ('0', False), ([], False), ([0, '100%'], False), ('0%', False), ('150%', False), (-1, False),
    ('-1', False), ('a', False), ([1, 'all'], False), (True, False), ('', False), (1.5, False),
])
def test_serial_must_give_a_canary_batch(serial, fine):
    problem = rollout_input.serial_problem(serial)
    assert (problem is None) is fine, problem
    if not fine:
        assert problem.startswith('jada_agent_serial is ') and 'the first batch is the canary' in problem


@pytest.mark.parametrize('name, value, minimum, fine', [
    ('jada_agent_settle_seconds', 5, 0, True), ('jada_agent_settle_seconds', 0, 0, True),
    ('jada_agent_settle_seconds', '2.5', 0, True), ('jada_agent_settle_seconds', 3600, 0, True),
    ('jada_agent_settle_seconds', -5, 0, False), ('jada_agent_settle_seconds', '-5', 0, False),
    ('jada_agent_settle_seconds', 3601, 0, False), ('jada_agent_settle_seconds', 'soon', 0, False),
    ('jada_agent_settle_seconds', None, 0, False), ('jada_agent_settle_seconds', True, 0, False),
    ('jada_agent_settle_seconds', float('nan'), 0, False),
    ('jada_agent_smoke_timeout', 60, 1, True), ('jada_agent_smoke_timeout', 0, 1, False),
])
def test_seconds(name, value, minimum, fine):
    problem = rollout_input.seconds_problem(name, value, minimum, 'FIX')
    assert (problem is None) is fine
    if not fine:
        assert problem.startswith(name + ' is ') and problem.endswith(': FIX')


@pytest.mark.parametrize('canary, problem', [
    ('', None), (None, None), ('jada-agent-2', None),
    ('jada-agent-9', 'jada_agent_canary is "jada-agent-9", which is not a host of this run (jada-agent-1, jada-agent-2, '
                     'jada-agent-3): name one of them'),
])
def test_canary_must_be_a_host_of_the_run(canary, problem):
    said = rollout_input.canary_problem(canary, CONTEXT['hosts'])
    assert said == problem or said.startswith(problem)


def test_good_input_has_no_problem():
    assert rollout_input.problems(GOOD, CONTEXT) == []


@pytest.mark.parametrize('change, said', [
    ({'jada_agent_model': ''}, 'jada_agent_model is ""'),
    ({'jada_agent_serial': 0}, 'jada_agent_serial is 0'),
    ({'jada_agent_canary': 'elsewhere'}, 'jada_agent_canary is "elsewhere"'),
    ({'jada_agent_settle_seconds': -5}, 'jada_agent_settle_seconds is -5: give the seconds'),
    ({'jada_agent_smoke_timeout': 0}, 'jada_agent_smoke_timeout is 0: give the seconds'),
    ({'jada_agent_nofile': 0}, 'jada_agent_nofile is 0, which Linux can never grant'),
    ({'jada_agent_cli_version': '2.1'}, 'jada_agent_cli_version is "2.1", which is no npm version'),
    ({'jada_agent_cli_platform': 'darwin-x64'}, 'jada_agent_cli_platform is "darwin-x64", which is no platform'),
    ({'jada_agent_cli_sha256': 'abc'}, 'jada_agent_cli_sha256 is "abc", which is no sha256'),
    ({'jada_agent_cli_version': '9.9.9'}, 'jada_agent_cli_sha256 is not set, and this role knows no sha256 for '
                                          '@anthropic-ai/claude-code-linux-x64 9.9.9 (it knows them for 2.1.328 on '
                                          'linux-x64, linux-arm64 only)'),
    ({'jada_agent_cli_platform': 'linux-x64-musl'}, 'jada_agent_cli_sha256 is not set'),
    ({'jada_agent_cli_keep_versions': 0}, 'jada_agent_cli_keep_versions is 0: keep at least 1'),
    ({'jada_agent_cli_bin': 'bin/claude'}, 'jada_agent_cli_bin is "bin/claude": give an absolute path.'),
    ({'jada_agent_cli_install_root': ''}, 'jada_agent_cli_install_root is "": give an absolute path.'),
    ({'jada_agent_rollout_id': '../x'}, 'jada_agent_rollout_id is "../x": use 1 to 100 letters'),
    ({'jada_agent_rollout_id': 'last'}, 'jada_agent_rollout_id is "last": use 1 to 100 letters'),
    ({'jada_agent_snapshot_keep': 0}, 'jada_agent_snapshot_keep is 0: keep at least 1'),
])
def test_each_bad_value_is_one_problem(change, said):
    inputs = dict(GOOD, **change)
    found = rollout_input.problems(inputs, CONTEXT)
    assert len(found) == 1 and found[0].startswith(said), found


# ansible-core before 2.19 renders every templated variable to text, and a templated null to '': the same input so
# rendered must be exactly as good, and each bad value exactly as bad, as on 2.19.
AS_TEXT_BEFORE_2_19 = dict(GOOD, jada_agent_allow_unknown_model='False', jada_agent_settle_seconds='5',
                           jada_agent_smoke_timeout='60', jada_agent_nofile='65536', jada_agent_cli_keep_versions='2',
                           jada_agent_snapshot_keep='5')


@pytest.mark.parametrize('change', [
    {},
    {'jada_agent_nofile': ''},
    {'jada_agent_nofile': 'max'},
    {'jada_agent_canary': ''},
    {'jada_agent_rollout_id': ''},
    {'jada_agent_cli_sha256': ''},
    {'jada_agent_allow_unknown_model': 'True', 'jada_agent_model': 'claude-sonnet-9-9'},
])
def test_input_rendered_as_text_is_as_good(change):
    assert rollout_input.problems(dict(AS_TEXT_BEFORE_2_19, **change), CONTEXT) == []


@pytest.mark.parametrize('change, said', [
    ({'jada_agent_nofile': '0'}, 'jada_agent_nofile is 0, which Linux can never grant'),
    ({'jada_agent_nofile': '2147483646'}, 'jada_agent_nofile is 2147483646, which Linux can never grant'),
    ({'jada_agent_settle_seconds': '-5'}, 'jada_agent_settle_seconds is "-5": give the seconds'),
    ({'jada_agent_smoke_timeout': '0'}, 'jada_agent_smoke_timeout is "0": give the seconds'),
    ({'jada_agent_cli_keep_versions': '0'}, 'jada_agent_cli_keep_versions is "0": keep at least 1'),
    ({'jada_agent_snapshot_keep': '0'}, 'jada_agent_snapshot_keep is "0": keep at least 1'),
])
def test_bad_input_rendered_as_text_is_as_bad(change, said):
    found = rollout_input.problems(dict(AS_TEXT_BEFORE_2_19, **change), CONTEXT)
    assert len(found) == 1 and found[0].startswith(said), found


def test_a_given_sha256_serves_a_version_the_role_does_not_know():
    assert rollout_input.problems(dict(GOOD, jada_agent_cli_version='9.9.9', jada_agent_cli_sha256='C' * 64),
                                  CONTEXT) == []


def test_every_problem_is_reported_at_once():
    found = rollout_input.problems(dict(GOOD, jada_agent_model='claude', jada_agent_serial=0,
                                        jada_agent_settle_seconds=-5), CONTEXT)
    assert [problem.split(' ')[0] for problem in found] == [
        'jada_agent_model', 'jada_agent_serial', 'jada_agent_settle_seconds']


@pytest.mark.parametrize('pending, canary, order', [
    (['c', 'a'], None, ['a', 'c']),
    (['c', 'b', 'a'], None, ['a', 'b', 'c']),
    (['c', 'b', 'a'], 'c', ['c', 'a', 'b']),
    # A canary already converged changes nothing: the first host to change in inventory order goes first.
    (['c', 'b'], 'a', ['b', 'c']),
    ([], 'a', []),
    (None, None, []),
    # A host missing from the inventory order (added at run time) goes last, by name.
    (['z2', 'b', 'z1'], None, ['b', 'z1', 'z2']),
])
def test_rollout_order(pending, canary, order):
    assert rollout_input.rollout_order(pending, ['a', 'b', 'c', 'd'], canary) == order
