# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Agents' JSON config files as they lie on a host, for the tests of agent_model_files and agent_model_audit.

``write_tree(root)`` lays out ``/opt/jada`` below ``root``: Lambda-style ``config.json`` files whose model is at
``agent.model``, Claude Code ``settings.json`` files (one below a hidden ``.claude`` directory, holding an API key),
one file without a model and one that is not strict JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.jada.agent.plugins.modules import agent_model_files


# <root>/ansible_collections/jada/agent/plugins/modules/agent_model_files.py -> <root>
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(agent_model_files.__file__), *['..'] * 5))
API_KEY = 'sk-ant-api03-never-print-me'
VOLUMES = {'orchestrator': {'input': 10, 'output': 2}, 'jada-*': {'input': 4, 'output': 1}}
DEFAULT_VOLUME = {'input': 1, 'output': 0.5}

CONFIG_VALIDATOR = (
    '{\n'
    '    "name": "validator",\n'
    '    "agent": {\n'
    '        "model": "claude-sonnet-4-6",\n'
    '        "max_tokens": 4096,\n'
    '        "temperature": 0.0\n'
    '    },\n'
    '    "queue": "https://sqs.us-east-1.amazonaws.com/123456789012/jada-validate",\n'
    '    "greeting": "gr\\u00fc\\u00df"\n'
    '}\n'
)
SETTINGS_RESEARCH = (
    '{\n'
    '  "$schema": "https://json.schemastore.org/claude-code-settings.json",\n'
    '  "model": "opus",\n'
    '  "env": {"ANTHROPIC_API_KEY": "' + API_KEY + '"},\n'
    '  "permissions": {"allow": ["Bash(git diff:*)"]}\n'
    '}'
)


def write_tree(tmp_path):
    """``(root, paths)``: /opt/jada in a temporary directory, with a broken file among the good ones."""
    root = tmp_path / 'opt' / 'jada'

    def write(relative, text, mode=0o640):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')
        path.chmod(mode)
        return str(path)

    paths = dict(
        validator=write('lambda/validator/config.json', CONFIG_VALIDATOR),
        orchestrator=write('lambda/orchestrator/config.json', '{"agent": {"model": "claude-sonnet-4-6"}}\n'),
        summarizer=write('lambda/summarizer/config.json', '{"agent": {"name": "summarizer"}}\n'),
        broken=write('lambda/broken/config.json', '{\n  "agent": {"model": "x"},\n  "key": "' + API_KEY + '",\n}\n'),
        research=write('agents/research/.claude/settings.json', SETTINGS_RESEARCH, mode=0o600),
        writer=write('agents/team/writer/settings.json', '{"model": "claude-haiku-4-5@20251001"}'),
    )
    return str(root), paths


def file_sources(root):
    return [
        dict(glob=root + '/lambda/*/config.json', query='agent.model', source_name='lambda-configs'),
        dict(glob=root + '/agents/**/settings.json'),
        dict(glob=root + '/agents/*/.claude/settings.json'),
    ]


def snapshot(paths):
    """Bytes, mode and modification time of each file, to tell an untouched file from a rewritten one."""
    return dict((name, (open(path, 'rb').read(), os.stat(path).st_mode, os.stat(path).st_mtime_ns))
                for name, path in paths.items())


def by_source(result):
    return dict((row['source'], row) for row in result['rows'])


BLOCKING_SCRIPT = """
import json, sys
blocked = json.loads(sys.argv[1])
class Block(object):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError("blocked " + name)
sys.meta_path.insert(0, Block())
import importlib
from ansible.module_utils.testing import patch_module_args
module = importlib.import_module("ansible_collections.jada.agent.plugins.modules." + sys.argv[2])
with patch_module_args(json.loads(sys.argv[3])):
    module.main()
"""


def run_without(blocked, name, args):
    """The result of module ``name`` run in a fresh Python that cannot import the packages ``blocked``."""
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('AWS_'))
    env['PYTHONPATH'] = COLLECTIONS_ROOT
    # The module exits non-zero on failure; the JSON it prints says why.
    done = subprocess.run([sys.executable, '-c', BLOCKING_SCRIPT, json.dumps(blocked), name, json.dumps(args)],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    return json.loads(done.stdout)
