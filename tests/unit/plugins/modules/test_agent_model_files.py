# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of jada.agent.agent_model_files against real files in a temporary /opt/jada."""

from __future__ import annotations

import os

import pytest

from ansible_collections.jada.agent.plugins.module_utils import claude_settings_json
from ansible_collections.jada.agent.plugins.modules import agent_model_files as module
from ansible_collections.jada.agent.tests.unit.plugins.modules.model_files_fixtures import (
    API_KEY,
    CONFIG_VALIDATOR,
    SETTINGS_RESEARCH,
    by_source,
    file_sources,
    run_without,
    snapshot,
    write_tree,
)
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module


RAW_KEYS = {'agent', 'source_type', 'source', 'source_name', 'model', 'fixed', 'note'}
VERDICT_KEYS = {'policy_model', 'policy_rule', 'compliant'}


@pytest.fixture
def tree(tmp_path):
    return write_tree(tmp_path)


def run(capsys, args, check_mode=False, diff=False):
    return run_module(module.main, args, capsys, check_mode=check_mode, diff=diff)


# -- reading ----------------------------------------------------------------------------------------------------

def test_files_give_raw_rows_and_errors(tree, capsys):
    root, paths = tree
    result = run(capsys, dict(json_files=file_sources(root)))
    assert not result.failed and result['changed'] is False
    rows = by_source(result)
    assert set(rows) == set(paths.values()) - {paths['broken']}
    assert [(row['agent'], row['source']) for row in result['rows']] == sorted(
        (row['agent'], row['source']) for row in result['rows'])
    # Without fix nothing is judged here: no policy model, no verdict, no cost.
    assert all(set(row) == RAW_KEYS for row in result['rows'])
    assert rows[paths['validator']] == dict(agent='validator', source_type='json_file', source=paths['validator'],
                                            source_name='lambda-configs', model='claude-sonnet-4-6', fixed=False,
                                            note=None)
    assert rows[paths['summarizer']]['model'] is None
    # The hidden directory .claude is skipped when naming the agent.
    assert (rows[paths['research']]['agent'], rows[paths['research']]['model']) == ('research', 'opus')
    assert (rows[paths['writer']]['agent'], rows[paths['writer']]['model']) == ('writer', 'claude-haiku-4-5@20251001')
    # The trailing comma itself is named, with the strict-JSON hint every settings error carries.
    assert result['errors'] == [dict(source_type='json_file', source=paths['broken'], line=3, column=39,
                                     error='line 3, column 39: trailing comma is not allowed in strict JSON '
                                           '(Claude Code would reject this file too)')]
    assert API_KEY not in result.text


def test_agent_name_rules(tree, capsys):
    root, paths = tree
    result = run(capsys, dict(json_files=[
        dict(glob=root + '/lambda/summarizer/config.json', query='agent.model', agent_name='query:agent.name'),
        dict(glob=root + '/agents/team/*/settings.json', agent_name='stem'),
        dict(glob=root + '/lambda/validator/config.json', query='agent.model', agent_name='query:agent.id'),
    ]))
    assert sorted(row['agent'] for row in result['rows']) == ['settings', 'summarizer']
    assert result['errors'][0]['source'] == paths['validator']
    assert "'agent.id' found no non-empty string" in result['errors'][0]['error']


def test_jmespath_queries_and_non_string_results(tmp_path, capsys):
    (tmp_path / 'multi').mkdir()
    (tmp_path / 'multi' / 'config.json').write_text('{"agents": [{"model": "haiku"}], "n": 3}')
    result = run(capsys, dict(json_files=[
        dict(glob=str(tmp_path / '*' / 'config.json'), query='agents[0].model'),
        dict(glob=str(tmp_path / '*' / 'config.json'), query='n'),
    ], fix=True))
    assert [(row['agent'], row['model'], row['compliant']) for row in result['rows']] == [('multi', 'haiku', True)]
    assert result['errors'][0]['error'] == "query 'n' found a number, not a string"


@pytest.mark.parametrize('source, fragment', [
    (dict(query='agents[0'), "invalid JMESPath expression 'agents[0'"),
    (dict(agent_name='query:a.['), "invalid JMESPath expression 'a.['"),
    (dict(agent_name='grandparent'), "got 'grandparent'"),
])
def test_bad_queries_fail_naming_the_expression(tmp_path, source, fragment, capsys):
    result = run(capsys, dict(json_files=[dict(glob=str(tmp_path / '*.json'), **source)]))
    assert result.failed and fragment in result['msg']


def test_unreadable_file_is_an_error(monkeypatch, tmp_path, capsys):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 'config.json').write_text('{}')
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith('config.json'):
            raise PermissionError(13, 'Permission denied', str(path))
        return real_open(path, *args, **kwargs)

    # Tests run as root, who may read a mode 000 file.
    monkeypatch.setattr(module, 'open', refusing_open, raising=False)
    result = run(capsys, dict(json_files=[dict(glob=str(tmp_path / '*' / 'config.json'))]))
    assert result['rows'] == []
    assert result['errors'][0]['error'] == 'cannot read: Permission denied'


