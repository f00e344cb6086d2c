# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model policy, compliance and monthly cost of agents, as agent_model_files and agent_model_audit report them.

Everything here is pure (no I/O, no AWS), so that the host module (agent_model_files) and the
controller module (agent_model_audit) share one implementation of every decision.

Where a row is rated: the verdict on a source (the policy model, the rule that gave it, whether the
model found complies) is made exactly once per row, by ``AuditPolicy.verdict``:

* on the host, by agent_model_files, only when it fixes files (it must know the verdict to write the
  policy model); the verdict then travels in the row;
* otherwise on the controller, by agent_model_audit, for the SSM and Lambda rows it reads and for
  the included host rows that carry no verdict.

``AuditPolicy.rate`` completes an included row (cost, notes) and keeps a verdict the row carries,
so that the report says what the host acted on. Costs and the summary are always the controller's.

Policy matching (``AuditPolicy.model_for``), in this order:

1. an entry whose ``agent`` equals the agent name exactly (case-sensitive);
2. otherwise the FIRST entry, in list order, whose ``agent`` is an fnmatch pattern
   (``*``, ``?``, ``[...]``, case-sensitive) matching the name;
3. otherwise ``default_model``.

Token volumes use the same rule (exact name, then the first matching pattern, then the
default volume). Pricing keys are model names or fnmatch patterns: a key that names a
model matches every spelling of it (see ``canonical_model``), then patterns are tried in
order against the model as written and against its canonical name; user entries come
before the built-in table.

``canonical_model`` reduces the spellings of one model to one name, so that
``claude-haiku-4-5``, ``claude-haiku-4-5-20251001``, ``us.anthropic.claude-haiku-4-5-20251001-v1:0``,
``claude-haiku-4-5@20251001`` and the alias ``haiku`` all become ``claude-haiku-4-5``. With
``match='canonical'`` (the default) compliance compares canonical names; with ``'exact'``
the strings must be equal.

Public API::

    AuditPolicy(policy=None, default_model=DEFAULT_MODEL, pricing=None, token_volumes=None,
                default_token_volume=None, match='canonical')
        .model_for(agent) -> (model, rule)       # rule: 'agent', 'pattern <p>' or 'default'
        .complies(model, wanted) -> bool
        .verdict(agent, model) -> {'policy_model', 'policy_rule', 'compliant'}
        .rates(model) -> (key, {'input', 'output'}) or (None, None)
        .volume(agent) -> {'input', 'output'} or None
        .cost(agent, model) -> (usd or None, note or None)
        .row(agent, source_type, source, model, secure=False, fixed=False, **extra) -> dict
        .rate(row) -> dict                       # an included row (agent_model_files), completed
        .summary(rows, errors=()) -> dict
    policy_argument_spec() -> dict               # policy, default_model, model_match of both modules
    Findings(diff=False)                         # rows, errors, diffs and changed of one module run
    canonical_model(model) -> str or None
    lookup(name, table) -> (key, value) or (None, None)
    compile_query(expression) -> Query           # .search(document), .path (list or None)
    parse_field_path(expression) -> list or None
    load_json(text) -> value                     # strict; SettingsError with line/column
    agent_from_path(path, how='parent', document=None) -> str
    render_table(rows, summary=None, check_mode=False) -> str
    HIDDEN_MODEL, NO_MODEL, DEFAULT_MODEL, ORCHESTRATOR_MODEL, DEFAULT_POLICY, DEFAULT_PRICING, ALIASES

JSON files are edited with claude_settings_json.set_path.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
import traceback

try:
    import jmespath
    import jmespath.exceptions
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    jmespath = None
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.jada.agent.plugins.module_utils import claude_settings_json as settings_json
from ansible_collections.jada.agent.plugins.module_utils.claude_settings_json import SettingsError


__all__ = [
    'HIDDEN_MODEL', 'NO_MODEL', 'DEFAULT_MODEL', 'ORCHESTRATOR_MODEL', 'DEFAULT_POLICY', 'DEFAULT_PRICING',
    'ALIASES', 'SOURCE_TYPES', 'VERDICT_KEYS', 'HAS_JMESPATH', 'JMESPATH_IMPORT_ERROR', 'PolicyError', 'QueryError',
    'SettingsError', 'AuditPolicy', 'Findings', 'Query', 'canonical_model', 'is_pattern', 'lookup', 'compile_query',
    'parse_field_path', 'load_json', 'agent_from_path', 'policy_argument_spec', 'add_note', 'render_table',
]

