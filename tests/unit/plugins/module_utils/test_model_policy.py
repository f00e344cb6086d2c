# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the pure policy, cost, JSON and table logic of the agent model audit."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.jada.agent.plugins.module_utils import model_policy as mp
from ansible_collections.jada.agent.plugins.module_utils.model_policy import (
    HIDDEN_MODEL,
    AuditPolicy,
    Findings,
    PolicyError,
    QueryError,
    SettingsError,
    add_note,
    agent_from_path,
    canonical_model,
    compile_query,
    load_json,
    lookup,
    parse_field_path,
    policy_argument_spec,
    render_table,
)


HAIKU_SPELLINGS = [
    'claude-haiku-4-5',
    'claude-haiku-4-5-20251001',
    'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    'anthropic.claude-haiku-4-5-20251001-v1:0',
    'global.anthropic.claude-haiku-4-5-20251001-v1:0',
    'claude-haiku-4-5@20251001',
    'haiku',
    'Claude-Haiku-4-5',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
]


# -- canonical names and pricing --------------------------------------------------------------------------------

@pytest.mark.parametrize('model', HAIKU_SPELLINGS)
def test_every_haiku_spelling_is_one_model(model):
    assert canonical_model(model) == 'claude-haiku-4-5'


@pytest.mark.parametrize('model, expected', [
    ('sonnet', 'claude-sonnet-4-6'),
    ('sonnet[1m]', 'claude-sonnet-4-6'),
    ('claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'),
    ('eu.anthropic.claude-sonnet-4-6-v1:0', 'claude-sonnet-4-6'),
    ('claude-sonnet-4-6@20260101', 'claude-sonnet-4-6'),
    ('claude-3-5-haiku-latest', 'claude-3-5-haiku'),
    ('gpt-4o', 'gpt-4o'),
])
def test_canonical_model(model, expected):
    assert canonical_model(model) == expected


def test_canonical_model_of_a_non_string():
    assert canonical_model(None) is None
    assert canonical_model(3) is None


@pytest.mark.parametrize('model', HAIKU_SPELLINGS)
def test_every_haiku_spelling_prices_as_haiku(model):
    assert AuditPolicy().rates(model) == ('claude-haiku-4-5', {'input': 1.0, 'output': 5.0})


@pytest.mark.parametrize('model', ['claude-sonnet-4-6', 'claude-sonnet-4-5-20250929', 'sonnet',
                                   'us.anthropic.claude-sonnet-4-6-v1:0'])
def test_sonnet_prices(model):
    assert AuditPolicy().rates(model)[1] == {'input': 3.0, 'output': 15.0}


def test_unknown_model_has_no_price():
    assert AuditPolicy().rates('gpt-4o') == (None, None)
    assert AuditPolicy().rates(None) == (None, None)


def test_pricing_keyed_by_pattern_and_user_entries_come_first():
    policy = AuditPolicy(pricing={'claude-opus-4-1*': {'input': 15, 'output': 75},
                                  'claude-haiku-4-5-20251001': {'input': 0.8, 'output': 4}})
    assert policy.rates('claude-opus-4-1-20250805') == ('claude-opus-4-1*', {'input': 15.0, 'output': 75.0})
    # A key naming a dated model still prices every spelling of it, and overrides the built-in entry.
    assert policy.rates('haiku') == ('claude-haiku-4-5-20251001', {'input': 0.8, 'output': 4.0})
    assert policy.rates('claude-sonnet-4-6')[1] == {'input': 3.0, 'output': 15.0}


def test_pricing_pattern_matches_canonical_name():
    policy = AuditPolicy(pricing={'claude-opus-*': {'input': 15, 'output': 75}})
    assert policy.rates('us.anthropic.claude-opus-4-1-20250805-v1:0')[0] == 'claude-opus-*'


