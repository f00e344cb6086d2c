# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The engine's rules, one table per rule. Each expected value is what the real CLI 2.1.328 requested in the same
situation (the probes recorded in claude_code_facts.py); tests/conformance re-asks the CLI under systemd."""

from __future__ import annotations

import json

import pytest

from ansible_collections.jada.agent.plugins.module_utils import model_resolution as mr
from ansible_collections.jada.agent.plugins.module_utils.claude_code_facts import FACTS

VERSION = '2.1.328'
SECRET = 'sk-ant-api03-never-print-me'
PATHS = {'user': '/home/jada/.claude/settings.json', 'project': '/srv/o/.claude/settings.json',
         'local': '/srv/o/.claude/settings.local.json', 'flag': '/etc/jada/flag.json',
         'managed': '/etc/claude-code/managed-settings.json',
         'dropin10': '/etc/claude-code/managed-settings.d/10-a.json',
         'dropin20': '/etc/claude-code/managed-settings.d/20-b.json'}
ORDER = ('user', 'project', 'local', 'flag', 'managed', 'dropin10', 'dropin20')


def sources(**files):
    """Settings sources in the CLI's load order; a dict is written as JSON, a str as is."""
    result = []
    for name in ORDER:
        if name in files:
            content = files[name]
            text = content if isinstance(content, str) else json.dumps(content)
            scope = 'managed' if name.startswith('dropin') else name
            result.append({'scope': scope, 'path': PATHS[name], 'text': text, 'error': None})
    return result


def resolve(files=None, argv=(), environment=None, environment_file=None, version=VERSION):
    layers = [('the environment of jada-agent', environment or {})]
    if environment_file is not None:
        layers.append(('/etc/jada/jada-agent.env (EnvironmentFile of jada-agent)', environment_file))
    return mr.resolve(sources(**(files or {})), list(argv), layers, version, 'jada-agent')


def kinds(result):
    return [warning['kind'] for warning in result['warnings']]


def case(name, expected, **kwargs):
    return pytest.param(kwargs, expected, id=name)


# --- precedence: which setting wins ------------------------------------------------------------------------------

