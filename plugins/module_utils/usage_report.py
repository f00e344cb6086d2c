# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The usage report of a play: per host and for the fleet, the usage per model and the change around the last rollout.

Built on the controller from each host's agent_usage_info answer (registered as USAGE_FACT, with ``compare``), so
that the JSON report, its HTML page and the summary lines say the same.

The fleet is the sum of the hosts that were read. Each host's windows are those around its own last rollout (a
canary finished before the rest), and a host without a rollout takes no part in the fleet's comparison. Counts,
costs and costs per day add up; tokens per task and the error rate are computed again from the sums. Percentiles do
not add up: the fleet shows the worst host's p50 and p95 (``worst_host_p50_ms``, ``worst_host_p95_ms``).

Public API::

    USAGE_FACT                                      # the host variable the play registers the read as
    change_percent(before, after)                   # the change in percent, or None
    fleet_models(per_host)                          # the sum of the hosts' per-model figures
    window_totals(models)                           # a window's figures over all its models
    change_withheld(name, spans)                    # why a figure's change is not shown, or None
    changes(before, after, spans)                   # {model: {figure: percent}} of two windows
    host_entry(name, result)                        # (entry, read or not, summary lines) of one host
    usage_report(hosts, finished, check_mode)       # the whole report
    svg_bar_chart(title, unit, groups)              # one inline SVG chart
    html_report(report)                             # the report as one self-contained HTML page