@pytest.mark.parametrize('pricing, message', [
    ({'m': {'input': 1}}, 'needs output'),
    ({'m': {'input': 1, 'output': -1}}, '>= 0'),
    ({'m': {'input': 'x', 'output': 1}}, 'must be a number'),
    ({'m': {'input': 1, 'output': 1, 'cache': 1}}, 'unknown keys cache'),
    ({'m': 3}, 'must be a dictionary'),
])
def test_bad_pricing_is_refused(pricing, message):
    with pytest.raises(PolicyError, match=message):
        AuditPolicy(pricing=pricing)


# -- policy matching --------------------------------------------------------------------------------------------

def test_default_policy():
    policy = AuditPolicy()
    assert policy.model_for('orchestrator') == ('claude-sonnet-4-6', 'agent')
    assert policy.model_for('validator') == ('claude-haiku-4-5', 'default')
    assert policy.model_for('Orchestrator') == ('claude-haiku-4-5', 'default')


def test_exact_name_beats_pattern_and_first_pattern_wins():
    policy = AuditPolicy(policy=[
        {'agent': 'research-*', 'model': 'claude-sonnet-4-6'},
        {'agent': 'research-?', 'model': 'claude-opus-4-5'},
        {'agent': 'research-cheap', 'model': 'claude-haiku-4-5'},
    ], default_model='claude-haiku-4-5')
    assert policy.model_for('research-cheap') == ('claude-haiku-4-5', 'agent')
    assert policy.model_for('research-1') == ('claude-sonnet-4-6', 'pattern research-*')
    assert policy.model_for('writer') == ('claude-haiku-4-5', 'default')


def test_lookup_on_lists_and_dicts():
    assert lookup('a', [('*', 1), ('a', 2)]) == ('a', 2)
    assert lookup('b', {'[ab]': 1, '*': 2}) == ('[ab]', 1)
    assert lookup('c', {'a': 1}) == (None, None)


@pytest.mark.parametrize('policy, message', [
    ([{'agent': '', 'model': 'x'}], 'non-empty agent'),
    ([{'agent': 'a', 'model': 'has space'}], 'whitespace'),
    ([{'agent': 'a'}], 'policy\\[0\\].model'),
])
def test_bad_policy_is_refused(policy, message):
    with pytest.raises(PolicyError, match=message):
        AuditPolicy(policy=policy)


def test_bad_match_and_default_model():
    with pytest.raises(PolicyError, match='match'):
        AuditPolicy(match='fuzzy')
    with pytest.raises(PolicyError, match='default_model'):
        AuditPolicy(default_model='')


def test_compliance_canonical_and_exact():
    canonical = AuditPolicy()
    exact = AuditPolicy(match='exact')
    for model in HAIKU_SPELLINGS:
        assert canonical.complies(model, 'claude-haiku-4-5')
    assert not canonical.complies('claude-sonnet-4-6', 'claude-haiku-4-5')
    assert not canonical.complies(None, 'claude-haiku-4-5')
    assert exact.complies('claude-haiku-4-5', 'claude-haiku-4-5')
    assert not exact.complies('claude-haiku-4-5-20251001', 'claude-haiku-4-5')


# -- rows, costs, summary ---------------------------------------------------------------------------------------

VOLUMES = {'orchestrator': {'input': 10, 'output': 2}, 'research-*': {'input': 4, 'output': 1}}


def test_cost_arithmetic():
    policy = AuditPolicy(token_volumes=VOLUMES, default_token_volume={'input': 3, 'output': 0.5})
    # orchestrator on Haiku: 10 * 1 + 2 * 5; under the policy (Sonnet) 10 * 3 + 2 * 15.
    row = policy.row('orchestrator', 'ssm', '/jada/agents/orchestrator/model', 'claude-haiku-4-5')
    assert (row['monthly_cost_usd'], row['policy_monthly_cost_usd']) == (20.0, 60.0)
    assert row['compliant'] is False
    # research-1 by pattern on Sonnet: 4 * 3 + 1 * 15; policy Haiku: 4 * 1 + 1 * 5.
    row = policy.row('research-1', 'lambda', 'arn', 'claude-sonnet-4-6')
    assert (row['monthly_cost_usd'], row['policy_monthly_cost_usd']) == (27.0, 9.0)
    # the default volume: 3 * 1 + 0.5 * 5
    row = policy.row('writer', 'json_file', '/w.json', 'haiku')
    assert (row['monthly_cost_usd'], row['policy_monthly_cost_usd'], row['compliant']) == (5.5, 5.5, True)