PRECEDENCE = [
    case('user-only', ('claude-opus-4-6', 'user'), files={'user': {'model': 'claude-opus-4-6'}}),
    case('project-over-user', ('claude-sonnet-4-6', 'project'),
         files={'user': {'model': 'claude-haiku-4-5'}, 'project': {'model': 'claude-sonnet-4-6'}}),
    case('local-over-project', ('claude-sonnet-4-6', 'local'),
         files={'project': {'model': 'claude-haiku-4-5'}, 'local': {'model': 'claude-sonnet-4-6'}}),
    case('flag-file-over-local', ('claude-sonnet-4-6', 'flag'),
         files={'local': {'model': 'claude-haiku-4-5'}, 'flag': {'model': 'claude-sonnet-4-6'}}),
    case('managed-over-flag-file', ('claude-haiku-4-5', 'managed'),
         files={'flag': {'model': 'claude-sonnet-4-6'}, 'managed': {'model': 'claude-haiku-4-5'}}),
    case('dropin-over-managed', ('claude-sonnet-4-6', 'dropin10'),
         files={'managed': {'model': 'claude-haiku-4-5'}, 'dropin10': {'model': 'claude-sonnet-4-6'}}),
    case('dropins-in-name-order', ('claude-sonnet-4-6', 'dropin20'),
         files={'dropin10': {'model': 'claude-haiku-4-5'}, 'dropin20': {'model': 'claude-sonnet-4-6'}}),
    case('user-env-block-over-project-model', ('claude-sonnet-4-6', 'env:user'),
         files={'user': {'env': {'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}, 'project': {'model': 'claude-haiku-4-5'}}),
    case('own-env-block-over-own-model', ('claude-sonnet-4-6', 'env:project'),
         files={'project': {'model': 'claude-haiku-4-5', 'env': {'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}}),
    case('project-env-over-user-env', ('claude-haiku-4-5', 'env:project'),
         files={'user': {'env': {'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}, 'project': {'env': {'ANTHROPIC_MODEL': 'claude-haiku-4-5'}}}),
    case('managed-env-over-local-env', ('claude-haiku-4-5', 'env:managed'),
         files={'local': {'env': {'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}, 'managed': {'env': {'ANTHROPIC_MODEL': 'claude-haiku-4-5'}}}),
    case('user-env-over-managed-model', ('claude-sonnet-4-6', 'env:user'),
         files={'user': {'env': {'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}, 'managed': {'model': 'claude-haiku-4-5'}}),
    case('unit-environment-over-managed-model', ('claude-sonnet-4-6', 'unit'),
         files={'managed': {'model': 'claude-haiku-4-5'}}, environment={'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}),
    case('environment-file-over-environment', ('claude-sonnet-4-6', 'envfile'),
         environment={'ANTHROPIC_MODEL': 'claude-haiku-4-5'}, environment_file={'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}),
    case('env-block-over-unit-environment', ('claude-sonnet-4-6', 'env:user'),
         files={'user': {'env': {'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}}, environment={'ANTHROPIC_MODEL': 'claude-haiku-4-5'}),
    case('empty-env-block-value-unsets-the-unit-one', ('claude-haiku-4-5', 'project'),
         files={'user': {'env': {'ANTHROPIC_MODEL': ''}}, 'project': {'model': 'claude-haiku-4-5'}},
         environment={'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}),
    case('flag-over-everything', ('claude-haiku-4-5', 'argv'),
         argv=['--model', 'claude-haiku-4-5'], environment={'ANTHROPIC_MODEL': 'claude-sonnet-4-6'},
         files={'managed': {'env': {'ANTHROPIC_MODEL': 'claude-opus-4-6'}}}),
    case('repeated-flag-last-wins', ('claude-sonnet-4-6', 'argv'),
         argv=['--model', 'claude-haiku-4-5', '--model=claude-sonnet-4-6']),
    case('env-block-number-is-a-string', ('5', 'env:user'),
         files={'user': {'env': {'ANTHROPIC_MODEL': 5}}, 'project': {'model': 'claude-haiku-4-5'}}),
    case('env-block-null-is-a-string', ('null', 'env:local'),
         files={'local': {'env': {'ANTHROPIC_MODEL': None}}, 'project': {'model': 'claude-haiku-4-5'}}),
    case('env-block-object-is-a-string', ('[object Object]', 'env:local'),
         files={'local': {'env': {'ANTHROPIC_MODEL': {}}}, 'project': {'model': 'claude-haiku-4-5'}}),
    case('duplicate-key-last-wins', ('claude-sonnet-4-6', 'local'),
         files={'local': '{"model": "claude-opus-4-6", "model": "claude-sonnet-4-6"}', 'project': {'model': 'claude-haiku-4-5'}}),
    case('byte-order-mark-accepted', ('claude-sonnet-4-6', 'local'),
         files={'local': '\ufeff{"model": "claude-sonnet-4-6"}', 'project': {'model': 'claude-haiku-4-5'}}),
    case('empty-file-is-no-settings', ('claude-haiku-4-5', 'project'),
         files={'local': '  \n', 'project': {'model': 'claude-haiku-4-5'}}),
]

SOURCE_LABELS = {
    'argv': '--model in ExecStart of jada-agent',
    'unit': 'ANTHROPIC_MODEL in the environment of jada-agent',
    'envfile': 'ANTHROPIC_MODEL in /etc/jada/jada-agent.env (EnvironmentFile of jada-agent)',
}


def label(expected_source):
    if expected_source in SOURCE_LABELS:
        return SOURCE_LABELS[expected_source]
    if expected_source.startswith('env:'):
        return 'ANTHROPIC_MODEL in the env block of %s' % PATHS[expected_source[4:]]
    return PATHS[expected_source]


@pytest.mark.parametrize('kwargs, expected', PRECEDENCE)
def test_precedence(kwargs, expected):
    result = resolve(**kwargs)

    assert (result['model'], result['source']) == (expected[0], label(expected[1]))
    assert result['fatal'] is None


# --- resolution: what the winning setting requests ---------------------------------------------------------------

RESOLUTION = [
    case('full-id-as-written', ('claude-sonnet-4-6', []), setting='claude-sonnet-4-6'),
    case('known-id-lowercased', ('claude-sonnet-4-6', []), setting='Claude-Sonnet-4-6'),
    case('unknown-id-as-written', ('My-Custom-Model', []), setting='My-Custom-Model'),
    case('blanks-trimmed', ('claude-sonnet-4-6', []), setting=' claude-sonnet-4-6 '),
    case('suffix-dropped', ('claude-sonnet-4-6', []), setting='claude-sonnet-4-6[1M]'),
    case('default-is-not-an-alias-in-a-file', ('default', []), setting='default'),
    case('sonnet-alias', ('claude-sonnet-5-5', ['alias']), setting='sonnet'),
    case('alias-any-case-with-suffix', ('claude-sonnet-5-5', ['alias']), setting='  SONNET[1m] '),
    case('haiku-alias', ('claude-haiku-5-5', ['alias']), setting='haiku'),
    case('opus-alias', ('claude-opus-5-5', ['alias']), setting='opus'),
    case('opusplan-alias', ('claude-sonnet-5-5', ['alias']), setting='opusplan'),
    case('best-alias', ('claude-opus-5-5', ['alias']), setting='best'),
    case('fable-alias', ('claude-fable-5-2', ['alias']), setting='fable'),
    case('mythos-is-no-alias', ('mythos', []), setting='mythos'),
    case('sonnet-variable', ('claude-sonnet-4-6', ['alias']), setting='sonnet',
         environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}),
    case('opusplan-follows-sonnet-variable', ('claude-sonnet-4-6', ['alias']), setting='opusplan',
         environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}),
    case('opusplan-ignores-opus-variable', ('claude-sonnet-5-5', ['alias']), setting='opusplan',
         environment={'ANTHROPIC_DEFAULT_OPUS_MODEL': 'claude-opus-4-6'}),
    case('variable-value-sent-as-written', ('haiku', ['alias']), setting='sonnet',
         environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': 'haiku'}),
    case('empty-variable-ignored', ('claude-sonnet-5-5', ['alias']), setting='sonnet',
         environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': ''}),
    case('variable-in-env-block', ('claude-sonnet-4-6', ['alias']), setting='sonnet',
         files={'user': {'env': {'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}}}),
    case('variable-leaves-full-ids', ('claude-sonnet-4-6', []), setting='claude-sonnet-4-6',
         environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-5'}),
    case('legacy-remap', ('claude-opus-5-5', ['legacy-remap']), setting='claude-opus-4-1'),
    case('legacy-remap-dated', ('claude-opus-5-5', ['legacy-remap']), setting='claude-opus-4-20250514'),
    case('legacy-remap-any-case-with-suffix', ('claude-opus-5-5', ['legacy-remap']), setting='Claude-Opus-4-1[1m]'),
    case('not-legacy', ('claude-opus-4-0-20250514', []), setting='claude-opus-4-0-20250514'),
    case('legacy-remap-follows-opus-variable', ('claude-opus-4-6', ['legacy-remap']), setting='claude-opus-4-0',
         environment={'ANTHROPIC_DEFAULT_OPUS_MODEL': 'claude-opus-4-6'}),
    case('remap-off-1', ('claude-opus-4-1', []), setting='claude-opus-4-1',
         environment={'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': '1'}),
    case('remap-off-on-with-blanks', ('claude-opus-4-1', []), setting='claude-opus-4-1',
         environment={'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': ' ON '}),
    case('remap-stays-with-0', ('claude-opus-5-5', ['legacy-remap']), setting='claude-opus-4-1',
         environment={'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': '0'}),
    case('remap-stays-with-2', ('claude-opus-5-5', ['legacy-remap']), setting='claude-opus-4-1',
         environment={'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': '2'}),
    case('remap-off-json-true-in-env-block', ('claude-opus-4-1', []), setting='claude-opus-4-1',
         files={'user': {'env': {'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': True}}}),
    case('remap-off-json-1-in-env-block', ('claude-opus-4-1', []), setting='claude-opus-4-1',
         files={'user': {'env': {'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP': 1}}}),
]


@pytest.mark.parametrize('kwargs, expected', RESOLUTION)
def test_resolution(kwargs, expected):
    files = dict(kwargs.pop('files', {}))
    files['project'] = {'model': kwargs.pop('setting')}

    result = resolve(files=files, **kwargs)

    assert (result['model'], kinds(result)) == expected
    assert result['setting'] == files['project']['model']


# --- the default -------------------------------------------------------------------------------------------------

DEFAULTS = [
    case('nothing-set', ('claude-opus-5-5', None, 'Claude Code default', ['default'])),
    case('opus-variable-moves-it', ('claude-opus-4-6', None, 'Claude Code default', ['default']),
         environment={'ANTHROPIC_DEFAULT_OPUS_MODEL': 'claude-opus-4-6'}),
    case('sonnet-variable-does-not', ('claude-opus-5-5', None, 'Claude Code default', ['default']),
         environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}),
    case('default-model-variable', ('claude-sonnet-4-6', 'claude-sonnet-4-6',
                                    'ANTHROPIC_DEFAULT_MODEL in the environment of jada-agent', []),
         environment={'ANTHROPIC_DEFAULT_MODEL': 'claude-sonnet-4-6', 'ANTHROPIC_DEFAULT_OPUS_MODEL': 'claude-opus-4-6'}),
    case('default-model-variable-resolves-aliases', ('claude-sonnet-5-5', 'sonnet',
                                                     'ANTHROPIC_DEFAULT_MODEL in the environment of jada-agent', ['alias']),
         environment={'ANTHROPIC_DEFAULT_MODEL': 'sonnet'}),
    case('default-model-variable-refuses-haiku', ('claude-opus-4-6', None, 'Claude Code default', ['ignored', 'default']),
         environment={'ANTHROPIC_DEFAULT_MODEL': 'Haiku[1m]', 'ANTHROPIC_DEFAULT_OPUS_MODEL': 'claude-opus-4-6'}),
    case('default-model-variable-refuses-opusplan', ('claude-opus-5-5', None, 'Claude Code default', ['ignored', 'default']),
         environment={'ANTHROPIC_DEFAULT_MODEL': 'opusplan'}),
    case('default-model-variable-takes-fable', ('claude-fable-5-2', 'fable',
                                                'ANTHROPIC_DEFAULT_MODEL in the environment of jada-agent', ['alias']),
         environment={'ANTHROPIC_DEFAULT_MODEL': 'fable'}),
    case('default-model-variable-in-env-block', ('claude-sonnet-4-6', 'claude-sonnet-4-6',
                                                 'ANTHROPIC_DEFAULT_MODEL in the env block of %s' % PATHS['user'], []),
         files={'user': {'env': {'ANTHROPIC_DEFAULT_MODEL': 'claude-sonnet-4-6'}}}),
    case('empty-model-key-means-default', ('claude-opus-5-5', '', PATHS['local'], ['default']),
         files={'local': {'model': ''}, 'project': {'model': 'claude-haiku-4-5'}}),
    case('flag-default-means-default', ('claude-opus-5-5', 'default', '--model in ExecStart of jada-agent', ['default']),
         argv=['--model', 'default'], files={'project': {'model': 'claude-haiku-4-5'}}),
    case('empty-unit-variable-is-unset', ('claude-sonnet-4-6', 'claude-sonnet-4-6', PATHS['project'], []),
         environment={'ANTHROPIC_MODEL': ''}, files={'project': {'model': 'claude-sonnet-4-6'}}),
]


@pytest.mark.parametrize('kwargs, expected', DEFAULTS)
def test_default(kwargs, expected):
    result = resolve(**kwargs)

    assert (result['model'], result['setting'], result['source'], kinds(result)) == expected


# --- files the CLI skips, and files that stop it -----------------------------------------------------------------

SKIPPED = [
    case('trailing-comma', ('local', 'line 1, column 30: trailing comma'), local='{"model": "claude-sonnet-4-6",}'),
    case('comment', ('local', 'line 1, column 1: comments are not allowed'), local='// x\n{"model": "claude-sonnet-4-6"}'),
    case('non-string-model', ('local', 'line 1, column 11: the top-level "model" value must be a string, found a number'),
         local='{"model": 5}'),
    case('null-model', ('local', 'the top-level "model" value must be a string, found null'), local='{"model": null}'),
    case('top-level-array', ('local', 'the top level must be a JSON object, found an array'),
         local='[{"model": "claude-sonnet-4-6"}]'),
    case('env-not-an-object', ('local', 'line 1, column 39: the top-level "env" must be an object, found a string'),
         local='{"model": "claude-sonnet-4-6", "env": "x"}'),
    case('available-models-not-a-list', ('local', 'the top-level "availableModels" must be an array of strings'),
         local='{"model": "claude-sonnet-4-6", "availableModels": "x"}'),
    case('permissions-not-an-object', ('local', 'the top-level "permissions" must be an object, found a number'),
         local='{"model": "claude-sonnet-4-6", "permissions": 5}'),
    case('user-file-with-env-block', ('user', 'trailing comma'), user='{"env": {"ANTHROPIC_MODEL": "claude-sonnet-4-6"},}'),
]


@pytest.mark.parametrize('kwargs, expected', SKIPPED)
def test_skipped_files_leave_the_rest_in_charge(kwargs, expected):
    files = dict(kwargs, project={'model': 'claude-haiku-4-5'})

    result = resolve(files=files)

    assert (result['model'], result['source']) == ('claude-haiku-4-5', PATHS['project'])
    assert len(result['skipped']) == 1
    assert result['skipped'][0]['path'] == PATHS[expected[0]]
    assert expected[1] in result['skipped'][0]['reason'], result['skipped'][0]['reason']


def test_skipped_reason_never_holds_content():
    result = resolve(files={'local': '{"env": {"ANTHROPIC_API_KEY": "%s"},}' % SECRET, 'project': {'model': 'x'}})

    assert result['skipped'] and SECRET not in json.dumps(result)


def test_unknown_key_of_any_type_is_fine():
    result = resolve(files={'local': {'model': 'claude-sonnet-4-6', 'fooBar': 5}})

    assert (result['model'], result['skipped']) == ('claude-sonnet-4-6', [])


FATAL = [
    case('managed-invalid-json', 'managed-settings.json: line 1, column 30: trailing comma',
         files={'managed': '{"model": "claude-sonnet-4-6",}'}),
    case('managed-array', 'the top level must be a JSON object', files={'managed': '[]'}),
    case('dropin-invalid-json', '10-a.json: line 1', files={'dropin10': '{"model": "x",}'}),
    case('settings-flag-invalid-json', '--settings in ExecStart', files={}, argv_settings='{"model": "x",}'),
    case('settings-flag-missing-file', 'does not exist', files={}, missing_flag_file=True),
]


@pytest.mark.parametrize('kwargs, expected', FATAL)
def test_fatal_sources_stop_the_cli(kwargs, expected):
    files = dict(kwargs['files'], project={'model': 'claude-haiku-4-5'})
    planned = sources(**files)
    if 'argv_settings' in kwargs:
        planned.append({'scope': 'flag', 'path': '--settings in ExecStart', 'text': kwargs['argv_settings'], 'error': None})
    if kwargs.get('missing_flag_file'):
        planned.append({'scope': 'flag', 'path': '/nonexistent.json', 'text': None, 'error': None})

    result = mr.resolve(planned, [], [], VERSION)

    assert result['model'] is None
    assert expected in result['fatal'], result['fatal']
    assert kinds(result) == ['fatal']


def test_invalid_managed_model_entry_is_dropped_not_the_file():
    result = resolve(files={'managed': {'model': 5, 'env': {'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-6'}},
                            'project': {'model': 'sonnet'}})

    assert (result['model'], result['source']) == ('claude-sonnet-4-6', PATHS['project'])
    assert kinds(result) == ['invalid-entry', 'alias']


# --- availableModels ---------------------------------------------------------------------------------------------

AVAILABLE = [
    case('excluded-falls-back-to-default', ('claude-opus-5-5', ['available-models']),
         allowed=['claude-sonnet-4-6'], setting='claude-haiku-4-5'),
    case('included', ('claude-sonnet-4-6', []), allowed=['claude-sonnet-4-6'], setting='claude-sonnet-4-6'),
    case('empty-list-allows-nothing', ('claude-opus-5-5', ['available-models']), allowed=[], setting='claude-haiku-4-5'),
    case('alias-entry-allows-family', ('claude-sonnet-4-6', []), allowed=['sonnet'], setting='claude-sonnet-4-6'),
    case('alias-entry-and-alias', ('claude-sonnet-5-5', ['alias']), allowed=['sonnet'], setting='sonnet'),
    case('id-entry-allows-its-alias', ('claude-sonnet-5-5', ['alias']), allowed=['claude-sonnet-5-5'], setting='sonnet'),
    case('entry-case-and-suffix', ('claude-sonnet-4-6', []), allowed=['Claude-Sonnet-4-6'], setting='claude-sonnet-4-6[1m]'),
    case('alias-entry-other-family', ('claude-opus-5-5', ['available-models']), allowed=['opus'], setting='claude-haiku-4-5'),
    case('alias-falls-back-in-family', ('claude-sonnet-4-6', ['alias', 'available-models']),
         allowed=['claude-sonnet-4-6'], setting='sonnet'),
    case('alias-falls-back-to-newest', ('claude-sonnet-4-6', ['alias', 'available-models']),
         allowed=['claude-sonnet-4-6', 'claude-sonnet-4-5'], setting='sonnet'),
    case('alias-falls-back-to-newest-whatever-the-order', ('claude-sonnet-4-6', ['alias', 'available-models']),
         allowed=['claude-sonnet-4-5', 'claude-sonnet-4-6'], setting='sonnet'),
    case('haiku-falls-back-to-first-party-id', ('claude-haiku-4-5-20251001', ['alias', 'available-models']),
         allowed=['claude-haiku-4-5'], setting='haiku'),
    case('unverified-fallback-said', ('claude-haiku-4-6', ['alias', 'unverified', 'available-models']),
         allowed=['claude-haiku-4-6'], setting='haiku'),
    case('full-id-never-falls-back-in-family', ('claude-opus-5-5', ['available-models']),
         allowed=['claude-sonnet-4-6'], setting='claude-sonnet-5-5'),
    case('opusplan-falls-back-to-default', ('claude-opus-5-5', ['alias', 'available-models']),
         allowed=['claude-sonnet-4-6'], setting='opusplan'),
    case('fallback-default-follows-default-variable', ('claude-sonnet-4-6', ['available-models']),
         allowed=['claude-sonnet-4-6'], setting='claude-haiku-4-5', environment={'ANTHROPIC_DEFAULT_MODEL': 'claude-sonnet-4-6'}),
    case('variable-moved-alias-falls-back', ('claude-sonnet-4-6', ['alias', 'available-models']),
         allowed=['claude-sonnet-4-6'], setting='sonnet', environment={'ANTHROPIC_DEFAULT_SONNET_MODEL': 'claude-sonnet-4-5'}),
]


@pytest.mark.parametrize('kwargs, expected', AVAILABLE)
def test_available_models(kwargs, expected):
    files = {'managed': {'availableModels': kwargs['allowed']}, 'project': {'model': kwargs['setting']}}

    result = resolve(files=files, environment=kwargs.get('environment'))

    assert (result['model'], kinds(result)) == expected


AVAILABLE_SOURCES = [
    case('user-file-restricts', 'claude-opus-5-5', files={'user': {'availableModels': ['claude-sonnet-4-6']},
                                                          'project': {'model': 'claude-haiku-4-5'}}),
    case('lists-add-up', 'claude-haiku-4-5', files={'user': {'availableModels': ['claude-sonnet-4-6']},
                                                    'project': {'model': 'claude-haiku-4-5', 'availableModels': ['claude-haiku-4-5']}}),
    case('flag-restricted-too', 'claude-opus-5-5', files={'managed': {'availableModels': ['claude-sonnet-4-6']}},
         argv=['--model', 'claude-haiku-4-5']),
    case('default-never-restricted', 'claude-opus-5-5', files={'managed': {'availableModels': ['claude-haiku-4-5']}}),
    case('invalid-managed-list-allows-nothing', 'claude-opus-5-5',
         files={'managed': {'availableModels': 'x'}, 'project': {'model': 'claude-haiku-4-5'}}),
]


@pytest.mark.parametrize('kwargs, expected', AVAILABLE_SOURCES)
def test_available_models_sources(kwargs, expected):
    assert resolve(**kwargs)['model'] == expected


# --- versions and what is not modelled ---------------------------------------------------------------------------

@pytest.mark.parametrize('version', ['9.9.9', None])
def test_unknown_cli_version_is_said_not_guessed(version):
    result = resolve(files={'project': {'model': 'sonnet'}}, version=version)

    assert result['model'] is None
    assert (result['setting'], result['source']) == ('sonnet', PATHS['project'])
    assert kinds(result) == ['unknown-cli-version']


@pytest.mark.parametrize('version', sorted(FACTS))
def test_every_known_version_resolves(version):
    assert resolve(files={'project': {'model': 'claude-sonnet-4-6'}}, version=version)['model'] == 'claude-sonnet-4-6'


def test_facts_are_keyed_by_version():
    facts = {'1.0.0': dict(FACTS[VERSION], aliases={'sonnet': ('SONNET', 'claude-sonnet-1-0')})}

    result = mr.resolve(sources(project={'model': 'sonnet'}), [], [], '1.0.0', facts_table=facts)

    assert result['model'] == 'claude-sonnet-1-0'


@pytest.mark.parametrize('files, argv, kind', [
    ({'user': {'model': 'x', 'env': {'CLAUDE_CONFIG_DIR': '/cfg'}}}, [], 'unmodelled'),
    ({'project': {'model': 'x'}}, ['--model', ''], 'unmodelled'),
])
def test_what_is_not_modelled_gives_no_model(files, argv, kind):
    result = resolve(files=files, argv=argv)

    assert result['model'] is None and kind in kinds(result)


def test_config_dir_in_a_project_env_block_changes_nothing():
    result = resolve(files={'project': {'model': 'claude-haiku-4-5', 'env': {'CLAUDE_CONFIG_DIR': '/cfg'}}})

    assert (result['model'], kinds(result)) == ('claude-haiku-4-5', ['ignored'])


def test_only_model_variables_are_ever_kept():
    result = resolve(files={'user': {'env': {'ANTHROPIC_API_KEY': SECRET, 'ANTHROPIC_MODEL': 'claude-sonnet-4-6'}}},
                     environment={'ANTHROPIC_API_KEY': SECRET, 'OTHER': SECRET})

    assert SECRET not in json.dumps(result)
    assert mr.model_environment({'ANTHROPIC_API_KEY': SECRET, 'ANTHROPIC_MODEL': 'm'}) == {'ANTHROPIC_MODEL': 'm'}


def test_candidates_highest_first():
    result = resolve(files={'user': {'model': 'u', 'env': {'ANTHROPIC_MODEL': 'eu'}}, 'project': {'model': 'p'},
                            'local': {'env': {'ANTHROPIC_MODEL': 'el'}}, 'managed': {'model': 'm'}, 'dropin10': {'model': 'd'}},
                     argv=['--model', 'f'], environment={'ANTHROPIC_MODEL': 'e'})

    assert [(candidate['kind'], candidate['model']) for candidate in result['candidates']] == [
        ('flag', 'f'), ('environment', 'el'), ('environment', 'eu'), ('environment', 'e'), ('file', 'd'), ('file', 'm'),
        ('file', 'p'), ('file', 'u')]


# --- where the sources are ---------------------------------------------------------------------------------------

PLANS = [
    case('default', ['/home/jada/.claude/settings.json', '/srv/o/.claude/settings.json',
                     '/srv/o/.claude/settings.local.json']),
    case('config-dir', ['/cfg/settings.json', '/srv/o/.claude/settings.json', '/srv/o/.claude/settings.local.json'],
         environment={'CLAUDE_CONFIG_DIR': '/cfg'}),
    case('config-dir-relative', ['/srv/o/cfg/settings.json', '/srv/o/.claude/settings.json',
                                 '/srv/o/.claude/settings.local.json'], environment={'CLAUDE_CONFIG_DIR': 'cfg'}),
    case('config-dir-tilde-not-expanded', ['/srv/o/~/cfg/settings.json', '/srv/o/.claude/settings.json',
                                           '/srv/o/.claude/settings.local.json'], environment={'CLAUDE_CONFIG_DIR': '~/cfg'}),
    case('config-dir-empty-is-cwd', ['/srv/o/settings.json', '/srv/o/.claude/settings.json',
                                     '/srv/o/.claude/settings.local.json'], environment={'CLAUDE_CONFIG_DIR': ''}),
    case('home-from-unit', ['/var/lib/jada/.claude/settings.json', '/srv/o/.claude/settings.json',
                            '/srv/o/.claude/settings.local.json'], environment={'HOME': '/var/lib/jada'}),
    case('setting-sources', ['/home/jada/.claude/settings.json', '/srv/o/.claude/settings.json'],
         argv=['--setting-sources', 'user,project']),
    case('setting-sources-empty', [], argv=['--setting-sources=']),
    case('settings-file-relative', ['/home/jada/.claude/settings.json', '/srv/o/.claude/settings.json',
                                    '/srv/o/.claude/settings.local.json', '/srv/o/extra.json'], argv=['--settings', 'extra.json']),
    case('settings-inline-last-wins', ['/home/jada/.claude/settings.json', '/srv/o/.claude/settings.json',
                                       '/srv/o/.claude/settings.local.json', '--settings in ExecStart'],
         argv=['--settings', '/a.json', '--settings={"model":"x"}']),
]


@pytest.mark.parametrize('kwargs, expected', PLANS)
def test_source_plan(kwargs, expected):
    plan = mr.source_plan(kwargs.get('argv', []), kwargs.get('environment', {}), '/srv/o', '/home/jada', '/etc/claude-code')

    assert [entry['path'] for entry in plan[:-2]] == expected
    assert plan[-2:] == [{'scope': 'managed', 'path': '/etc/claude-code/managed-settings.json'},
                         {'scope': 'managed-dropins', 'path': '/etc/claude-code/managed-settings.d'}]


@pytest.mark.parametrize('value, expected', [
    ('x', 'x'), (5, '5'), (1.5, '1.5'), (2.0, '2'), (True, 'true'), (False, 'false'), (None, 'null'),
    ({}, '[object Object]'), (['a', None, 1], 'a,,1'),
])
def test_js_string(value, expected):
    assert mr.js_string(value) == expected


# --- the plan: which model the CLI will request once the rollout wrote the settings files -----------------------

PLANNED = [
    case('both-files-written', ('claude-sonnet-4-6', 'project'),
         files={'user': {'model': 'claude-haiku-4-5'}, 'project': {'model': 'claude-haiku-4-5'}}),
    case('missing-project-file-is-created', ('claude-sonnet-4-6', 'project'),
         files={'user': {'model': 'claude-haiku-4-5'}}),
    case('local-file-still-wins', ('claude-haiku-4-5', 'local'),
         files={'project': {'model': 'claude-haiku-4-5'}, 'local': {'model': 'claude-haiku-4-5'}}),
    case('env-block-still-wins', ('claude-haiku-4-5', 'env:user'),
         files={'user': {'model': 'claude-haiku-4-5', 'env': {'ANTHROPIC_MODEL': 'claude-haiku-4-5'}}}),
    case('managed-file-still-wins', ('claude-opus-4-6', 'managed'),
         files={'project': {'model': 'claude-haiku-4-5'}, 'managed': {'model': 'claude-opus-4-6'}}),
    case('flag-still-wins', ('claude-haiku-4-5', 'argv'),
         files={'project': {'model': 'claude-haiku-4-5'}}, argv=['--model', 'claude-haiku-4-5']),
]


@pytest.mark.parametrize('kwargs, expected', PLANNED)
def test_planned_resolution_writes_only_the_managed_files(kwargs, expected):
    managed = {PATHS['user'], PATHS['project']}
    planned = mr.with_model(sources(**kwargs['files']) + ([] if 'project' in kwargs['files'] else [
        {'scope': 'project', 'path': PATHS['project'], 'text': None, 'error': None}]), managed, 'claude-sonnet-4-6')
    result = mr.resolve(planned, kwargs.get('argv', []), [('the environment of jada-agent', {})], VERSION, 'jada-agent')

    assert (result['model'], result['source']) == (expected[0], label(expected[1]))


def test_planned_edit_changes_only_the_model_bytes():
    text = '{\n\t"model": "claude-haiku-4-5",\n\t"env": {"ANTHROPIC_API_KEY": "%s"}\n}\n' % SECRET
    planned = mr.with_model([{'scope': 'user', 'path': PATHS['user'], 'text': text, 'error': None}],
                            {PATHS['user']}, 'claude-sonnet-4-6')

    assert planned[0]['text'] == text.replace('claude-haiku-4-5', 'claude-sonnet-4-6')


def test_a_file_that_cannot_be_edited_stays_as_it_is():
    broken = '{"model": "claude-haiku-4-5",}'
    planned = mr.with_model([{'scope': 'user', 'path': PATHS['user'], 'text': broken, 'error': None}],
                            {PATHS['user']}, 'claude-sonnet-4-6')

    assert planned[0]['text'] == broken
