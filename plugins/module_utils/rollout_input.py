# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What is wrong with a rollout's input, decided on the controller before any host is read or touched.

    problems(inputs) -> [sentence naming the variable, its value and the fix]
    rollout_order(pending, inventory, canary) -> the hosts to change, canary first

``inputs`` maps the role's variable names (jada_agent_model, jada_agent_serial, ...) to their values, plus the
role's own tables under ``context``. Pure functions: the filters rollout_problems and rollout_order wire them.
"""

from __future__ import annotations

import json
import math
import re

from ansible_collections.jada.agent.plugins.module_utils.claude_code_facts import FACTS
from ansible_collections.jada.agent.plugins.module_utils.model_resolution import resolve_id
from ansible_collections.jada.agent.plugins.module_utils.orchestrator_plan import nofile_problem
from ansible_collections.jada.agent.plugins.module_utils.snapshots import id_problem

# Long enough for a Bedrock application-inference-profile ARN, the longest ID shape there is.
MODEL_MAX_LENGTH = 200
_FAMILIES = r'(?:opus|sonnet|haiku|fable|mythos)'
# Always a version: before the family (claude-3-5-sonnet) or after it (claude-sonnet-4-6).
_ANTHROPIC_ID = r'claude-(?:(?:[0-9]+-)+%s(?:-[0-9]+)*|%s(?:-[0-9]+)+)' % (_FAMILIES, _FAMILIES)
# The documented shapes of model IDs: the Anthropic API (claude-sonnet-4-6, claude-3-5-haiku-20241022,
# claude-sonnet-4-5-latest), Amazon Bedrock (anthropic.claude-sonnet-4-5-20250929-v1:0 with an optional
# cross-region prefix such as us. or global., or the ARN of a model or inference profile) and Google Vertex AI
# (claude-sonnet-4-5@20250929, claude-3-5-sonnet-v2@20241022); any of them may carry the [1m] context suffix.
MODEL_SHAPES = (
    ('Anthropic', re.compile(r'^%s(?:-[0-9]{8}|-latest)?$' % _ANTHROPIC_ID)),
    ('Bedrock', re.compile(r'^(?:[a-z]{2,6}(?:-[a-z]+)?\.)?anthropic\.%s(?:-[0-9]{8})?-v[0-9]+(?::[0-9]+)?$'
                           % _ANTHROPIC_ID)),
    ('Bedrock', re.compile(r'^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+:[0-9]{0,12}:'
                           r'(?:foundation-model|inference-profile|application-inference-profile|provisioned-model)'
                           r'/[A-Za-z0-9.:_-]+$')),
    ('Vertex', re.compile(r'^%s(?:-v[0-9]+)?@[0-9]{8}$' % _ANTHROPIC_ID)),
)
_SUFFIX = re.compile(r'\[[0-9]+[mM]\]$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_PERCENT = re.compile(r'^([0-9]+(?:\.[0-9]+)?)%$')
_VERSION = re.compile(r'^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$')
_SHA256 = re.compile(r'^[0-9a-f]{64}$')
# One bound for the waits: an hour is longer than any restart or first answer; beyond it a typo is likelier.
MAX_SECONDS = 3600
TRUE_STRINGS = ('true', 'yes', 'on', '1')


def _show(value):
    """The value as the user would recognise it, quoted when a string, cut when long."""
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, list, dict, type(None))) else repr(value)
    return text if len(text) <= 80 else '%s... (%d characters)' % (text[:60], len(text))


def is_true(value):
    return value is True or (isinstance(value, str) and value.strip().lower() in TRUE_STRINGS)


def model_shape(model_id):
    """The platform whose documented ID shape ``model_id`` has (its [1m] suffix aside), or None."""
    base = _SUFFIX.sub('', model_id).lower() if not model_id.startswith('arn:') else model_id
    for platform, pattern in MODEL_SHAPES:
        if pattern.match(base):
            return platform
    return None


def model_problem(model, cli_version, allow_unknown=False, facts_table=None):
    """Why ``model`` cannot be rolled out with Claude Code ``cli_version``, or None."""
    name = 'jada_agent_model'
    if not isinstance(model, str) or not model.strip():
        return ('%s is %s: give the model ID to roll out, such as claude-sonnet-4-6.' % (name, _show(model)))
    if len(model) > MODEL_MAX_LENGTH:
        return ('%s is %d characters long, more than any model ID (%d at most): check the value; it starts with %s.'
                % (name, len(model), MODEL_MAX_LENGTH, _show(model[:40])))
    if model != model.strip() or _CONTROL.search(model) or ' ' in model:
        return ('%s is %s, with blanks or control characters no model ID has: give the ID alone, such as '
                'claude-sonnet-4-6 (on the command line quote it whole: -e \'{"jada_agent_model": "..."}\').'
                % (name, _show(model)))
    facts = (facts_table or FACTS).get(cli_version)
    known_ids = facts['known_ids'] if facts else ()
    resolved = resolve_id(model, {}, facts, cli_version)[0] if facts else model
    if resolved.lower() in known_ids:
        return None
    shapes = [model_shape(model), model_shape(resolved)]
    if all(shapes) or is_true(allow_unknown):
        return None
    return ('%s is %s%s, which Claude Code %s does not know and which has the shape of no Anthropic, Bedrock or '
            'Vertex AI model ID (a one-word value such as "claude" is what -e jada_agent_model=claude sonnet leaves '
            'of an unquoted value): give a full ID such as claude-sonnet-4-6, or set '
            'jada_agent_allow_unknown_model: true to roll out an ID this collection cannot check.'
            % (name, _show(model), '' if resolved == model else ' (requested as %s)' % _show(resolved),
               cli_version))


def serial_problem(serial):
    """Why ``serial`` (a batch size, a percentage, or a list of them) gives no canary batch, or None."""
    if serial is None:
        return None
    batches = serial if isinstance(serial, list) else [serial]
    fix = ('give batch sizes of at least 1 host or 1%, such as [1, "100%"] (the default: a canary, then the rest); '
           'the first batch is the canary.')
    if not batches:
        return 'jada_agent_serial is []: %s' % fix
    for batch in batches:
        text = str(batch).strip()
        percent = _PERCENT.match(text)
        if isinstance(batch, bool):
            good = False
        elif percent:
            good = 0 < float(percent.group(1)) <= 100
        else:
            good = text.isdigit() and int(text) >= 1
        if not good:
            return 'jada_agent_serial is %s, and %s is no batch: %s' % (_show(serial), _show(batch), fix)
    return None


def seconds_problem(name, value, minimum, fix):
    """Why ``value`` is no number of seconds from ``minimum`` to MAX_SECONDS, or None."""
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or math.isnan(number) or not minimum <= number <= MAX_SECONDS:
        return '%s is %s: %s' % (name, _show(value), fix)
    return None


def canary_problem(canary, hosts):
    if canary is None or canary == '':
        return None
    if canary not in (hosts or []):
        return ('jada_agent_canary is %s, which is not a host of this run (%s): name one of them, or leave it unset '
                'to take the first host in inventory order.' % (_show(canary), ', '.join(hosts or []) or 'none'))
    return None


def rollout_id_problem(rollout_id):
    if rollout_id in (None, ''):
        return None
    problem = id_problem(rollout_id)
    return 'jada_agent_rollout_id is %s: %s.' % (_show(rollout_id), problem.split(': ', 1)[1]) if problem else None


def keep_problem(keep):
    if keep is None or (str(keep).isdigit() and int(str(keep)) >= 1):
        return None
    return ('jada_agent_snapshot_keep is %s: keep at least 1 rollout snapshot (an unfinished one is kept whatever it '
            'says).' % _show(keep))


def cli_problems(inputs, context):
    """The CLI request: version, platform, checksum, installs kept, paths."""
    version, platform = str(inputs.get('jada_agent_cli_version')), inputs.get('jada_agent_cli_platform')
    sha256 = inputs.get('jada_agent_cli_sha256')
    checksums, platforms = context.get('cli_checksums') or {}, context.get('cli_platforms') or []
    url, package = context.get('cli_url'), context.get('cli_package')
    problems = []
    if not _VERSION.match(version):
        problems.append('jada_agent_cli_version is %s, which is no npm version: give the full version to install, '
                        'such as 2.1.328 (X.Y.Z, optionally with a -prerelease suffix).' % _show(version))
    if platform not in platforms:
        problems.append('jada_agent_cli_platform is %s, which is no platform of the CLI: set it to the platform of '
                        'the host, one of %s (the suffix of the npm package @anthropic-ai/claude-code-<platform>; the '
                        '-musl ones for Alpine and other musl hosts).' % (_show(platform), ', '.join(platforms)))
    if sha256 and not _SHA256.match(str(sha256).lower()):
        problems.append('jada_agent_cli_sha256 is %s, which is no sha256: give the 64 hexadecimal digits of the '
                        'sha256 of %s.' % (_show(sha256), url))
    elif (not sha256 and _VERSION.match(version) and platform in platforms
          and not (checksums.get(version) or {}).get(platform)):
        known = '; '.join('%s on %s' % (known_version, ', '.join(known_platforms))
                          for known_version, known_platforms in checksums.items())
        problems.append('jada_agent_cli_sha256 is not set, and this role knows no sha256 for %s %s (it knows them for '
                        '%s only): set jada_agent_cli_sha256 to the sha256 of %s (`npm pack %s@%s`, check that the '
                        'sha512 of the tarball is the "integrity" the registry gives for it, then `sha256sum` it).'
                        % (package, version, known, url, package, version))
    keep = inputs.get('jada_agent_cli_keep_versions')
    if not str(keep).isdigit() or int(str(keep)) < 1:
        problems.append('jada_agent_cli_keep_versions is %s: keep at least 1 install (the one in use is never '
                        'removed).' % _show(keep))
    for name in ('jada_agent_cli_bin', 'jada_agent_cli_install_root'):
        if not str(inputs.get(name) or '').startswith('/'):
            problems.append('%s is %s: give an absolute path.' % (name, _show(inputs.get(name))))
    return problems


def problems(inputs, context=None):
    """Every problem of the rollout's input, each a sentence naming the variable, its value and the fix."""
    context = context or {}
    found = [model_problem(inputs.get('jada_agent_model'), str(inputs.get('jada_agent_cli_version')),
                           inputs.get('jada_agent_allow_unknown_model')),
             serial_problem(inputs.get('jada_agent_serial')),
             canary_problem(inputs.get('jada_agent_canary'), context.get('hosts')),
             seconds_problem('jada_agent_settle_seconds', inputs.get('jada_agent_settle_seconds'), 0,
                             'give the seconds the agent must stay up after its restart, from 0 to %d '
                             '(default 5).' % MAX_SECONDS),
             seconds_problem('jada_agent_smoke_timeout', inputs.get('jada_agent_smoke_timeout'), 1,
                             'give the seconds the smoke task may take to be answered, from 1 to %d (default 60).'
                             % MAX_SECONDS),
             nofile_problem(inputs.get('jada_agent_nofile')),
             rollout_id_problem(inputs.get('jada_agent_rollout_id')),
             keep_problem(inputs.get('jada_agent_snapshot_keep'))]
    return [problem for problem in found if problem] + cli_problems(inputs, context)


def rollout_order(pending, inventory, canary=None):
    """The hosts to change in rollout order: the canary (when it is to change), then inventory order."""
    pending = set(pending or [])
    ordered = [name for name in inventory if name in pending]
    ordered += sorted(pending - set(ordered))
    if canary in pending:
        ordered.remove(canary)
        ordered.insert(0, canary)
    return ordered