def test_no_volume_or_price_gives_null_cost_with_a_note():
    policy = AuditPolicy()
    row = policy.row('writer', 'ssm', '/p', 'claude-haiku-4-5')
    assert row['monthly_cost_usd'] is None and row['policy_monthly_cost_usd'] is None
    assert row['note'] == 'no token volume for this agent'
    policy = AuditPolicy(default_token_volume={'input': 1, 'output': 1}, default_model='mystery-model')
    row = policy.row('writer', 'ssm', '/p', 'gpt-4o')
    assert row['note'] == 'model not in the pricing table; policy model not in the pricing table'


def test_missing_model_row():
    row = AuditPolicy(default_token_volume={'input': 1, 'output': 1}).row('x', 'json_file', '/x.json', None)
    assert row['model'] is None and row['compliant'] is False and row['monthly_cost_usd'] is None
    assert row['policy_monthly_cost_usd'] == 6.0
    assert row['note'] == 'no model set'


def test_secure_row_hides_the_value_but_not_the_verdict():
    policy = AuditPolicy(default_token_volume={'input': 1, 'output': 1})
    secret = 'claude-sonnet-4-5-20250929'
    row = policy.row('validator', 'ssm', '/jada/agents/validator/model', secret, secure=True)
    assert row['model'] == HIDDEN_MODEL and row['secure'] is True
    assert row['compliant'] is False and row['monthly_cost_usd'] == 18.0
    assert secret not in json.dumps(row)
    assert policy.row('validator', 'ssm', '/p', 'claude-haiku-4-5-20251001', secure=True)['compliant'] is True


def test_rows_are_the_documented_shape():
    row = AuditPolicy().row('a', 'ssm', '/a/model', 'haiku', source_name='label', host='h1')
    assert set(row) == {'agent', 'source_type', 'source', 'source_name', 'model', 'secure', 'policy_model',
                        'policy_rule', 'compliant', 'fixed', 'monthly_cost_usd', 'policy_monthly_cost_usd', 'note',
                        'host'}


def test_summary_counts_each_agent_once():
    policy = AuditPolicy(token_volumes=VOLUMES, default_token_volume={'input': 1, 'output': 1})
    rows = [
        policy.row('orchestrator', 'json_file', '/o.json', 'claude-sonnet-4-6'),   # 60 / 60
        policy.row('validator', 'ssm', '/v', 'claude-sonnet-4-6'),                 # 18 / 6
        policy.row('validator', 'lambda', 'arn:v', 'claude-haiku-4-5'),            # 6 / 6
        policy.row('research-1', 'lambda', 'arn:r', 'gpt-4o'),                     # - / 9
    ]
    rows[1]['fixed'] = True
    summary = policy.summary(rows, errors=[{'source': 'x'}])
    assert summary['sources'] == 4 and summary['agents'] == 3
    assert summary['compliant'] == 2 and summary['non_compliant'] == 2
    assert summary['non_compliant_agents'] == ['research-1', 'validator']
    assert summary['fixed'] == 1 and summary['errors'] == 1
    # validator counts once, with its highest cost; research-1 has no known cost.
    assert summary['monthly_cost_usd'] == 78.0
    assert summary['policy_monthly_cost_usd'] == 75.0
    assert summary['agents_without_cost'] == ['research-1']
    # everyone on Sonnet: (10*3+2*15) + (1*3+1*15) + (4*3+1*15); on Haiku: 20 + 6 + 9
    assert summary['uniform_monthly_cost_usd'] == {'claude-sonnet-4-6': 105.0, 'claude-haiku-4-5': 35.0}


def test_summary_without_volumes():
    summary = AuditPolicy().summary([AuditPolicy().row('a', 'ssm', '/a', 'haiku')])
    assert summary['monthly_cost_usd'] is None and summary['policy_monthly_cost_usd'] is None
    assert summary['uniform_monthly_cost_usd'] == {'claude-sonnet-4-6': None, 'claude-haiku-4-5': None}