"""

from __future__ import annotations

import html

from ansible_collections.jada.agent.plugins.module_utils.agent_usage import derived_figures

__all__ = ['USAGE_FACT', 'change_percent', 'change_withheld', 'changes', 'fleet_models', 'host_entry', 'html_report', 'svg_bar_chart',
           'usage_report', 'window_totals']

USAGE_FACT = '__jada_agent_usage'
# The figures that add up over hosts and models.
COUNTS = ('requests', 'input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens',
          'api_errors', 'tasks')
TOKENS = COUNTS[1:5]
# The figures whose change the comparison shows, in the order of its table.
COMPARED = ('requests', 'tasks', 'tokens_per_task', 'cost_per_day', 'error_rate', 'p50_ms', 'p95_ms',
            'worst_host_p50_ms', 'worst_host_p95_ms')
TOTALS = 'all models'
# Counts say how much happened, so they compare only over windows of the same length.
PER_WINDOW = ('requests', 'tasks')
# A cost per day from minutes after a rollout is one burst extrapolated, not a day's cost.
PER_DAY = ('cost_per_day',)
MIN_DAYS_PER_DAY = 1.0


def change_percent(before, after):
    """(after - before) / before in percent, rounded to 0.1; None when before is 0 or either is unknown."""
    if before is None or after is None or before == 0:
        return None
    return round((after - before) * 100.0 / before, 1)


def _add(total, value):
    # An unknown cost (an unpriced model) makes the sum unknown rather than too low.
    return None if total is None or value is None else total + value


def _sum(figures_list):
    """Counts, cost_usd and, where the figures have them (a window's), tasks and cost_per_day summed over figures of
    one model (or of several), with tokens_per_task and error_rate computed again from the sums."""
    present = set(name for figures in figures_list for name in figures)
    summed = {}
    for name in COUNTS:
        if name != 'tasks' or name in present:
            summed[name] = sum(figures.get(name) or 0 for figures in figures_list)
    for name in ('cost_usd', 'cost_per_day'):
        if name == 'cost_usd' or name in present:
            total = 0.0
            for figures in figures_list:
                total = _add(total, figures.get(name))
            summed[name] = None if total is None else round(total, 6)
    # tokens_per_task and error_rate as the host computes them; the cost per day is the sum of the hosts' (each
    # over the days its own window covers), not the summed cost over some common number of days.
    derived = derived_figures(summed, summed.get('tasks', 0), 0)
    summed['error_rate'] = derived['error_rate']
    if 'tasks' in summed:
        summed['tokens_per_task'] = derived['tokens_per_task']
    return summed


def _worst(values):
    known = [value for value in values if value is not None]
    return max(known) if known else None


def fleet_models(per_host):
    """{model: figures} summed over ``per_host``, a list of {model: figures} (the hosts' windows or whole ranges).

    Latency, where the hosts give it, becomes the worst host's: ``worst_host_p50_ms``, ``worst_host_p95_ms``.
    """
    names = sorted(set(model for models in per_host for model in models))
    result = {}
    for model in names:
        figures = [models[model] for models in per_host if model in models]
        result[model] = _sum(figures)
        if any('p95_ms' in entry for entry in figures):
            result[model].update(worst_host_p50_ms=_worst(entry.get('p50_ms') for entry in figures),
                                 worst_host_p95_ms=_worst(entry.get('p95_ms') for entry in figures))
    return result


def window_totals(models):
    """A window's figures over all its models (no latency: percentiles of several models do not add up)."""
    return _sum(models.values())


def change_withheld(name, spans):
    """Why the change of figure ``name`` is not shown for windows of ``spans`` ([(before days, after days)], one per
    host summed), or None when it is."""
    if name in PER_WINDOW and any(abs(before - after) > 1e-3 for before, after in spans):
        return 'the windows differ in length'
    if name in PER_DAY:
        shortest = min(min(pair) for pair in spans) if spans else 0
        if shortest < MIN_DAYS_PER_DAY:
            return 'too early: a window covers %s, less than %s day(s)' % (_duration(shortest),
                                                                           _number(MIN_DAYS_PER_DAY))
    return None


def _duration(days):
    # Rounded down: a window a minute short of a day must not read as 24.0 hours.
    minutes = int(days * 24 * 60)
    if minutes < 120:
        return '%d minute(s)' % minutes
    return '%.1f hour(s)' % (minutes // 6 / 10.0) if minutes < 24 * 60 else '%s day(s)' % _number(round(days, 2))


def changes(before, after, spans):
    """{model: {figure: percent}} for every model of either window (``before``/``after``: {model: figures}), and
    TOTALS for the windows' totals; a model missing from a window has no change, nor has a figure change_withheld
    names for ``spans``."""
    result = {}
    rows = dict((model, (before.get(model, {}), after.get(model, {}))) for model in set(before) | set(after))
    rows[TOTALS] = (window_totals(before), window_totals(after))
    for model, (old, new) in rows.items():
        result[model] = {}
        for name in COMPARED:
            if name in old or name in new:
                change = None if change_withheld(name, spans) else change_percent(old.get(name), new.get(name))
                result[model][name] = change
    return result


def withheld(spans):
    """{figure: why} of the compared figures whose change is not shown for ``spans``."""
    reasons = dict((name, change_withheld(name, spans)) for name in COMPARED)
    return dict((name, why) for name, why in reasons.items() if why)


def _comparison(comparison):
    """The report's comparison of one host: its windows, their totals and the changes, or None without a rollout."""
    if not comparison or not comparison.get('rollout'):
        return None
    result = {'rollout': comparison['rollout'], 'window_days': comparison.get('window_days')}
    for name in ('before', 'after'):
        window = comparison[name]
        result[name] = {'since': window['since'], 'until': window['until'], 'days': window['days'],
                        'models': window['models'], 'totals': window_totals(window['models'])}
    spans = [(result['before']['days'], result['after']['days'])]
    result['change'] = changes(result['before']['models'], result['after']['models'], spans)
    result['change_withheld'] = withheld(spans)
    return result


def _money(value):
    return 'n/a' if value is None else '%.2f USD' % value


def _percent(value):
    return '' if value is None else ' (%+.1f%%)' % value


def _comparison_line(comparison):
    before, after = comparison['before']['totals'], comparison['after']['totals']
    why = comparison['change_withheld'].get('cost_per_day')
    return 'cost per day %s -> %s%s, error rate %s -> %s' % (
        _money(before['cost_per_day']), _money(after['cost_per_day']),
        ' (%s)' % why if why else _percent(comparison['change'][TOTALS].get('cost_per_day')),
        _number(before['error_rate']), _number(after['error_rate']))


def host_entry(name, result):
    """(entry, read, lines) of host ``name`` from its registered agent_usage_info ``result`` (None when the play
    never got that far). ``read`` is False for a host whose usage could not be read."""
    result = result or {}
    if result.get('failed') or result.get('unreachable') or 'models' not in result:
        why = 'unreachable' if result.get('unreachable') else 'its read failed or did not run'
        failure = '%s: not read (%s; see the output above)' % (name, why)
        return {'failed': failure}, False, ['FAILED  ' + failure]
    comparison = _comparison(result.get('comparison'))
    entry = {'failed': None, 'models': result['models'], 'totals': result.get('totals'),
             'latency': result.get('latency', {}), 'comparison': comparison,
             'warnings': list(result.get('warnings') or [])}
    if comparison is None:
        return entry, True, ['ok      %s: no completed rollout to compare around' % name]
    rollout = comparison['rollout']
    return entry, True, ['ok      %s: rollout %s at %s (%s -> %s): %s' % (
        name, rollout.get('rollout_id'), rollout.get('time'), rollout.get('from_model'), rollout.get('to_model'),
        _comparison_line(comparison))]


def usage_report(hosts, finished, check_mode):
    """The report of a play over ``hosts``, a list of (name, registered agent_usage_info result) in play order."""
    entries, not_read, lines = {}, [], []
    for name, result in hosts:
        entry, read, host_lines = host_entry(name, result)
        entries[name] = entry
        lines.extend(host_lines)
        if not read:
            not_read.append(name)
    compared = [name for name in entries if entries[name].get('comparison')]
    read_names = [name for name in entries if not entries[name]['failed']]
    fleet = {'hosts_read': read_names, 'models': fleet_models([entries[name]['models'] for name in read_names])}
    fleet['totals'] = window_totals(fleet['models'])
    fleet['comparison'] = None
    if compared:
        fleet['comparison'] = {'hosts_compared': compared}
        for window in ('before', 'after'):
            models = fleet_models([entries[name]['comparison'][window]['models'] for name in compared])
            fleet['comparison'][window] = {'models': models, 'totals': window_totals(models)}
        spans = [(entries[name]['comparison']['before']['days'], entries[name]['comparison']['after']['days'])
                 for name in compared]
        fleet['comparison']['change'] = changes(fleet['comparison']['before']['models'],
                                                fleet['comparison']['after']['models'], spans)
        fleet['comparison']['change_withheld'] = withheld(spans)
        lines.insert(0, 'fleet   %d host(s) compared around their last rollout: %s' % (
            len(compared), _comparison_line(fleet['comparison'])))
    else:
        lines.insert(0, 'fleet   no host has a completed rollout to compare around')
    return {'finished': finished, 'check_mode': bool(check_mode), 'hosts': entries, 'fleet': fleet,
            'hosts_not_read': not_read, 'summary_lines': lines}


# --- HTML -------------------------------------------------------------------------------------------------

_BEFORE, _AFTER = '#8a8f98', '#2f6fb3'
_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.up { color: #a33; } .down { color: #262; } .note { color: #666; }
svg { display: block; margin: 0.5em 0 1.5em; }
"""


def _e(value):
    return html.escape('%s' % (value,), quote=True)


def _number(value):
    if value is None:
        return 'n/a'
    if isinstance(value, int) and not isinstance(value, bool):
        return '{:,}'.format(value)
    return '%.6g' % value


def svg_bar_chart(title, unit, groups):
    """An inline SVG of horizontal bars: ``groups`` is [(label, [(series, value or None, colour)])], one group per
    model. Every text is escaped; the chart names no external resource (no namespace URL either: inline SVG in HTML
    needs none)."""
    label_width, bar_width, bar_height, gap = 260, 420, 14, 10
    values = [value for dummy, series in groups for dummy, value, dummy in series if value is not None]
    top = max(values) if values else 0
    height = 30 + sum(len(series) * bar_height + gap for dummy, series in groups)
    parts = ['<svg width="%d" height="%d" role="img" aria-label="%s">' % (label_width + bar_width + 120, height,
                                                                          _e(title)),
             '<text x="0" y="16" font-weight="bold">%s (%s)</text>' % (_e(title), _e(unit))]
    y = 30
    for label, series in groups:
        parts.append('<text x="0" y="%d" font-size="12">%s</text>' % (y + bar_height - 2, _e(label)))
        for name, value, colour in series:
            width = 0 if not top or not value else max(1, int(round(bar_width * float(value) / top)))
            parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>' % (
                label_width, y, width, bar_height - 2, colour, _e('%s %s: %s' % (label, name, _number(value)))))
            parts.append('<text x="%d" y="%d" font-size="11">%s %s</text>' % (
                label_width + width + 4, y + bar_height - 3, _e(name), _e(_number(value))))
            y += bar_height
        y += gap
    parts.append('</svg>')
    return '\n'.join(parts)


def _charts(comparison, p50, p95):
    before, after = comparison['before']['models'], comparison['after']['models']
    models = sorted(set(before) | set(after))

    def value(window, model, name):
        return window.get(model, {}).get(name)

    cost = [(model, [('before', value(before, model, 'cost_per_day'), _BEFORE),
                     ('after', value(after, model, 'cost_per_day'), _AFTER)]) for model in models]
    latency = [(model, [('p50 before', value(before, model, p50), _BEFORE),
                        ('p50 after', value(after, model, p50), _AFTER),
                        ('p95 before', value(before, model, p95), _BEFORE),
                        ('p95 after', value(after, model, p95), _AFTER)]) for model in models]
    return [svg_bar_chart('Cost per day', 'USD', cost), svg_bar_chart('Latency', 'ms', latency)]


def _comparison_table(comparison, names):
    before, after, change = comparison['before'], comparison['after'], comparison['change']
    rows = [(model, before['models'].get(model, {}), after['models'].get(model, {}), change.get(model, {}))
            for model in sorted(set(before['models']) | set(after['models']))]
    rows.append((TOTALS, before['totals'], after['totals'], change.get(TOTALS, {})))
    head = ''.join('<th>%s before</th><th>after</th><th>change</th>' % _e(name) for name in names)
    out = ['<table><tr><th>model</th>%s</tr>' % head]
    for model, old, new, percent in rows:
        cells = []
        for name in names:
            value = percent.get(name)
            css = '' if value is None else (' class="up"' if value > 0 else ' class="down"' if value < 0 else '')
            cells.append('<td>%s</td><td>%s</td><td%s>%s</td>' % (
                _e(_number(old.get(name))), _e(_number(new.get(name))), css,
                '' if value is None else _e('%+.1f %%' % value)))
        out.append('<tr><td>%s</td>%s</tr>' % (_e(model), ''.join(cells)))
    out.append('</table>')
    return '\n'.join(out)


def _usage_table(models, totals):
    names = COUNTS[:-1] + ('cost_usd',)
    out = ['<table><tr><th>model</th>%s</tr>' % ''.join('<th>%s</th>' % _e(name) for name in names)]
    rows = [(model, models[model]) for model in sorted(models)] + [(TOTALS, totals or {})]
    for model, figures in rows:
        out.append('<tr><td>%s</td>%s</tr>' % (_e(model), ''.join('<td>%s</td>' % _e(_number(figures.get(name)))
                                                                  for name in names)))
    out.append('</table>')
    return '\n'.join(out)


def _section(title, comparison, models, totals, p50, p95, note):
    out = ['<h2>%s</h2>' % _e(title)]
    if note:
        out.append('<p class="note">%s</p>' % _e(note))
    if comparison:
        out.append('<h3>Before and after the last rollout</h3>')
        out.append(_comparison_table(comparison, ('cost_per_day', 'requests', 'tasks', 'tokens_per_task',
                                                  'error_rate', p50, p95)))
        if comparison['change_withheld']:
            out.append('<p class="note">No change shown for %s.</p>' % _e('; '.join(
                '%s: %s' % (name, why) for name, why in sorted(comparison['change_withheld'].items()))))
        out.extend(_charts(comparison, p50, p95))
    else:
        out.append('<p>No completed rollout to compare around.</p>')
    out.append('<h3>Usage per model</h3>')
    out.append(_usage_table(models, totals))
    return out


def _window_note(comparison):
    rollout = comparison['rollout']
    return 'Rollout %s at %s: %s -> %s, CLI %s -> %s. Before %s to %s (%s days), after %s to %s (%s days).' % (
        rollout.get('rollout_id'), rollout.get('time'), rollout.get('from_model'), rollout.get('to_model'),
        rollout.get('from_cli_version'), rollout.get('to_cli_version'), comparison['before']['since'],
        comparison['before']['until'], _number(comparison['before']['days']), comparison['after']['since'],
        comparison['after']['until'], _number(comparison['after']['days']))


def html_report(report):
    """The report as one HTML page: inline CSS and SVG, no script, no external resource, every text escaped."""
    fleet = report['fleet']
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<title>Claude usage report %s</title>' % _e(report['finished']), '<style>%s</style>' % _STYLE,
           '</head><body>', '<h1>Claude usage report</h1>',
           '<p>Finished %s%s. Costs at list prices; cost per day is the cost over the days a window covers (an open '
           'after window: fewer than its length). A task is a prompt of the main agent, counted under the model of '
           'its first answer.</p>' % (_e(report['finished']), ' (check mode)' if report['check_mode'] else '')]
    if report['hosts_not_read']:
        out.append('<p class="up">Not read: %s</p>' % _e(', '.join(report['hosts_not_read'])))
    note = ('The sum of %d host(s); each host compared around its own last rollout (%s). Latency: the worst host.'
            % (len(fleet['hosts_read']), ', '.join((fleet['comparison'] or {}).get('hosts_compared') or ['none'])))
    out.extend(_section('Fleet', fleet['comparison'], fleet['models'], fleet['totals'], 'worst_host_p50_ms',
                        'worst_host_p95_ms', note))
    for name in report['hosts']:
        entry = report['hosts'][name]
        if entry['failed']:
            out.append('<h2>%s</h2><p class="up">%s</p>' % (_e(name), _e(entry['failed'])))
            continue
        comparison = entry['comparison']
        out.extend(_section(name, comparison, entry['models'], entry['totals'], 'p50_ms', 'p95_ms',
                            _window_note(comparison) if comparison else None))
    out.append('</body></html>')
    return '\n'.join(out) + '\n'
