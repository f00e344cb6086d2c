# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which model the Claude Code CLI will request, from what a host holds: the one place that decides it.

Pure functions only; the caller reads the files. Two steps:

    plan = source_plan(argv, environment, working_directory, home, managed_dir)
        -> the settings sources the CLI reads, lowest precedence first (the caller reads each path; a
           ``managed-dropins`` entry stands for the sorted ``*.json`` files of its directory)
    resolve(sources, argv, layers, cli_version, service)
        -> {model, setting, source, skipped, warnings, fatal, candidates}

``layers`` is the process environment as systemd builds it, ``[(label, {name: value})]`` in the order systemd
applies them (Environment=, then each EnvironmentFile=). Only the names of MODEL_VARIABLES are ever kept: settings
files and environment files hold API keys, and nothing else of them may reach a result.

The rules below were each observed with the real CLI (2.1.328, the probe described in claude_code_facts); the
version-dependent ones (aliases, remaps, the default, the availableModels fallback) are data in claude_code_facts.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.jada.agent.plugins.module_utils.claude_code_facts import FACTS
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import (
    SettingsError,
    loads,
    parse,
    position,
    set_model,
)

# The only environment names read from the unit, the environment files and the settings' env blocks.
MODEL_VARIABLES = (
    'ANTHROPIC_MODEL', 'ANTHROPIC_DEFAULT_MODEL', 'ANTHROPIC_DEFAULT_SONNET_MODEL', 'ANTHROPIC_DEFAULT_OPUS_MODEL',
    'ANTHROPIC_DEFAULT_HAIKU_MODEL', 'ANTHROPIC_DEFAULT_FABLE_MODEL', 'CLAUDE_CODE_DISABLE_LEGACY_MODEL_REMAP',
    'CLAUDE_CONFIG_DIR',
)
# HOME only locates the user's configuration directory.
PLAN_VARIABLES = MODEL_VARIABLES + ('HOME',)

# Load order of the CLI, lowest precedence first, for "model" keys and env blocks alike (each observed pairwise:
# project over user, local over project, --settings over local, managed over --settings, a managed-settings.d file
# over managed-settings.json, 20-b.json over 10-a.json).
SCOPES = ('user', 'project', 'local', 'flag', 'managed')
# --setting-sources user,project -> the local file is not read; --setting-sources "" -> none of the three;
# managed settings and --settings are read whatever it says.
FILTERED_SCOPES = ('user', 'project', 'local')

# A top-level key of the wrong type makes the CLI skip the whole file ("These settings files did not load"), for a
# managed file only that entry: "model": 5, null, true or {} and "env": "x" or ["a"], "availableModels": "x",
# "permissions": 5 each observed; an unknown key ("fooBar": 5) changes nothing.
SCHEMA = {'model': (str,), 'env': (dict,), 'availableModels': (list,), 'permissions': (dict,)}

_FAMILY = re.compile(r'^claude-(?:[0-9]+-)*(opus|sonnet|haiku|fable|mythos)(?:-|$)')
_DIGITS = re.compile(r'[0-9]+')
_TYPE_NAMES = {dict: 'an object', list: 'an array', str: 'a string', bool: 'a boolean', int: 'a number',
               float: 'a number', type(None): 'null'}


# --- the unit's command line -------------------------------------------------------------------------------------

def flag_values(argv, name):
    """Every value of ``--name X`` and ``--name=X`` in argv, in order."""
    values = []
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            values.append(argv[index + 1])
        elif arg.startswith(name + '='):
            values.append(arg.split('=', 1)[1])
    return values


def last_flag(argv, name):
    # A repeated --model or --settings: the last one counts (--model a --model b -> b, observed for both).
    values = flag_values(argv, name)
    return values[-1] if values else None


def setting_sources(argv):
    """The scopes --setting-sources allows, or None when it is absent (every scope)."""
    value = last_flag(argv, '--setting-sources')
    if value is None:
        return None
    return [part.strip() for part in value.split(',') if part.strip()]


# --- environments ------------------------------------------------------------------------------------------------

def model_environment(mapping, names=MODEL_VARIABLES):
    """Only the model-related names of an environment; every other value (API keys) is dropped here."""
    return dict((name, value) for name, value in (mapping or {}).items() if name in names)