def test_overlapping_globs_give_one_row_per_file(tree, capsys):
    root, paths = tree
    json_files = file_sources(root) + [dict(glob=root + '/lambda/*/config.json', query='agent.model')]
    result = run(capsys, dict(json_files=json_files, fix=True))
    sources = [row['source'] for row in result['rows']]
    assert len(sources) == 5 and len(set(sources)) == 5
    # Each file was corrected once: a second pass would have found it compliant and left its row unfixed.
    assert sorted(row['source'] for row in result['rows'] if row['fixed']) == sorted(
        [paths['validator'], paths['summarizer'], paths['research']])


def test_empty_glob_gives_no_rows(tmp_path, capsys):
    result = run(capsys, dict(json_files=[dict(glob=str(tmp_path / 'none' / '*.json'))], fix=True))
    assert (result['rows'], result['errors'], result['changed']) == ([], [], False)


@pytest.mark.parametrize('args, fragment', [
    (dict(), 'missing required arguments: json_files'),
    (dict(json_files=[dict(glob='/nonexistent/*.json')], policy=[dict(agent='a', model='')]), 'policy[0].model'),
    (dict(json_files=[dict(glob='/nonexistent/*.json')], default_model='has space'), 'default_model'),
    (dict(json_files=[dict(glob='/nonexistent/*.json')], ssm_paths=[dict(path='/jada/')]), 'ssm_paths'),
])
def test_bad_options_fail(args, fragment, capsys):
    result = run(capsys, args)
    assert result.failed and fragment in result['msg']


def test_files_need_neither_boto3_nor_jmespath(tree):
    """On a host without boto3, botocore and jmespath, reading and fixing work; a JMESPath query says what is missing."""
    root, paths = tree
    blocked = ['boto3', 'botocore', 'jmespath']
    result = run_without(blocked, 'agent_model_files', dict(
        json_files=[dict(glob=root + '/lambda/*/config.json', query='agent.model')], fix=True))
    assert not result.get('failed'), result
    assert len(result['rows']) == 3 and len([row for row in result['rows'] if row['fixed']]) == 2
    result = run_without(blocked, 'agent_model_files', dict(
        json_files=[dict(glob=root + '/lambda/*/config.json', query='agent.name | [0]')]))
    assert result['failed'] and 'jmespath' in result['msg'] and "'agent.name | [0]'" in result['msg']


# -- fixing -----------------------------------------------------------------------------------------------------

def test_fix_rewrites_only_the_model_bytes(tree, capsys):
    root, paths = tree
    before = snapshot(paths)
    args = dict(json_files=file_sources(root), fix=True)
    result = run(capsys, args, diff=True)
    assert result['changed'] is True
    rows = by_source(result)
    assert [path for path, row in sorted(rows.items()) if row['fixed']] == sorted(
        [paths['validator'], paths['summarizer'], paths['research']])
    # With fix the verdict the host acted on is in the row, and the row still shows what was found.
    assert all(set(row) == RAW_KEYS | VERDICT_KEYS for row in result['rows'])
    validator = rows[paths['validator']]
    assert (validator['model'], validator['policy_model'], validator['policy_rule'], validator['compliant']) == (
        'claude-sonnet-4-6', 'claude-haiku-4-5', 'default', False)
    after = snapshot(paths)
    assert after['validator'][0].decode() == CONFIG_VALIDATOR.replace('"claude-sonnet-4-6"', '"claude-haiku-4-5"')
    assert after['research'][0].decode() == SETTINGS_RESEARCH.replace('"opus"', '"claude-haiku-4-5"')
    # A missing nested key is added by re-serialising in the file's layout.
    assert after['summarizer'][0] == b'{"agent": {"name": "summarizer", "model": "claude-haiku-4-5"}}\n'
    for name in ('orchestrator', 'writer', 'broken'):
        assert after[name] == before[name]
    for name in ('validator', 'research', 'summarizer'):
        assert after[name][1] == before[name][1]
    assert sorted(os.listdir(os.path.dirname(paths['research']))) == ['settings.json']

    diff = dict((entry['before_header'], entry) for entry in result['diff'])
    entry = diff['json_file %s (agent validator)' % paths['validator']]
    assert (entry['before'], entry['after']) == ('model: claude-sonnet-4-6\n', 'model: claude-haiku-4-5\n')
    assert diff['json_file %s (agent summarizer)' % paths['summarizer']]['before'] == 'model: (no model set)\n'
    assert API_KEY not in result.text and 'max_tokens' not in result.text

    again = run(capsys, args)
    assert again['changed'] is False
    assert all(row['compliant'] and not row['fixed'] for row in again['rows'])
    assert snapshot(paths) == after


