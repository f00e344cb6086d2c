# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""jada.agent.agent_usage_info on transcripts the real Claude Code CLI wrote (tests/usage/make_transcripts.py),
against what the Messages API stand-in answered and what ccusage (pinned, $JADA_CCUSAGE) reads from the same files.

Needs what hacking/setup.sh fetches (the CLI package, ccusage); without them the tests fail, they never skip.
Run by hacking/test.sh's usage stage."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ansible_collections.jada.agent.plugins.modules import agent_usage_info
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module
from ansible_collections.jada.agent.tests.usage import make_transcripts as transcripts

TOKEN_FIELDS = transcripts.TOKEN_FIELDS


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    """One set of transcripts for the whole module: the CLI takes seconds per run."""
    config_dir = str(tmp_path_factory.mktemp('claude-config'))
    return transcripts.make_transcripts(config_dir)


def usage(capsys, config_dir, **extra):
    args = dict(config_dirs=[config_dir], service='', state_file='')
    args.update(extra)
    result = run_module(agent_usage_info.main, args, capsys)
    assert not result.failed, result.get('msg')
    return result


def counts(models):
    """The four token counts of each model that answered (errors the CLI could not tie to a model stand apart, under
    <synthetic>, with no answer of their own)."""
    return dict((model, dict((field, figures[field]) for field in TOKEN_FIELDS)) for model, figures in models.items()
                if figures['requests'])


def test_token_counts_per_model_are_what_the_api_answered_and_what_ccusage_reads(generated, capsys):
    result = usage(capsys, generated['config_dir'])

    answered = transcripts.token_counts(generated['models'])
    assert sorted(answered) == ['claude-haiku-4-5', 'claude-sonnet-4-6']
    assert counts(result['models']) == answered
    assert counts(result['models']) == transcripts.ccusage_report(generated['config_dir'], 'daily')
    # Each answer once, however many lines the CLI wrote it over (a tool call: two).
    assert dict((model, figures['requests']) for model, figures in result['models'].items() if figures['requests']) == \
        dict((model, figures['answers']) for model, figures in generated['models'].items())


def test_the_totals_and_the_agents_add_up(generated, capsys):
    result = usage(capsys, generated['config_dir'])

    for field in TOKEN_FIELDS:
        assert result['totals'][field] == sum(figures[field] for figures in generated['models'].values())
        both = [agent.get(model, {}).get(field, 0) for agent in result['by_agent'].values()
                for model in generated['models']]
        assert sum(both) == result['totals'][field]
    # The subagent ran on haiku, in a transcript of its own under the session's subagents/ directory.
    assert result['by_agent']['subagents']['claude-haiku-4-5']['requests'] >= 1
    assert 'claude-sonnet-4-6' not in result['by_agent']['subagents']


def test_the_failed_requests_are_counted_as_errors_not_as_answers(generated, capsys):
    result = usage(capsys, generated['config_dir'])

    # The 529 the CLI retried and the 404 it gave up on reached the API; no answer of theirs is counted, and the
    # transcripts record at least the 404 the session ended on, never more errors than the API gave.
    assert generated['failed_requests'] >= 2
    assert sum(figures['requests'] for figures in result['models'].values()) == sum(
        figures['answers'] for figures in generated['models'].values())
    assert 1 <= sum(figures['api_errors'] for figures in result['models'].values()) <= generated['failed_requests']


def test_no_conversation_text_in_the_result(generated, capsys):
    result = usage(capsys, generated['config_dir'], group_by='day')
    text = json.dumps(result)

    assert generated['markers'] and all(marker not in text for marker in generated['markers'])


def test_an_incremental_run_reads_only_the_new_session_and_agrees_with_a_full_read(generated, capsys, tmp_path):
    config_dir = str(tmp_path / 'claude-config')
    shutil.copytree(generated['config_dir'], config_dir)
    state_file = str(tmp_path / 'state' / 'usage-state.json')
    first = usage(capsys, config_dir, state_file=state_file)
    # Another CLI session: new bytes in a new transcript, the others untouched.
    more = transcripts.make_transcripts(str(tmp_path / 'more'))
    added = sorted(os.path.join(base, name) for base, dummy, names in os.walk(os.path.join(more['config_dir'],
                                                                                           'projects'))
                   for name in names if name.endswith('.jsonl'))
    new_bytes = 0
    for path in added:
        target = os.path.join(config_dir, os.path.relpath(path, more['config_dir']))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(path, target)
        new_bytes += os.path.getsize(path)
    second = usage(capsys, config_dir, state_file=state_file)
    full = usage(capsys, config_dir)

    assert first['bytes_read'] > 0 and second['bytes_read'] == new_bytes
    assert counts(second['models']) == counts(full['models'])
    assert counts(full['models']) == transcripts.ccusage_report(config_dir, 'daily')
    for model, figures in counts(full['models']).items():
        for field in TOKEN_FIELDS:
            assert figures[field] == (transcripts.token_counts(generated['models']).get(model, {}).get(field, 0)
                                      + transcripts.token_counts(more['models']).get(model, {}).get(field, 0))