HIDDEN_MODEL = '(SecureString, hidden)'
NO_MODEL = '(no model set)'
DEFAULT_MODEL = 'claude-haiku-4-5'
ORCHESTRATOR_MODEL = 'claude-sonnet-4-6'
DEFAULT_POLICY = ({'agent': 'orchestrator', 'model': ORCHESTRATOR_MODEL},)
SOURCE_TYPES = ('json_file', 'ssm', 'lambda')
VERDICT_KEYS = ('policy_model', 'policy_rule', 'compliant')

# USD per million tokens. Opus 4.5 goes beyond what the audit was asked for; check it
# against the current price list before relying on it.
DEFAULT_PRICING = {
    'claude-haiku-4-5': {'input': 1.0, 'output': 5.0},
    'claude-sonnet-4-5': {'input': 3.0, 'output': 15.0},
    'claude-sonnet-4-6': {'input': 3.0, 'output': 15.0},
    'claude-opus-4-5': {'input': 5.0, 'output': 25.0},
}

# Claude Code's floating aliases, as they resolve when this collection was released.
ALIASES = {
    'haiku': 'claude-haiku-4-5',
    'sonnet': 'claude-sonnet-4-6',
}

_PATTERN_CHARS = frozenset('*?[')
_CONTEXT_VARIANT = re.compile(r'\[[^\]]*\]$')
_BEDROCK_PREFIX = re.compile(r'^(?:[a-z]{2,7}(?:-[a-z]+)?\.)?anthropic\.')
_BEDROCK_VERSION = re.compile(r'-v\d+(?::\d+)?$')
_DATE = re.compile(r'-\d{8}$')
_LATEST = re.compile(r'-latest$')
_FIELD = re.compile(r'\s*(?:([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*"))\s*')


class PolicyError(ValueError):
    """A policy, pricing table or token volume that cannot be used."""


class QueryError(ValueError):
    """A JMESPath expression that cannot be used; ``missing_library`` when jmespath is needed but absent."""

    def __init__(self, message, missing_library=False):
        super(QueryError, self).__init__(message)
        self.missing_library = missing_library


# --- names and tables ---------------------------------------------------------------------------------

def is_pattern(name):
    return any(char in _PATTERN_CHARS for char in name)


def lookup(name, table):
    """``(key, value)`` of the exact key ``name``, else of the first fnmatch-pattern key matching it."""
    items = table.items() if isinstance(table, dict) else table
    items = list(items)
    for key, value in items:
        if key == name:
            return key, value
    for key, value in items:
        if is_pattern(key) and fnmatch.fnmatchcase(name, key):
            return key, value
    return None, None


def canonical_model(model):
    """One name for every spelling of a model (dated, Bedrock, Vertex, alias); None for a non-string."""
    if not isinstance(model, str):
        return None
    name = model.strip().lower()
    # Bedrock ARNs end in foundation-model/<id> or inference-profile/<id>.
    name = name.rsplit('/', 1)[-1]
    name = _CONTEXT_VARIANT.sub('', name)
    name = name.split('@', 1)[0]
    name = _BEDROCK_PREFIX.sub('', name)
    name = _BEDROCK_VERSION.sub('', name)
    name = _DATE.sub('', name)
    name = _LATEST.sub('', name)
    return ALIASES.get(name, name)


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise PolicyError('%s must be a number, got %r' % (what, value))
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise PolicyError('%s must be a finite number >= 0, got %r' % (what, value))
    return float(value)


def _pair(value, what):
    """A validated {'input': float, 'output': float}."""
    if not isinstance(value, dict):
        raise PolicyError('%s must be a dictionary with input and output, got %s' % (what, type(value).__name__))
    unknown = sorted(set(value) - set(('input', 'output')))
    if unknown:
        raise PolicyError('%s has unknown keys %s; only input and output are allowed' % (what, ', '.join(unknown)))
    missing = [key for key in ('input', 'output') if value.get(key) is None]
    if missing:
        raise PolicyError('%s needs %s' % (what, ' and '.join(missing)))
    return {'input': _number(value['input'], what + '.input'), 'output': _number(value['output'], what + '.output')}


