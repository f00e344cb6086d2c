# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import stat
import types

import pytest

from ansible_collections.jada.agent.plugins.modules import agent_usage_info
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import (
    FakeCommands,
    run_module,
    running_service,
    systemctl_answering,
    write_file,
)

SECRET = 'sk-ant-api03-USAGE-secret-never-print-me'
SESSION = '5d7c9a4e-1b2f-4c3d-8e9f-0a1b2c3d4e5f'


def line(document):
    return json.dumps(document, separators=(',', ':')) + '\n'


def prompt(when):
    return line({'parentUuid': None, 'isSidechain': False, 'userType': 'external', 'cwd': '/srv/jada/orchestrator',
                 'sessionId': SESSION, 'version': '2.1.328', 'gitBranch': 'main', 'type': 'user',
                 'message': {'role': 'user', 'content': 'Do ' + SECRET}, 'uuid': 'u1', 'timestamp': when})


def answer(message_id, model, input_tokens, output_tokens, when, cache_read=0, sidechain=False):
    usage = {'input_tokens': input_tokens, 'cache_creation_input_tokens': 0, 'cache_read_input_tokens': cache_read,
             'cache_creation': {'ephemeral_5m_input_tokens': 0, 'ephemeral_1h_input_tokens': 0},
             'output_tokens': output_tokens, 'service_tier': 'standard'}
    return line({'parentUuid': 'u1', 'isSidechain': sidechain, 'userType': 'external', 'cwd': '/srv/jada/orchestrator',
                 'sessionId': SESSION, 'version': '2.1.328', 'gitBranch': 'main',
                 'message': {'id': message_id, 'type': 'message', 'role': 'assistant', 'model': model,
                             'content': [{'type': 'text', 'text': 'Done: ' + SECRET}], 'stop_reason': None,
                             'stop_sequence': None, 'usage': usage},
                 'requestId': 'req_' + message_id, 'type': 'assistant', 'uuid': 'u2', 'timestamp': when})


def transcripts(config_dir):
    """~/.claude of an agent: a session on two days (UTC) and a subagent's file."""
    project = config_dir / 'projects' / '-srv-jada-orchestrator'
    write_file(project / (SESSION + '.jsonl'),
               prompt('2026-11-29T23:59:58.000Z')
               + answer('msg_1', 'claude-sonnet-4-6', 100, 10, '2026-11-29T23:59:59.500Z', cache_read=1000)
               + prompt('2026-11-30T08:00:00.000Z')
               + answer('msg_2', 'claude-sonnet-4-6', 200, 20, '2026-11-30T08:00:02.000Z', cache_read=2000))
    write_file(project / SESSION / 'subagents' / 'agent-a1b2c3d4.jsonl',
               answer('msg_3', 'claude-haiku-4-5', 300, 30, '2026-11-30T08:00:05.000Z', sidechain=True))
    return project


# Hand sums: sonnet 100 + 200 input, 10 + 20 output, 1000 + 2000 cache reads;
# cost 300*3 + 30*15 + 3000*0.30 = 900 + 450 + 900 = 2250 per million.
SONNET = {'requests': 2, 'input_tokens': 300, 'output_tokens': 30, 'cache_creation_input_tokens': 0,
          'cache_read_input_tokens': 3000, 'api_errors': 0, 'cost_usd': 0.00225}
# 300*1 + 30*5 = 450 per million.
HAIKU = {'requests': 1, 'input_tokens': 300, 'output_tokens': 30, 'cache_creation_input_tokens': 0,
         'cache_read_input_tokens': 0, 'api_errors': 0, 'cost_usd': 0.00045}


class Host(object):
    """The agent's user, its transcripts, the state file's place and a fake systemctl."""

    def __init__(self, root, monkeypatch):
        self.root = root
        self.home = root / 'home' / 'jada'
        self.config_dir = self.home / '.claude'
        self.state_file = root / 'var' / 'lib' / 'jada-agent' / 'usage-state.json'
        users = {'jada': str(self.home)}

        def getpwnam(name):
            if name not in users:
                raise KeyError(name)
            return types.SimpleNamespace(pw_name=name, pw_dir=users[name])

        monkeypatch.setattr(agent_usage_info, 'pwd', types.SimpleNamespace(getpwnam=getpwnam))
        self.state = {'show': running_service(Environment='HOME=%s "JADA_GREETING=hello world"' % self.home)}
        self.commands = FakeCommands(monkeypatch)
        self.commands.on('systemctl', systemctl_answering(self.state))

    def args(self, **extra):
        args = {'config_dirs': [str(self.config_dir)], 'state_file': str(self.state_file)}
        args.update(extra)
        return args


@pytest.fixture
def host(tmp_path, monkeypatch):
    return Host(tmp_path, monkeypatch)


@pytest.fixture
def run(capsys):
    def run_usage(args, check_mode=False):
        return run_module(agent_usage_info.main, args, capsys, check_mode=check_mode)

    return run_usage