def merge_layers(layers, names=MODEL_VARIABLES):
    """(environment, origin) after applying ``[(label, mapping)]`` in order; origin names the layer of each value."""
    environment, origin = {}, {}
    for label, mapping in layers:
        for name, value in model_environment(mapping, names).items():
            environment[name] = value
            origin[name] = label
    return environment, origin


def js_string(value):
    """A JSON value as the CLI turns an env block value into a string (JavaScript's String()).

    Observed in an env block: "ANTHROPIC_MODEL": 5 -> 5, null -> null, {} -> [object Object].
    """
    if isinstance(value, str):
        return value
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return ','.join('' if item is None else js_string(item) for item in value)
    return '[object Object]'


# --- where the sources are ---------------------------------------------------------------------------------------

def config_dir(environment, home, working_directory):
    """The user's configuration directory: CLAUDE_CONFIG_DIR, else ~/.claude.

    CLAUDE_CONFIG_DIR is taken relative to the working directory and ~ in it is not expanded
    (CLAUDE_CONFIG_DIR=cfg read <cwd>/cfg/settings.json, =~/cfg read nothing, ="" read <cwd>/settings.json).
    """
    value = environment.get('CLAUDE_CONFIG_DIR')
    if value is not None:
        return os.path.normpath(os.path.join(working_directory, value)) if value else working_directory
    return os.path.join(environment.get('HOME') or home, '.claude')


def source_plan(argv, environment, working_directory, home, managed_dir):
    """The settings sources the CLI reads, lowest precedence first: [{scope, path[, text]}].

    An inline ``--settings {...}`` carries its text; ``scope: managed-dropins`` stands for the ``*.json`` files of
    ``path`` in sorted order, which the caller lists.
    """
    allowed = setting_sources(argv)
    plan = []
    user = config_dir(environment, home, working_directory)
    project = os.path.join(working_directory, '.claude')
    for scope, path in (('user', os.path.join(user, 'settings.json')),
                        ('project', os.path.join(project, 'settings.json')),
                        ('local', os.path.join(project, 'settings.local.json'))):
        if allowed is None or scope in allowed:
            plan.append({'scope': scope, 'path': path})
    flag = last_flag(argv, '--settings')
    if flag is not None:
        if flag.strip().startswith('{'):
            plan.append({'scope': 'flag', 'path': '--settings in ExecStart', 'text': flag})
        else:
            plan.append({'scope': 'flag', 'path': os.path.join(working_directory, flag)})
    plan.append({'scope': 'managed', 'path': os.path.join(managed_dir, 'managed-settings.json')})
    plan.append({'scope': 'managed-dropins', 'path': os.path.join(managed_dir, 'managed-settings.d')})
    return plan


# --- one settings source -----------------------------------------------------------------------------------------

def _type_name(value):
    return _TYPE_NAMES.get(type(value), 'a value')


def _member_position(text, key):
    try:
        document = parse(text)
    except SettingsError:
        return None
    for member in document.members:
        if member.key == key:
            return position(text, member.value_start)
    return None


def schema_problems(text, data):
    """[(key, reason)] for top-level keys the CLI rejects by type; reasons carry line and column, never a value."""
    problems = []
    for key in sorted(SCHEMA):
        if key not in data:
            continue
        value = data[key]
        wrong = not isinstance(value, SCHEMA[key])
        if not wrong and key == 'availableModels':
            wrong = not all(isinstance(item, str) for item in value)
        if wrong and key == 'model':
            # parse() locates a non-string "model" itself, with its line and column.
            try:
                parse(text)
            except SettingsError as exc:
                problems.append((key, str(exc)))
                continue
        if wrong:
            where = _member_position(text, key)
            prefix = 'line %d, column %d: ' % where if where else ''
            expected = {'model': 'a string', 'env': 'an object', 'availableModels': 'an array of strings',
                        'permissions': 'an object'}[key]
            problems.append((key, '%sthe top-level "%s" must be %s, found %s' % (prefix, key, expected, _type_name(value))))
    return problems