def _money(value):
    return None if value is None else round(value, 6)


# --- the policy ---------------------------------------------------------------------------------------

class AuditPolicy(object):
    """The policy, pricing and token volumes one audit applies; see the module docstring for the rules."""

    def __init__(self, policy=None, default_model=DEFAULT_MODEL, pricing=None, token_volumes=None,
                 default_token_volume=None, match='canonical'):
        if match not in ('canonical', 'exact'):
            raise PolicyError("match must be 'canonical' or 'exact', got %r" % (match,))
        self.match = match
        self.default_model = self._model(default_model, 'default_model')
        self.policy = []
        for index, entry in enumerate(DEFAULT_POLICY if policy is None else policy):
            what = 'policy[%d]' % index
            if not isinstance(entry, dict) or not isinstance(entry.get('agent'), str) or not entry['agent']:
                raise PolicyError('%s needs a non-empty agent name or pattern' % what)
            self.policy.append((entry['agent'], self._model(entry.get('model'), what + '.model')))
        self.pricing = []
        for key, value in (pricing or {}).items():
            self.pricing.append((str(key), _pair(value, 'pricing[%s]' % key)))
        given = set(key for key, dummy in self.pricing)
        self.pricing.extend((key, dict(value)) for key, value in DEFAULT_PRICING.items() if key not in given)
        self.volumes = [(str(key), _pair(value, 'token_volumes[%s]' % key))
                        for key, value in (token_volumes or {}).items()]
        self.default_volume = None if default_token_volume is None else _pair(default_token_volume,
                                                                              'default_token_volume')

    @classmethod
    def from_params(cls, params):
        """The policy a module's parameters state (policy_argument_spec, and on the controller the costs)."""
        return cls(policy=params['policy'], default_model=params['default_model'], match=params['model_match'],
                   pricing=params.get('pricing'), token_volumes=params.get('token_volumes'),
                   default_token_volume=params.get('default_token_volume'))

    @staticmethod
    def _model(model, what):
        try:
            settings_json.validate_model(model)
        except ValueError as exc:
            raise PolicyError('%s: %s' % (what, exc))
        return model

    def model_for(self, agent):
        """``(model, rule)``: exact agent name, else the first matching pattern, else the default."""
        key, model = lookup(agent, self.policy)
        if key is None:
            return self.default_model, 'default'
        return model, 'agent' if key == agent else 'pattern %s' % key

    def complies(self, model, wanted):
        if not isinstance(model, str) or not model:
            return False
        if self.match == 'exact':
            return model == wanted
        return canonical_model(model) == canonical_model(wanted)

    def rates(self, model):
        """``(key, rates)`` of the pricing entry for ``model``, or ``(None, None)``."""
        if not isinstance(model, str) or not model:
            return None, None
        canonical = canonical_model(model)
        for key, rates in self.pricing:
            if key == model or (not is_pattern(key) and canonical_model(key) == canonical):
                return key, rates
        for key, rates in self.pricing:
            if is_pattern(key) and (fnmatch.fnmatchcase(model, key) or fnmatch.fnmatchcase(canonical, key)):
                return key, rates
        return None, None

    def volume(self, agent):
        key, volume = lookup(agent, self.volumes)
        return self.default_volume if key is None else volume

    def cost(self, agent, model):
        """``(monthly USD, None)`` or ``(None, why not)``; the note never names the model."""
        volume = self.volume(agent)
        if volume is None:
            return None, 'no token volume for this agent'
        if not isinstance(model, str) or not model:
            return None, None
        dummy, rates = self.rates(model)
        if rates is None:
            return None, 'model not in the pricing table'
        return _money(volume['input'] * rates['input'] + volume['output'] * rates['output']), None

    def verdict(self, agent, model):
        """The policy's decision on one source; every row's verdict is made here, once."""
        wanted, rule = self.model_for(agent)
        return dict(policy_model=wanted, policy_rule=rule, compliant=self.complies(model, wanted))

    def row(self, agent, source_type, source, model, secure=False, fixed=False, source_name=None, notes=(),
            decided=None, **extra):
        """A report row. For ``secure=True`` ``model`` is the real value: it decides compliance and cost
        and is then replaced by HIDDEN_MODEL, so the row never holds it. ``decided`` is a verdict made
        earlier (on the host that fixed the source), used instead of making it again."""
        decided = decided or self.verdict(agent, model)
        cost, cost_note = self.cost(agent, model)
        policy_cost, policy_note = self.cost(agent, decided['policy_model'])
        all_notes = []
        if not isinstance(model, str) or not model:
            all_notes.append('no model set')
        if cost_note:
            all_notes.append(cost_note)
        if policy_note and policy_note != 'no token volume for this agent':
            all_notes.append('policy ' + policy_note)
        all_notes.extend(note for note in notes if note)
        row = dict(
            agent=agent,
            source_type=source_type,
            source=source,
            source_name=source_name,
            model=HIDDEN_MODEL if secure else (model if isinstance(model, str) and model else None),
            secure=bool(secure),
            policy_model=decided['policy_model'],
            policy_rule=decided['policy_rule'],
            compliant=bool(decided['compliant']),
            fixed=bool(fixed),
            monthly_cost_usd=cost,
            policy_monthly_cost_usd=policy_cost,
            note='; '.join(all_notes) or None,
        )
        row.update(extra)
        return row

    def rate(self, row):
        """A row that another module returned (agent_model_files, one per host), rated under this policy.

        A row that carries a verdict keeps it: the host made it to fix the file, and the report must say
        what the host acted on. A row without one gets it here. The row's own note (why a file was not
        fixed) follows the notes on its cost. A secure row keeps its verdict, cost and note as well: the
        value they came from is not in the row.
        """
        if not isinstance(row, dict) or not isinstance(row.get('agent'), str) or not row['agent']:
            raise PolicyError('every included row needs a non-empty agent')
        if row.get('source_type') not in SOURCE_TYPES:
            raise PolicyError('included row for agent %s has source_type %r; expected one of %s'
                              % (row['agent'], row.get('source_type'), ', '.join(SOURCE_TYPES)))
        decided = None
        if all(key in row for key in VERDICT_KEYS):
            decided = dict((key, row[key]) for key in VERDICT_KEYS)
            self._model(decided['policy_model'], 'included row for agent %s: policy_model' % row['agent'])
        secure = bool(row.get('secure'))
        if secure and decided is None:
            raise PolicyError('included row for agent %s is a SecureString without a verdict; its value is not '
                              'in the row to judge' % row['agent'])
        known = ('agent', 'source_type', 'source', 'model', 'secure', 'fixed', 'source_name', 'note',
                 'monthly_cost_usd', 'policy_monthly_cost_usd') + VERDICT_KEYS
        extra = dict((key, value) for key, value in row.items() if key not in known)
        model = None if secure or row.get('model') == NO_MODEL else row.get('model')
        rated = self.row(row['agent'], row['source_type'], row.get('source'), model, secure=secure,
                         fixed=row.get('fixed', False), source_name=row.get('source_name'),
                         notes=() if secure else (row.get('note'),), decided=decided, **extra)
        if secure:
            rated['monthly_cost_usd'] = row.get('monthly_cost_usd')
            rated['note'] = row.get('note')
        return rated

    def summary(self, rows, errors=()):
        """Counts and monthly totals; each agent counts once however many sources name it.

        An agent's estimated cost is the highest of its sources' costs (the model actually in
        effect is not known when sources disagree); agents without a known cost are listed.
        """
        agents = {}
        for row in rows:
            agents.setdefault(row['agent'], []).append(row)
        total = policy_total = None
        without_cost = []
        for agent, agent_rows in agents.items():
            costs = [row['monthly_cost_usd'] for row in agent_rows if row.get('monthly_cost_usd') is not None]
            if costs:
                total = (total or 0.0) + max(costs)
            else:
                without_cost.append(agent)
            policy_costs = [row['policy_monthly_cost_usd'] for row in agent_rows
                            if row.get('policy_monthly_cost_usd') is not None]
            if policy_costs:
                policy_total = (policy_total or 0.0) + policy_costs[0]
        uniform = {}
        for model in [model for dummy, model in self.policy] + [self.default_model]:
            if model in uniform:
                continue
            dummy, rates = self.rates(model)
            volumes = [self.volume(agent) for agent in agents]
            volumes = [volume for volume in volumes if volume is not None]
            if rates is None or not volumes:
                uniform[model] = None
                continue
            uniform[model] = _money(sum(volume['input'] * rates['input'] + volume['output'] * rates['output']
                                        for volume in volumes))
        non_compliant = [row for row in rows if not row['compliant']]
        return dict(
            sources=len(rows),
            agents=len(agents),
            compliant=len(rows) - len(non_compliant),
            non_compliant=len(non_compliant),
            non_compliant_agents=sorted(set(row['agent'] for row in non_compliant)),
            fixed=len([row for row in rows if row.get('fixed')]),
            errors=len(errors),
            monthly_cost_usd=_money(total),
            policy_monthly_cost_usd=_money(policy_total),
            uniform_monthly_cost_usd=uniform,
            agents_without_cost=sorted(without_cost),
        )