def host_row(agent='w', model='claude-haiku-4-5', **extra):
    """A row as agent_model_files returns it without fix: what was found, no verdict."""
    row = dict(agent=agent, source_type='json_file', source='/opt/jada/lambda/%s/config.json' % agent,
               source_name=None, model=model, fixed=False, note=None)
    row.update(extra)
    return row


@pytest.mark.parametrize('policy, model, expected', [
    (dict(), 'claude-haiku-4-5', ('claude-haiku-4-5', 'default', True)),
    (dict(), 'haiku', ('claude-haiku-4-5', 'default', True)),
    (dict(match='exact'), 'haiku', ('claude-haiku-4-5', 'default', False)),
    (dict(default_model='claude-sonnet-4-6'), 'claude-haiku-4-5', ('claude-sonnet-4-6', 'default', False)),
    (dict(policy=[{'agent': 'w*', 'model': 'claude-sonnet-4-6'}]), 'claude-sonnet-4-6',
     ('claude-sonnet-4-6', 'pattern w*', True)),
    (dict(policy=[{'agent': 'w', 'model': 'claude-opus-4-5'}]), 'claude-opus-4-5', ('claude-opus-4-5', 'agent', True)),
    (dict(), None, ('claude-haiku-4-5', 'default', False)),
])
def test_verdict(policy, model, expected):
    assert AuditPolicy(**policy).verdict('w', model) == dict(zip(('policy_model', 'policy_rule', 'compliant'), expected))


def test_rate_judges_a_raw_host_row_and_keeps_its_host_and_note():
    row = AuditPolicy(default_token_volume={'input': 1, 'output': 1}).rate(
        host_row(host='h1', note='not fixable: the query is not a plain field path'))
    assert (row['compliant'], row['policy_rule'], row['host'], row['monthly_cost_usd']) == (True, 'default', 'h1', 6.0)
    assert row['note'] == 'not fixable: the query is not a plain field path'
    row = AuditPolicy(default_model='claude-sonnet-4-6').rate(host_row(model='(no model set)'))
    assert (row['model'], row['compliant'], row['note']) == (None, False, 'no model set; no token volume for this agent')


def test_rate_keeps_the_verdict_a_host_acted_on():
    # The host corrected the file under its policy; the report must say so even if this policy differs.
    acted_on = host_row(model='claude-sonnet-4-6', fixed=True, policy_model='claude-haiku-4-5',
                        policy_rule='default', compliant=False)
    row = AuditPolicy(default_model='claude-sonnet-4-6', default_token_volume={'input': 1, 'output': 1}).rate(acted_on)
    assert (row['policy_model'], row['compliant'], row['fixed']) == ('claude-haiku-4-5', False, True)
    # The costs are this run's: the model found on Sonnet, the host's policy model on Haiku.
    assert (row['monthly_cost_usd'], row['policy_monthly_cost_usd']) == (18.0, 6.0)


def test_rate_keeps_the_verdict_and_cost_of_secure_rows():
    secure = AuditPolicy(default_token_volume={'input': 1, 'output': 1}).row(
        'v', 'ssm', '/v/model', 'claude-haiku-4-5', secure=True)
    again = AuditPolicy(default_model='claude-sonnet-4-6').rate(secure)
    assert (again['compliant'], again['model'], again['policy_model']) == (True, HIDDEN_MODEL, 'claude-haiku-4-5')
    assert again['monthly_cost_usd'] == 6.0


@pytest.mark.parametrize('row, message', [
    ({'source_type': 'ssm'}, 'non-empty agent'),
    ({'agent': 'a', 'source_type': 'email'}, 'source_type'),
    ('text', 'non-empty agent'),
    ({'agent': 'a', 'source_type': 'ssm', 'secure': True}, 'without a verdict'),
    (host_row(policy_model='', policy_rule='default', compliant=True), 'policy_model'),
])
def test_rate_refuses_foreign_rows(row, message):
    with pytest.raises(PolicyError, match=message):
        AuditPolicy().rate(row)