def test_usage_per_model_agent_and_day(host, run):
    transcripts(host.config_dir)
    result = run(host.args(group_by='day'))

    assert not result.failed, result.get('msg')
    assert result['changed'] is False
    assert result['models'] == {'claude-sonnet-4-6': SONNET, 'claude-haiku-4-5': HAIKU}
    assert result['by_agent'] == {'main': {'claude-sonnet-4-6': SONNET}, 'subagents': {'claude-haiku-4-5': HAIKU}}
    assert result['totals'] == {'requests': 3, 'input_tokens': 600, 'output_tokens': 60,
                                'cache_creation_input_tokens': 0, 'cache_read_input_tokens': 3000, 'api_errors': 0,
                                'cost_usd': 0.0027}
    assert sorted(result['days']) == ['2026-11-29', '2026-11-30']
    assert result['days']['2026-11-29']['totals']['input_tokens'] == 100
    assert sorted(result['days']['2026-11-30']['models']) == ['claude-haiku-4-5', 'claude-sonnet-4-6']
    # 1.5 s and 2 s after their prompts; the subagent's answer has no prompt before it in its file.
    assert result['latency'] == {'claude-sonnet-4-6': {'p50_ms': 1500, 'p95_ms': 2000, 'samples': 2}}
    assert result['files'] == 2
    assert result['config_dirs'] == [str(host.config_dir)]
    assert result['pricing_date'] == '2026-12-01'
    assert result.warnings == []
    assert SECRET not in result.text


def test_the_state_file_spares_the_next_run_the_bytes_read(host, run):
    project = transcripts(host.config_dir)
    first = run(host.args())
    assert first['bytes_read'] == sum(os.path.getsize(str(path)) for path in project.rglob('*.jsonl'))
    assert stat.S_IMODE(os.stat(str(host.state_file)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(host.state_file.parent)).st_mode) == 0o750
    assert SECRET not in host.state_file.read_text()

    second = run(host.args())
    assert second['bytes_read'] == 0
    assert second['models'] == first['models'] and second['totals'] == first['totals']

    appended = answer('msg_4', 'claude-sonnet-4-6', 1, 1, '2026-11-30T09:00:00.000Z')
    with open(str(project / (SESSION + '.jsonl')), 'a') as handle:
        handle.write(appended)
    third = run(host.args())
    assert third['bytes_read'] == len(appended)
    assert third['models']['claude-sonnet-4-6']['requests'] == 3
    assert third['models']['claude-sonnet-4-6']['input_tokens'] == 301


def test_check_mode_leaves_the_state_file_alone(host, run):
    transcripts(host.config_dir)
    result = run(host.args(), check_mode=True)
    assert result['changed'] is False
    assert result['models']['claude-sonnet-4-6'] == SONNET
    assert not host.state_file.exists()

    run(host.args())
    before = host.state_file.read_bytes()
    with open(str(host.config_dir / 'projects' / '-srv-jada-orchestrator' / (SESSION + '.jsonl')), 'a') as handle:
        handle.write(answer('msg_4', 'claude-sonnet-4-6', 1, 1, '2026-11-30T09:00:00.000Z'))
    checked = run(host.args(), check_mode=True)
    assert checked['models']['claude-sonnet-4-6']['requests'] == 3
    assert host.state_file.read_bytes() == before


@pytest.mark.parametrize('state_file', [None, ''])
def test_without_a_state_file_everything_is_read(host, run, state_file):
    project = transcripts(host.config_dir)
    size = sum(os.path.getsize(str(path)) for path in project.rglob('*.jsonl'))
    for dummy in range(2):
        result = run(host.args(state_file=state_file))
        assert result['bytes_read'] == size
    assert not host.state_file.exists()
    assert not host.state_file.parent.exists()


def test_since_until_window(host, run):
    transcripts(host.config_dir)
    result = run(host.args(since='2026-11-30T08:00:02Z', until='2026-11-30T08:00:05Z'))
    # Only msg_2: msg_3 is at the excluded bound.
    assert list(result['models']) == ['claude-sonnet-4-6']
    assert result['totals']['input_tokens'] == 200


