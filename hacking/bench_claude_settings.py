# -*- coding: utf-8 -*-

# Copyright (c) 2025, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Time jada.agent.claude_settings on a ~1 MB settings.json.

Run it from a tree that contains ``ansible_collections/jada/agent`` (the collection root)::

    mkdir -p /tmp/jada_units/ansible_collections/jada
    ln -sfn "$PWD" /tmp/jada_units/ansible_collections/jada/agent
    PYTHONPATH=/tmp/jada_units .venv/bin/python hacking/bench_claude_settings.py [--runs 30] [--size-mb 1]

It prints the best and median wall time of the pure ``set_model`` edit and of the whole module
(``main()`` in-process with ``patch_module_args``: argument parsing, read, parse, atomic write with
fsync, file attributes, override checks, JSON output) for a file that needs a change and for one
that is already converged. Nothing is asserted; the contract is "well under 100 ms" of module time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time

from ansible.module_utils.testing import patch_module_args
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import set_model
from ansible_collections.jada.agent.plugins.modules import claude_settings


MODELS = ('claude-sonnet-4-6', 'claude-haiku-4-5-20251001')


def build_settings(target_bytes):
    """A realistic settings document: schema, model, env with a fake key, hooks and a huge allow-list."""
    settings = {
        '$schema': 'https://json.schemastore.org/claude-code-settings.json',
        'model': MODELS[1],
        'env': {
            'ANTHROPIC_API_KEY': 'sk-ant-api03-' + 'x' * 95,
            'ANTHROPIC_MODEL': 'claude-opus-4-6',
            'CLAUDE_CODE_MAX_OUTPUT_TOKENS': '32000',
        },
        'hooks': {
            'PostToolUse': [
                {'matcher': 'Edit|Write', 'hooks': [{'type': 'command', 'command': 'make fmt-%d' % index}]}
                for index in range(200)
            ],
        },
        'permissions': {'allow': [], 'deny': ['Read(./.env)', 'Read(./secrets/**)'], 'defaultMode': 'acceptEdits'},
        'statusLine': {'type': 'command', 'command': '~/.claude/statusline.sh \u2014 gr\u00fc\u00df'},
    }
    allow = settings['permissions']['allow']
    index = 0
    while len(json.dumps(settings, indent=2, ensure_ascii=False)) < target_bytes:
        allow.extend('Bash(npm run task-%05d:*)' % (index + offset) for offset in range(500))
        index += 500
    return json.dumps(settings, indent=2, ensure_ascii=False) + '\n'


def timed(function, runs):
    samples = []
    for dummy in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000.0)
    return min(samples), statistics.median(samples)


def run_module(args):
    with patch_module_args(args), contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            claude_settings.main()
        except SystemExit:
            pass
    result = json.loads(out.getvalue())
    if result.get('failed'):
        raise RuntimeError('module failed: %s' % result.get('msg'))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--size-mb', type=float, default=1.0)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix='bench_claude_settings.') as directory:
        claude_settings.MANAGED_SETTINGS_DIR = os.path.join(directory, 'managed')
        path = os.path.join(directory, '.claude', 'settings.json')
        os.makedirs(os.path.dirname(path), mode=0o700)
        text = build_settings(int(options.size_mb * 1024 * 1024))
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
        size = os.path.getsize(path)

        rows = []
        rows.append(('set_model, change needed', timed(lambda: set_model(text, MODELS[0]), options.runs)))
        rows.append(('set_model, converged', timed(lambda: set_model(text, MODELS[1]), options.runs)))

        flip = {'next': 0}

        def change():
            model = MODELS[flip['next']]
            flip['next'] ^= 1
            if not run_module({'path': path, 'model': model})['changed']:
                raise RuntimeError('expected a change')

        def converged():
            if run_module({'path': path, 'model': MODELS[0]})['changed']:
                raise RuntimeError('expected no change')

        flip['next'] = 0
        rows.append(('module main(), change needed', timed(change, options.runs)))
        run_module({'path': path, 'model': MODELS[0]})
        rows.append(('module main(), converged', timed(converged, options.runs)))

    print('settings.json: %d bytes (%.2f MB), %d runs each, Python %s'
          % (size, size / 1048576.0, options.runs, sys.version.split()[0]))
    print('%-32s %10s %10s' % ('case', 'best ms', 'median ms'))
    for name, (best, median) in rows:
        print('%-32s %10.2f %10.2f' % (name, best, median))


if __name__ == '__main__':
    main()