def test_fix_in_check_mode_changes_no_file(tree, capsys):
    root, paths = tree
    before = snapshot(paths)
    result = run(capsys, dict(json_files=file_sources(root), fix=True), check_mode=True, diff=True)
    assert result['changed'] is True and len(result['diff']) == 3
    assert len([row for row in result['rows'] if row['fixed']]) == 3
    assert snapshot(paths) == before


@pytest.mark.parametrize('policy, fixed, written', [
    # The collection's default policy: specialists on Haiku.
    (dict(), ['research', 'summarizer', 'validator'], 'claude-haiku-4-5'),
    # Every agent on Sonnet: the files already on Sonnet are left alone.
    (dict(default_model='claude-sonnet-4-6'), ['research', 'summarizer', 'writer'], 'claude-sonnet-4-6'),
    # A pattern wins over the default.
    (dict(policy=[dict(agent='*r', model='claude-haiku-4-5')], default_model='claude-sonnet-4-6'),
     ['orchestrator', 'research', 'summarizer', 'validator'], None),
    # The dated spelling of Haiku complies only when matching canonically.
    (dict(model_match='exact'), ['research', 'summarizer', 'validator', 'writer'], 'claude-haiku-4-5'),
])
def test_fix_applies_the_policy_it_is_given(tree, capsys, policy, fixed, written):
    root, paths = tree
    result = run(capsys, dict(json_files=file_sources(root), fix=True, **policy))
    assert sorted(row['agent'] for row in result['rows'] if row['fixed']) == fixed
    for row in result['rows']:
        if row['fixed'] and written:
            assert row['policy_model'] == written
    # Written verbatim: a second run under the same policy finds every file compliant.
    again = run(capsys, dict(json_files=file_sources(root), fix=True, **policy))
    assert [row['agent'] for row in again['rows'] if not row['compliant']] == []


def test_fix_follows_symlinks_and_skips_unfixable_queries(tmp_path, capsys):
    (tmp_path / 'real').mkdir()
    (tmp_path / 'real' / 'config.json').write_text('{"model": "claude-sonnet-4-6"}')
    (tmp_path / 'agent-a').mkdir()
    os.symlink(str(tmp_path / 'real' / 'config.json'), str(tmp_path / 'agent-a' / 'config.json'))
    (tmp_path / 'agent-b').mkdir()
    (tmp_path / 'agent-b' / 'config.json').write_text('{"list": [{"model": "claude-sonnet-4-6"}]}')
    result = run(capsys, dict(json_files=[dict(glob=str(tmp_path / 'agent-a' / 'config.json')),
                                          dict(glob=str(tmp_path / 'agent-b' / 'config.json'),
                                               query='list[0].model')], fix=True))
    assert os.path.islink(str(tmp_path / 'agent-a' / 'config.json'))
    assert (tmp_path / 'real' / 'config.json').read_text() == '{"model": "claude-haiku-4-5"}'
    row = by_source(result)[str(tmp_path / 'agent-b' / 'config.json')]
    assert (row['fixed'], row['compliant']) == (False, False)
    assert row['note'] == 'not fixable: the query is not a plain field path'


def test_unfixable_file_is_an_error_not_a_failure(tmp_path, capsys):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 'config.json').write_text('{"agent": "claude-sonnet-4-6"}')
    result = run(capsys, dict(json_files=[dict(glob=str(tmp_path / '*' / 'config.json'),
                                               query='agent.model')], fix=True))
    assert not result.failed and result['changed'] is False
    assert "not fixed: cannot set 'agent.model': 'agent' is not a JSON object" in result['errors'][0]['error']


def test_a_file_changed_while_being_fixed_is_left_to_its_writer(monkeypatch, tmp_path, capsys):
    (tmp_path / 'a').mkdir()
    path = tmp_path / 'a' / 'config.json'
    path.write_text('{"model": "claude-sonnet-4-6"}')
    edit = claude_settings_json.set_path

    def edit_while_someone_writes(text, field_path, value):
        # Another writer replaces the file after it was read and before the new bytes are renamed over it.
        path.write_text('{"model": "opus", "theme": "dark"}')
        return edit(text, field_path, value)

    monkeypatch.setattr(module.settings_json, 'set_path', edit_while_someone_writes)
    result = run(capsys, dict(json_files=[dict(glob=str(tmp_path / '*' / 'config.json'))], fix=True))
    assert not result.failed and result['changed'] is False
    assert result['rows'][0]['fixed'] is False
    assert result['errors'] == [dict(source_type='json_file', source=str(path), line=None, column=None,
                                     error='not fixed: the file changed while it was being fixed; run the audit again')]
    assert path.read_text() == '{"model": "opus", "theme": "dark"}'
    assert os.listdir(str(path.parent)) == ['config.json']