def load_source(source):
    """(data, skipped_reason, fatal_reason, dropped) of one source as the CLI loads it.

    ``source``: {scope, path, text (None when missing), error (why it could not be read, or None)}.
    """
    scope, path, text = source['scope'], source['path'], source.get('text')
    if source.get('error'):
        if scope == 'flag':
            return None, None, '%s: %s' % (path, source['error']), []
        return None, '%s' % source['error'], None, []
    if text is None:
        # --settings /nonexistent.json: "Error: Settings file not found", the CLI exits 1.
        if scope == 'flag':
            return None, None, '--settings file %s does not exist: the CLI exits at start' % path, []
        return None, None, None, []
    # A UTF-8 byte order mark is accepted (a local file starting with one was used), and a file that is empty or
    # only whitespace counts as {} (the project file below it kept deciding, with no warning).
    if text.startswith('\ufeff'):
        text = text[1:]
    if not text.strip():
        return {}, None, None, []
    try:
        data = loads(text)
        problem = None if isinstance(data, dict) else 'the top level must be a JSON object, found %s' % _type_name(data)
    except SettingsError as exc:
        data, problem = None, str(exc)
    if problem:
        # Managed: "Managed settings document could not be parsed as a JSON object; none of its settings are in
        # effect" and the CLI exits 1 (invalid JSON and [] in managed-settings.json or a drop-in, observed);
        # --settings with invalid JSON: "Error: Invalid JSON provided to --settings", exits 1.
        if scope in ('managed', 'flag'):
            return None, None, '%s: %s: the CLI exits at start' % (path, problem), []
        return None, problem, None, []
    problems = schema_problems(text, data)
    if problems and scope == 'managed':
        # Managed: "remaining valid policies are still enforced": {"model": 5} left the project's model in use;
        # {"availableModels": "x"} restricted the project's claude-haiku-4-5 to the default, as an empty list would.
        data = dict(data)
        for key, dummy in problems:
            if key == 'availableModels':
                data[key] = []
            else:
                del data[key]
        return data, None, None, problems
    if problems:
        return None, '; '.join(reason for dummy, reason in problems), None, []
    return data, None, None, []


# --- resolving a setting to the ID the CLI requests --------------------------------------------------------------

def _strip_suffix(value, facts):
    for suffix in facts['suffixes']:
        if value.lower().endswith(suffix):
            return value[:-len(suffix)]
    return value


def is_truthy(value, facts):
    return value is not None and value.strip().lower() in facts['truthy']


def family_of(model_id):
    match = _FAMILY.match(model_id.lower())
    return match.group(1) if match else None


def _warning(kind, message):
    return {'kind': kind, 'msg': message}


def resolve_id(value, environment, facts, version):
    """(requested ID, warnings) for one raw model setting, in the given environment."""
    base = _strip_suffix(value.strip(), facts)
    key = base.lower()
    if key in facts['aliases']:
        family, builtin = facts['aliases'][key]
        variable = facts['alias_variable'] % family
        replacement = environment.get(variable)
        if replacement:
            return replacement, [_warning('alias', 'alias "%s" requests %s because %s is set' % (value, replacement, variable))]
        return builtin, [_warning('alias', 'alias "%s" requests %s in Claude Code %s; it moves with CLI upgrades, pin the ID '
                                           'to keep it' % (value, builtin, version))]
    if key in facts['legacy_remap'] and not is_truthy(environment.get(facts['remap_variable']), facts):
        target, dummy = resolve_id(facts['default_alias'], environment, facts, version)
        return target, [_warning('legacy-remap', 'legacy model "%s" is remapped to %s by Claude Code %s; set %s=1 to keep it'
                                                 % (value, target, version, facts['remap_variable']))]
    if key in facts['known_ids']:
        return key, []
    return base, []