def test_policy_argument_spec_states_the_default_policy():
    spec = policy_argument_spec()
    policy = AuditPolicy(policy=spec['policy']['default'], default_model=spec['default_model']['default'],
                         match=spec['model_match']['default'])
    assert policy.model_for('orchestrator') == ('claude-sonnet-4-6', 'agent')
    assert policy.model_for('validator') == ('claude-haiku-4-5', 'default')


def test_from_params_refuses_a_bad_policy():
    params = dict(policy=[{'agent': 'a', 'model': 'x y'}], default_model='m', model_match='canonical')
    with pytest.raises(PolicyError, match='policy\\[0\\].model'):
        AuditPolicy.from_params(params)


# -- findings ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('secure, before, shown_before, shown_after', [
    (False, 'claude-sonnet-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5'),
    (False, None, '(no model set)', 'claude-haiku-4-5'),
    (True, 'claude-sonnet-4-6', HIDDEN_MODEL, HIDDEN_MODEL),
])
def test_findings_record_a_fix_and_its_diff(secure, before, shown_before, shown_after):
    findings = Findings(diff=True)
    row = AuditPolicy().row('v', 'ssm', '/v/model', 'claude-sonnet-4-6', secure=secure)
    findings.fixed(row, secure=secure, before=before)
    assert findings.changed is True and row['fixed'] is True
    assert findings.diffs == [dict(before_header='ssm /v/model (agent v)', after_header='ssm /v/model (agent v)',
                                   before='model: %s\n' % shown_before, after='model: %s\n' % shown_after)]
    assert Findings().diffs == [] and not Findings(diff=False).changed


def test_findings_see_each_source_once_and_keep_errors():
    findings = Findings()
    assert findings.first_time('ssm', '/a') is True
    assert findings.first_time('ssm', '/a') is False
    assert findings.first_time('lambda', '/a') is True
    findings.error('ssm', '/b', 'no parent segment')
    findings.rows.append({'agent': 'a'})
    assert findings.so_far() == dict(changed=False, rows=[{'agent': 'a'}], errors=[dict(
        source_type='ssm', source='/b', error='no parent segment', line=None, column=None)])


def test_add_note_joins_notes():
    row = {'note': None}
    add_note(row, 'first')
    add_note(row, 'second')
    assert row['note'] == 'first; second'


# -- queries ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('expression, path', [
    ('model', ['model']),
    ('agent.model', ['agent', 'model']),
    ('env."ANTHROPIC_MODEL"', ['env', 'ANTHROPIC_MODEL']),
    ('"a.b" . c', ['a.b', 'c']),
    ('agents[0].model', None),
    ('a..b', None),
    ('`"x"`', None),
    ('', None),
])
def test_parse_field_path(expression, path):
    assert parse_field_path(expression) == path


def test_queries_search_documents():
    document = {'model': 'm', 'agent': {'model': 'am'}, 'agents': [{'model': 'first'}], 'n': 1}
    assert compile_query('agent.model').search(document) == 'am'
    assert compile_query('n.model').search(document) is None
    assert compile_query('agents[0].model').search(document) == 'first'
    assert compile_query('model').search(['not', 'an', 'object']) is None


@pytest.mark.parametrize('expression', ['foo[', 'a..b', '   '])
def test_bad_query_names_the_expression(expression):
    with pytest.raises(QueryError) as info:
        compile_query(expression)
    assert repr(expression.strip() or expression)[1:-1] in str(info.value) or expression.strip() == ''


def test_jmespath_missing(monkeypatch):
    monkeypatch.setattr(mp, 'HAS_JMESPATH', False)
    assert compile_query('agent.model').path == ['agent', 'model']
    with pytest.raises(QueryError) as info:
        compile_query('agents[0].model')
    assert info.value.missing_library and 'agents[0].model' in str(info.value)