def policy_argument_spec():
    """The options that state the policy, the same in agent_model_files and agent_model_audit."""
    return dict(
        policy=dict(type='list', elements='dict', default=[dict(entry) for entry in DEFAULT_POLICY],
                    options=dict(agent=dict(type='str', required=True), model=dict(type='str', required=True))),
        default_model=dict(type='str', default=DEFAULT_MODEL),
        model_match=dict(type='str', default='canonical', choices=['canonical', 'exact']),
    )


def add_note(row, note):
    row['note'] = '; '.join(part for part in (row.get('note'), note) if part)


class Findings(object):
    """What one module run found and did: rows, errors, diffs, and whether anything changed."""

    def __init__(self, diff=False):
        self.diff = diff
        self.rows = []
        self.errors = []
        self.diffs = []
        self.changed = False
        self._seen = set()

    def first_time(self, *key):
        """False for a source already seen, so that overlapping globs or paths give one row."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def error(self, source_type, source, message, line=None, column=None):
        self.errors.append(dict(source_type=source_type, source=source, error=message, line=line, column=column))

    def fixed(self, row, secure=False, before=None):
        """Record a fix (done, or due in check mode) of ``row`` to its policy model."""
        self.changed = True
        row['fixed'] = True
        if self.diff:
            header = '%s %s (agent %s)' % (row['source_type'], row['source'], row['agent'])
            shown_before = HIDDEN_MODEL if secure else (NO_MODEL if before is None else before)
            shown_after = HIDDEN_MODEL if secure else row['policy_model']
            self.diffs.append(dict(before_header=header, after_header=header, before='model: %s\n' % shown_before,
                                   after='model: %s\n' % shown_after))

    def so_far(self):
        """What a failure still reports: anything already changed, and the rows so far."""
        return dict(changed=self.changed, rows=list(self.rows), errors=list(self.errors))


# --- JSON and JMESPath --------------------------------------------------------------------------------

def parse_field_path(expression):
    """The keys of a plain dotted field path (``model``, ``agent.model``, ``env."ANTHROPIC_MODEL"``), or None."""
    if not isinstance(expression, str):
        return None
    parts = []
    pos = 0
    while True:
        match = _FIELD.match(expression, pos)
        if not match or match.end() == pos:
            return None
        if match.group(1):
            parts.append(match.group(1))
        else:
            try:
                parts.append(json.loads(match.group(2)))
            except ValueError:
                return None
        pos = match.end()
        if pos == len(expression):
            return parts
        if expression[pos] != '.':
            return None
        pos += 1


class Query(object):
    """A compiled query: a plain field path (walked without jmespath) or a JMESPath expression."""

    def __init__(self, expression, path, compiled):
        self.expression = expression
        self.path = path
        self._compiled = compiled

    def search(self, document):
        if self.path is None:
            return self._compiled.search(document)
        for key in self.path:
            if not isinstance(document, dict):
                return None
            document = document.get(key)
        return document


def compile_query(expression):
    """Compile ``expression``; QueryError names it when it is invalid or needs the missing jmespath."""
    if not isinstance(expression, str) or not expression.strip():
        raise QueryError('a query must be a non-empty JMESPath expression, got %r' % (expression,))
    path = parse_field_path(expression)
    if path is not None:
        return Query(expression, path, None)
    if not HAS_JMESPATH:
        raise QueryError("the JMESPath expression '%s' needs the jmespath Python library (plain dotted field "
                         "paths such as 'agent.model' do not)" % expression, missing_library=True)
    try:
        return Query(expression, None, jmespath.compile(expression))
    except jmespath.exceptions.JMESPathError as exc:
        raise QueryError("invalid JMESPath expression '%s': %s" % (expression, str(exc).replace('\n', ' ')))


def load_json(text):
    """Strictly decode a JSON text; SettingsError (line, column, no content) when it is not valid."""
    return settings_json.loads(text)


# --- agent names --------------------------------------------------------------------------------------

def agent_from_path(path, how='parent', document=None):
    """The agent a file belongs to: ``parent`` directory, file ``stem`` or ``query:<JMESPath>`` on the document.

    ``parent`` skips hidden directories, so ``/opt/jada/agents/research/.claude/settings.json``
    belongs to ``research``. Raises ValueError when no name can be derived.
    """
    if how == 'parent':
        directory = os.path.dirname(os.path.normpath(path))
        while True:
            name = os.path.basename(directory)
            if not name:
                raise ValueError("no directory name to use as the agent name of '%s'" % path)
            if not name.startswith('.'):
                return name
            directory = os.path.dirname(directory)
    if how == 'stem':
        name = os.path.splitext(os.path.basename(path))[0]
        if not name:
            raise ValueError("no file stem to use as the agent name of '%s'" % path)
        return name
    if isinstance(how, str) and how.startswith('query:'):
        query = compile_query(how[len('query:'):])
        name = query.search(document)
        if not isinstance(name, str) or not name:
            raise ValueError("agent name query '%s' found no non-empty string" % query.expression)
        return name
    raise ValueError("agent_name must be 'parent', 'stem' or 'query:<JMESPath>', got %r" % (how,))


# --- the table ----------------------------------------------------------------------------------------

def _usd(value):
    return '-' if value is None else '{0:,.2f}'.format(value)


def _compliance_text(row, check_mode):
    if row['compliant']:
        return 'yes'
    if row.get('fixed'):
        return 'no (would fix)' if check_mode else 'no (fixed)'
    return 'no'


def render_table(rows, summary=None, check_mode=False):
    """A plain fixed-width text table of ``rows``, with a HOST column when a row has a ``host``."""
    with_host = any(row.get('host') for row in rows)
    header = (['HOST'] if with_host else []) + ['AGENT', 'TYPE', 'SOURCE', 'MODEL', 'POLICY', 'COMPLIANT',
                                                'USD/MONTH', 'POLICY USD/MONTH']
    lines = []
    for row in rows:
        model = row.get('model')
        lines.append(([row.get('host') or ''] if with_host else []) + [
            row['agent'], row['source_type'], str(row.get('source') or ''),
            NO_MODEL if model is None else model, row['policy_model'], _compliance_text(row, check_mode),
            _usd(row.get('monthly_cost_usd')), _usd(row.get('policy_monthly_cost_usd')),
        ])
    widths = [max([len(header[index])] + [len(line[index]) for line in lines]) for index in range(len(header))]
    numeric = set((len(header) - 2, len(header) - 1))

    def render(cells):
        text = '  '.join(cell.rjust(widths[index]) if index in numeric else cell.ljust(widths[index])
                         for index, cell in enumerate(cells))
        return text.rstrip()

    out = [render(header), render(['-' * width for width in widths])]
    out.extend(render(line) for line in lines)
    if summary is not None:
        out.append('')
        out.append('%d agents in %d sources: %d compliant, %d not compliant, %d %s, %d unreadable'
                   % (summary['agents'], summary['sources'], summary['compliant'], summary['non_compliant'],
                      summary['fixed'], 'would be fixed' if check_mode else 'fixed', summary['errors']))
        out.append('Estimated monthly cost: USD %s as configured, USD %s under the policy'
                   % (_usd(summary['monthly_cost_usd']), _usd(summary['policy_monthly_cost_usd'])))
        for model, cost in summary['uniform_monthly_cost_usd'].items():
            out.append('  every agent on %s: USD %s' % (model, _usd(cost)))
    return '\n'.join(out) + '\n'