def default_model(environment, origin, facts, version):
    """(ID, setting, source, warnings) of the CLI's default when nothing sets a model."""
    variable = facts['default_variable']
    value = environment.get(variable)
    notes = []
    if value and value.strip():
        if _strip_suffix(value.strip(), facts).lower() not in facts['default_variable_refuses']:
            model, notes = resolve_id(value, environment, facts, version)
            return model, value, '%s in %s' % (variable, origin.get(variable)), notes
        notes.append(_warning('ignored', '%s=%s in %s is refused by Claude Code %s' % (variable, value, origin.get(variable), version)))
    model, dummy = resolve_id(facts['default_alias'], environment, facts, version)
    return model, None, 'Claude Code default', notes + [
        _warning('default', 'no model is set: Claude Code %s uses its built-in default %s' % (version, model))]


def _version_key(model_id):
    return [int(part) for part in _DIGITS.findall(model_id)]


def is_allowed(setting, model, entries, facts):
    setting_key = _strip_suffix(setting.strip(), facts).lower()
    for entry in entries:
        name = _strip_suffix(entry.strip(), facts).lower()
        if name in facts['family_entries']:
            if family_of(model) == name or setting_key == name:
                return True
        elif name in (model.lower(), setting_key):
            return True
    return False


def restricted_fallback(setting, entries, facts):
    """(ID or None, warnings): what a restricted family alias falls back to; None means the default."""
    key = _strip_suffix(setting.strip(), facts).lower()
    if key not in facts['family_fallback']:
        return None, []
    family = facts['aliases'][key][0].lower()
    same = [_strip_suffix(entry.strip(), facts).lower() for entry in entries]
    same = [entry for entry in same if entry not in facts['family_entries'] and family_of(entry) == family]
    if not same:
        return None, []
    newest = max(same, key=_version_key)
    if newest in facts['first_party_ids']:
        return facts['first_party_ids'][newest], []
    return newest, [_warning('unverified', 'the availableModels fallback to %s was never observed with this CLI version; '
                                           'it may request a dated ID instead' % newest)]


# --- the whole decision ------------------------------------------------------------------------------------------