# -- JSON -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, line, column', [
    # The trailing comma itself is reported, as for every settings file.
    ('{\n  "a": 1,\n}\n', 2, 9),
    ('{"a": NaN}', 1, 7),
    ('{"a": 1} x', 1, 10),
    ('', 1, 1),
])
def test_load_json_errors_have_positions(text, line, column):
    with pytest.raises(SettingsError) as info:
        load_json(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_load_json_errors_never_quote_content():
    with pytest.raises(SettingsError) as info:
        load_json('{"key": "sk-ant-secret", oops}')
    assert 'sk-ant-secret' not in str(info.value)


@settings(max_examples=100, deadline=None)
@given(path=st.lists(st.text(alphabet='ab_-."\\ \u00e9', min_size=1, max_size=6), min_size=1, max_size=3))
def test_quoted_keys_are_a_plain_field_path(path):
    """agent_model_files fixes a file through the path of its query: quoted keys give exactly those keys."""
    assert parse_field_path('.'.join(json.dumps(key) for key in path)) == path


# -- agent names ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('path, how, expected', [
    ('/opt/jada/lambda/validator/config.json', 'parent', 'validator'),
    ('/opt/jada/agents/research/.claude/settings.json', 'parent', 'research'),
    ('/opt/jada/agents/research/settings.json', 'stem', 'settings'),
    ('/opt/jada/models/writer.json', 'stem', 'writer'),
])
def test_agent_from_path(path, how, expected):
    assert agent_from_path(path, how) == expected


def test_agent_from_a_query():
    assert agent_from_path('/x/config.json', 'query:agent.name', {'agent': {'name': 'scout'}}) == 'scout'
    with pytest.raises(ValueError, match="'agent.id' found no non-empty string"):
        agent_from_path('/x/config.json', 'query:agent.id', {'agent': {'id': 3}})


@pytest.mark.parametrize('how', ['grandparent', 'query:a[', None])
def test_agent_from_path_bad_rule(how):
    with pytest.raises(ValueError):
        agent_from_path('/x/config.json', how, {})


def test_agent_from_path_without_directory():
    with pytest.raises(ValueError, match='no directory name'):
        agent_from_path('/config.json', 'parent')


# -- the table --------------------------------------------------------------------------------------------------

def test_table_is_fixed_width():
    policy = AuditPolicy(default_token_volume={'input': 1, 'output': 1})
    rows = [policy.row('orchestrator', 'ssm', '/jada/agents/orchestrator/model', 'claude-sonnet-4-6'),
            policy.row('v', 'json_file', '/v.json', None),
            policy.row('s', 'ssm', '/s/model', 'claude-sonnet-4-6', secure=True)]
    rows[2]['fixed'] = True
    table = render_table(rows, policy.summary(rows))
    lines = table.splitlines()
    assert lines[0].split() == ['AGENT', 'TYPE', 'SOURCE', 'MODEL', 'POLICY', 'COMPLIANT', 'USD/MONTH', 'POLICY',
                                'USD/MONTH']
    starts = [lines[0].index(word) for word in ('TYPE', 'SOURCE', 'MODEL', 'POLICY', 'COMPLIANT')]
    for line in lines[2:5]:
        assert all(line[start - 2:start] == '  ' and line[start] != ' ' for start in starts)
    assert '(no model set)' in lines[3] and HIDDEN_MODEL in lines[4] and 'no (fixed)' in lines[4]
    assert lines[2].endswith('18.00             18.00') and lines[3].rstrip().endswith('6.00')
    assert '3 agents in 3 sources: 1 compliant, 2 not compliant, 1 fixed, 0 unreadable' in table
    assert 'USD 36.00 as configured, USD 30.00 under the policy' in table
    assert 'would fix' in render_table(rows, check_mode=True)


def test_table_has_a_host_column_only_when_needed():
    row = AuditPolicy().row('a', 'json_file', '/a.json', 'haiku')
    assert not render_table([row]).startswith('HOST')
    assert render_table([dict(row, host='web-1')]).splitlines()[2].startswith('web-1  a')
    assert render_table([]).splitlines()[0].startswith('AGENT')