def test_compare_around_the_last_complete_rollout(host, run):
    transcripts(host.config_dir)
    history = host.root / 'rollouts.jsonl'
    # The rolled-back rollout after it is no boundary; the torn last line is skipped.
    history.write_text('\n'.join([
        json.dumps({'time': '2026-11-30T00:00:00Z', 'rollout_id': 'r1', 'result': 'complete',
                    'from_model': 'claude-haiku-4-5', 'to_model': 'claude-sonnet-4-6'}),
        json.dumps({'time': '2026-11-30T07:00:00Z', 'rollout_id': 'r2', 'result': 'rolled-back'}),
        '{"time": "2026-11-30T08:0']))
    result = run(host.args(compare=True, history_file=str(history), window_days=1))

    comparison = result['comparison']
    assert comparison['rollout']['rollout_id'] == 'r1' and comparison['window_days'] == 1
    assert (comparison['before']['since'], comparison['before']['until']) == ('2026-11-29T00:00:00Z',
                                                                              '2026-11-30T00:00:00Z')
    # The rollout is long past: a whole day after it (after the second it ended in).
    assert (comparison['after']['since'], comparison['after']['until'], comparison['after']['days']) == (
        '2026-11-30T00:00:01Z', '2026-12-01T00:00:01Z', 1.0)
    # Before: msg_1 (one task, 1500 ms); after: msg_2 (one task) and the subagent's msg_3 (no task of its own).
    before = comparison['before']['models']['claude-sonnet-4-6']
    assert (before['requests'], before['tasks'], before['tokens_per_task'], before['p50_ms']) == (1, 1, 1110.0, 1500)
    after = comparison['after']['models']
    assert (after['claude-sonnet-4-6']['requests'], after['claude-sonnet-4-6']['tasks']) == (1, 1)
    assert (after['claude-haiku-4-5']['tasks'], after['claude-haiku-4-5']['tokens_per_task']) == (0, None)
    # 200*3 + 20*15 + 2000*0.30 = 1500 per million, over one day.
    assert after['claude-sonnet-4-6']['cost_per_day'] == 0.0015
    assert any('1 line(s) of the rollout history' in warning for warning in result.warnings)
    assert SECRET not in result.text


def test_compare_without_a_history_file(host, run):
    transcripts(host.config_dir)
    result = run(host.args(compare=True, history_file=str(host.root / 'missing.jsonl')))
    assert result['comparison'] == {'rollout': None}
    assert result.warnings == ['no completed rollout in the rollout history; nothing to compare']
    assert 'comparison' not in run(host.args())


@pytest.mark.parametrize('args, message', [
    ({'since': 'last week'}, "'last week' is not an ISO 8601 date"),
    ({'compare': True, 'window_days': 0}, 'window_days must be a whole number of days >= 1'),
    ({'pricing': {'claude-haiku-5': {'input': 1}}}, 'pricing[claude-haiku-5] needs output'),
])
def test_bad_arguments_fail(host, run, args, message):
    transcripts(host.config_dir)
    result = run(host.args(**args))
    assert result.failed
    assert message in result['msg']


def test_unknown_model_warns(host, run):
    write_file(host.config_dir / 'projects' / 'p' / 's.jsonl',
               answer('msg_9', 'claude-sonnet-5', 10, 10, '2026-11-30T08:00:00.000Z'))
    result = run(host.args())
    assert result['models']['claude-sonnet-5']['cost_usd'] is None
    assert result['totals']['cost_usd'] is None
    assert len(result.warnings) == 1 and 'claude-sonnet-5' in result.warnings[0]


# --- the default configuration directory ----------------------------------------------------------------

def test_default_is_the_users_claude_directory(host, run):
    transcripts(host.config_dir)
    result = run({'state_file': None})
    assert result['config_dirs'] == [str(host.config_dir)]
    assert result['models']['claude-sonnet-4-6'] == SONNET
    assert host.commands.called('systemctl') == [
        ['systemctl', 'show', 'jada-agent.service', '--property', 'Environment,EnvironmentFiles,WorkingDirectory']]


def test_the_services_claude_config_dir_wins(host, run):
    elsewhere = host.root / 'srv' / 'jada' / 'claude-config'
    transcripts(elsewhere)
    host.state['show']['Environment'] = 'HOME=%s "CLAUDE_CONFIG_DIR=%s"' % (host.home, elsewhere)
    result = run({'state_file': None})
    assert result['config_dirs'] == [str(elsewhere)]
    assert result['models']['claude-haiku-4-5'] == HAIKU


def test_a_relative_claude_config_dir_is_taken_from_the_working_directory(host, run):
    working = host.root / 'srv' / 'jada' / 'orchestrator'
    transcripts(working / 'cfg')
    host.state['show']['Environment'] = 'CLAUDE_CONFIG_DIR=cfg'
    host.state['show']['WorkingDirectory'] = str(working)
    result = run({'state_file': None})
    assert result['config_dirs'] == [str(working / 'cfg')]
    assert result['models']['claude-sonnet-4-6'] == SONNET


def test_an_environment_file_overrides_environment(host, run):
    from_file = host.root / 'srv' / 'from-file'
    env_file = write_file(host.root / 'etc' / 'jada' / 'jada-agent.env',
                          'ANTHROPIC_API_KEY=%s\nCLAUDE_CONFIG_DIR=%s\n' % (SECRET, from_file))
    host.state['show']['Environment'] = 'CLAUDE_CONFIG_DIR=/srv/from-environment'
    host.state['show']['EnvironmentFiles'] = ['%s (ignore_errors=no)' % env_file]
    result = run({'state_file': None})
    assert result['config_dirs'] == [str(from_file)]
    assert SECRET not in result.text


def test_another_user_without_a_service(host, run):
    result = run({'user': 'nobody-here', 'service': '', 'state_file': None})
    assert host.commands.called('systemctl') == []
    assert result['config_dirs'] == []
    assert result['models'] == {}
    assert 'user nobody-here does not exist' in result.warnings[0]