def resolve(sources, argv, layers, cli_version, service='the service', facts_table=None):
    """Which model the CLI will request, and why. See the module docstring for the arguments.

    Returns model (None when unknown or when the CLI will not start), setting (the raw value that won),
    source, skipped [{path, reason}], warnings [{kind, msg}], fatal (why the CLI exits at start, or None) and
    candidates: every place that sets a model, highest precedence first [{kind, source, model, scope, path}].
    """
    facts_table = FACTS if facts_table is None else facts_table
    result = {'model': None, 'setting': None, 'source': None, 'skipped': [], 'warnings': [], 'fatal': None,
              'candidates': []}
    warnings = result['warnings']
    environment, origin = merge_layers(layers)
    loaded = []
    for source in sources:
        data, skipped, fatal, dropped = load_source(source)
        if skipped:
            result['skipped'].append({'path': source['path'], 'reason': skipped})
        if fatal and result['fatal'] is None:
            result['fatal'] = fatal
        for key, reason in dropped:
            warnings.append(_warning('invalid-entry', '%s: %s; the CLI ignores this entry' % (source['path'], reason)))
        if data is not None:
            loaded.append((source, data))

    env_candidates, model_candidates, available = [], [], None
    unmodelled = None
    for source, data in loaded:
        block = data.get('env') or {}
        for name in MODEL_VARIABLES:
            if name in block:
                environment[name] = js_string(block[name])
                origin[name] = 'the env block of %s' % source['path']
        if 'ANTHROPIC_MODEL' in block and js_string(block['ANTHROPIC_MODEL']).strip():
            env_candidates.append({'kind': 'environment', 'source': 'ANTHROPIC_MODEL in the env block of %s' % source['path'],
                                   'model': js_string(block['ANTHROPIC_MODEL']), 'scope': source['scope'], 'path': source['path']})
        if 'CLAUDE_CONFIG_DIR' in block:
            # In the user file's env block it moved the CLI to settings it did not read before the switch (neither
            # the old nor the new file's model was requested); in the project file's it changed nothing.
            if source['scope'] == 'user':
                unmodelled = 'CLAUDE_CONFIG_DIR in the env block of %s: what the CLI then reads is not modelled' % source['path']
            else:
                warnings.append(_warning('ignored', 'CLAUDE_CONFIG_DIR in the env block of %s has no effect on the '
                                                    'settings the CLI reads' % source['path']))
        if isinstance(data.get('model'), str):
            model_candidates.append({'kind': 'file', 'source': source['path'], 'model': data['model'],
                                     'scope': source['scope'], 'path': source['path']})
        if isinstance(data.get('availableModels'), list):
            available = (available or []) + [item for item in data['availableModels'] if isinstance(item, str)]

    flag = last_flag(argv, '--model')
    candidates = []
    if flag is not None:
        candidates.append({'kind': 'flag', 'source': '--model in ExecStart of %s' % service, 'model': flag,
                           'scope': 'argv', 'path': None})
    candidates.extend(reversed(env_candidates))
    process, process_origin = merge_layers(layers)
    if process.get('ANTHROPIC_MODEL', '').strip():
        candidates.append({'kind': 'environment', 'source': 'ANTHROPIC_MODEL in %s' % process_origin['ANTHROPIC_MODEL'],
                           'model': process['ANTHROPIC_MODEL'], 'scope': 'environment', 'path': None})
    candidates.extend(reversed(model_candidates))
    result['candidates'] = candidates

    # --model beats ANTHROPIC_MODEL (process environment or env block), which beats every "model" key; an empty or
    # blank ANTHROPIC_MODEL counts as unset (the project's model was used), an empty "model" as the default
    # ({"model": ""} in the local file -> claude-opus-5-5 over the project's claude-haiku-4-5).
    env_model = environment.get('ANTHROPIC_MODEL')
    use_default = False
    if flag is not None:
        result['setting'], result['source'] = flag, candidates[0]['source']
        if not flag.strip():
            unmodelled = '--model with an empty value: the CLI sent no request at all'
        use_default = flag.strip().lower() == facts_table.get(cli_version, {}).get('flag_default')
    elif env_model is not None and env_model.strip():
        result['setting'], result['source'] = env_model, 'ANTHROPIC_MODEL in %s' % origin['ANTHROPIC_MODEL']
    elif model_candidates:
        winner = model_candidates[-1]
        result['setting'], result['source'] = winner['model'], winner['source']
        use_default = not winner['model'].strip()
    else:
        use_default = True

    if result['fatal']:
        warnings.append(_warning('fatal', result['fatal']))
        return result
    if unmodelled:
        warnings.append(_warning('unmodelled', unmodelled))
        return result
    facts = facts_table.get(cli_version)
    if facts is None:
        warnings.append(_warning('unknown-cli-version', 'no model facts for Claude Code %s (known: %s): the model it requests '
                                                        'is unknown' % (cli_version or '(version unknown)',
                                                                        ', '.join(sorted(facts_table)))))
        return result

    if use_default:
        model, setting, source, notes = default_model(environment, origin, facts, cli_version)
        result['model'] = model
        if result['setting'] is None:
            result['setting'], result['source'] = setting, source
        warnings.extend(notes)
        return result

    model, notes = resolve_id(result['setting'], environment, facts, cli_version)
    warnings.extend(notes)
    if available is not None and not is_allowed(result['setting'], model, available, facts):
        fallback, notes = restricted_fallback(result['setting'], available, facts)
        if fallback is None:
            fallback, dummy, dummy, notes = default_model(environment, origin, facts, cli_version)
            notes = []
        warnings.extend(notes)
        warnings.append(_warning('available-models', '%s is not in availableModels (%s): the CLI requests %s instead'
                                                     % (model, ', '.join(available) or 'empty', fallback)))
        model = fallback
    result['model'] = model
    return result


def with_model(sources, paths, model):
    """The sources as they will be once ``model`` is written into the settings files at ``paths`` (real paths).

    The edit is the one jada.agent.claude_settings makes (only the "model" bytes change; a missing file gets
    ``{"model": ...}``), so resolving these sources answers "which model will the CLI request after the rollout".
    A file that cannot be edited stays as it is: it is refused for itself.
    """
    planned = []
    for source in sources:
        if source['path'] in paths and not source.get('error'):
            text = source.get('text')
            try:
                text = set_model(text, model) if text is not None and text.strip() else json.dumps({'model': model}) + '\n'
            except (SettingsError, ValueError):
                pass
            source = dict(source, text=text)
        planned.append(source)
    return planned
