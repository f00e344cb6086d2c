# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""jada.agent.agent_usage_info's comparison around a rollout, on transcripts the real Claude Code CLI wrote in two
batches (tests/usage/make_transcripts.py), with the rollout history line written between them as the orchestrator
role writes it, against what the Messages API stand-in answered in each batch.

Needs what hacking/setup.sh fetches (the CLI package); without it the test fails, it never skips.
Run by hacking/test.sh's usage stage."""

from __future__ import annotations

import json
import time

from ansible_collections.jada.agent.plugins.module_utils import snapshots
from ansible_collections.jada.agent.plugins.modules import agent_usage_info
from ansible_collections.jada.agent.tests.unit.plugins.modules.module_harness import run_module
from ansible_collections.jada.agent.tests.usage import make_transcripts as transcripts
from ansible_collections.jada.agent.tests.usage.test_real_transcripts import counts

# The second batch: a sonnet session with a tool call and two haiku sessions (one after a 529), no subagent and no
# refused model; the first batch is every run.
SECOND_BATCH = ('tool', 'retry', 'haiku')


def tasks_of(runs):
    """One task per run the CLI answered (one -p prompt each), under the model it ran on."""
    result = {}
    for run in runs:
        if run['exit_status'] == 0:
            result[run['model']] = result.get(run['model'], 0) + 1
    return result


def test_before_and_after_a_rollout_are_what_each_batch_answered(tmp_path, capsys):
    config_dir = str(tmp_path / 'claude-config')
    first = transcripts.make_transcripts(config_dir)
    # The history keeps whole seconds: the rollout's second begins after the first batch's last line, and the second
    # batch begins after it.
    time.sleep(1.1)
    now = int(time.time())
    history = tmp_path / 'rollouts.jsonl'
    history.write_text(snapshots.history_line('20261201T000000Z-test', 'complete', now, {
        'from_model': transcripts.SONNET, 'to_model': transcripts.HAIKU, 'from_cli_version': '2.1.328',
        'to_cli_version': '2.1.328'}) + '\n', encoding='utf-8')
    time.sleep(max(0.0, now + 1.05 - time.time()))
    second = transcripts.make_transcripts(config_dir, names=SECOND_BATCH)

    result = run_module(agent_usage_info.main, dict(config_dirs=[config_dir], service='', state_file='', compare=True,
                                                    history_file=str(history), window_days=7), capsys)
    assert not result.failed, result.get('msg')
    comparison = result['comparison']
    assert comparison['rollout'] == json.loads(history.read_text(encoding='utf-8'))
    before, after = comparison['before']['models'], comparison['after']['models']

    assert counts(before) == transcripts.token_counts(first['models'])
    assert counts(after) == transcripts.token_counts(second['models'])
    assert counts(before) != counts(after)
    # Each batch's answers once, and its tasks: the prompts of the runs the CLI answered (the subagent's prompt and
    # the refused run's are none).
    for window, batch in ((before, first), (after, second)):
        assert dict((model, figures['requests']) for model, figures in window.items() if figures['requests']) == \
            dict((model, figures['answers']) for model, figures in batch['models'].items())
        assert dict((model, figures['tasks']) for model, figures in window.items() if figures['tasks']) == \
            tasks_of(batch['runs'])
    # The whole range is both batches.
    for model, figures in counts(result['models']).items():
        for field, value in figures.items():
            assert value == before.get(model, {}).get(field, 0) + after.get(model, {}).get(field, 0)
    assert all(marker not in result.text for marker in first['markers'])
