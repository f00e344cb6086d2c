# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Conformance of the model resolution engine with the real Claude Code CLI, scenario by scenario.

In one provisioned systemd container (hacking/conformance.sh creates it): for each entry of scenarios.yml, write its
files and unit drop-in, restart jada-agent, send one task, read the model of the request the CLI sent from the
Messages API stand-in's log, run jada.agent.agent_host_info, and compare. The expected model is never written down:
the CLI is asked on every run. A CLI that exits at start (no request) passes only when the engine says it will not
start (no model, a fatal reason).

    python tests/conformance/run.py [--container NAME] [--inventory FILE] [--only NAME ...]

Exit status 0 when every scenario passed, 1 otherwise, 2 when the suite could not run.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SERVICE = 'jada-agent'
USER = 'jada'
USER_DIR = '/home/jada/.claude'
PROJECT_DIR = '/srv/jada/orchestrator/.claude'
MANAGED_DIR = '/etc/claude-code'
DROPIN = '/etc/systemd/system/jada-agent.service.d/90-conformance.conf'
ENV_FILE = '/etc/jada/conformance.env'
REQUEST_LOG = '/var/lib/jada-messages-api/requests.jsonl'
BASELINE_DIR = '/root/conformance-baseline'
UNIT_FILE = '/etc/systemd/system/jada-agent.service'

SHORTHANDS = {
    'user': USER_DIR + '/settings.json',
    'project': PROJECT_DIR + '/settings.json',
    'local': PROJECT_DIR + '/settings.local.json',
    'managed': MANAGED_DIR + '/managed-settings.json',
}
# Directories of the provisioned host a scenario may put a file into, which stay.
KEEP_DIRS = ('/etc', '/etc/jada', '/srv/jada', '/srv/jada/orchestrator', '/home/jada', USER_DIR, PROJECT_DIR)
# Always removed before a scenario, whether it names them or not.
ALWAYS_CLEAN = [SHORTHANDS['user'], SHORTHANDS['project'], SHORTHANDS['local'], MANAGED_DIR, DROPIN, ENV_FILE]

TASK_TIMEOUT = 45
START_SETTLE = 3.0
COMMAND_TIMEOUT = 120


class SuiteError(Exception):
    """The suite cannot go on (container gone, ansible broken): not a scenario's failure."""


def run(argv, timeout=COMMAND_TIMEOUT, stdin=None, check=True, env=None):
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise SuiteError('%s timed out after %ss' % (' '.join(argv[:6]), timeout))
    if check and done.returncode != 0:
        raise SuiteError('%s failed (rc %s): %s' % (' '.join(argv[:6]), done.returncode,
                                                    (done.stderr or done.stdout).decode('utf-8', 'replace')[-800:]))
    return done


class Container(object):
    def __init__(self, name):
        self.name = name

    def sh(self, script, stdin=None, timeout=COMMAND_TIMEOUT, check=True):
        done = run(['podman', 'exec', '-i', self.name, 'sh', '-c', script], timeout=timeout, stdin=stdin, check=check)
        return done.stdout.decode('utf-8', 'replace')

    def write(self, path, data, owner):
        self.sh('mkdir -p %s && cat > %s && chown %s %s && chmod 0644 %s' % (
            shlex.quote(os.path.dirname(path)), shlex.quote(path), owner, shlex.quote(path), shlex.quote(path)),
            stdin=data)
        if owner != 'root':
            self.sh('chown %s %s' % (owner, shlex.quote(os.path.dirname(path))))

    def request_count(self):
        return int(self.sh('cat %s 2>/dev/null | wc -l' % REQUEST_LOG).strip() or 0)

    def requests_after(self, count):
        lines = self.sh('tail -n +%d %s 2>/dev/null' % (count + 1, REQUEST_LOG)).splitlines()
        return [json.loads(line).get('model') for line in lines if line.strip()]


def content_bytes(content):
    if isinstance(content, str):
        return content.encode('utf-8')
    return (json.dumps(content, indent=2, ensure_ascii=False) + '\n').encode('utf-8')


def file_path(where):
    if where in SHORTHANDS:
        return SHORTHANDS[where]
    if where.startswith('managed.d/'):
        return MANAGED_DIR + '/managed-settings.d/' + where[len('managed.d/'):]
    if where.startswith('/'):
        return where
    raise ValueError('unknown file location %r' % where)


def systemd_quote(word):
    """One ExecStart=/Environment= word, quoted for systemd when it needs it."""
    if word and all(char not in word for char in ' \t"\'\\$%;'):
        return word
    return '"%s"' % word.replace('\\', '\\\\').replace('"', '\\"').replace('$', '$$').replace('%', '%%')


def dropin_text(scenario, exec_start):
    lines = ['[Service]']
    for name, value in sorted((scenario.get('environment') or {}).items()):
        lines.append('Environment=%s' % systemd_quote('%s=%s' % (name, value)))
    if scenario.get('environment_file'):
        lines.append('EnvironmentFile=%s' % ENV_FILE)
    if scenario.get('args'):
        words = [json.dumps(arg, separators=(',', ':')) if isinstance(arg, (dict, list)) else str(arg)
                 for arg in scenario['args']]
        lines.append('ExecStart=')
        lines.append('ExecStart=%s %s' % (exec_start, ' '.join(systemd_quote(word) for word in words)))
    return '\n'.join(lines) + '\n' if len(lines) > 1 else None


def validate(scenarios):
    names = set()
    for index, scenario in enumerate(scenarios):
        if not isinstance(scenario, dict) or not scenario.get('name'):
            raise SuiteError('scenario #%d has no name' % (index + 1))
        if scenario['name'] in names:
            raise SuiteError('scenario %s is listed twice' % scenario['name'])
        names.add(scenario['name'])
        unknown = set(scenario) - set(['name', 'rule', 'files', 'environment', 'environment_file', 'args'])
        if unknown:
            raise SuiteError('scenario %s: unknown keys %s' % (scenario['name'], ', '.join(sorted(unknown))))
        for where in scenario.get('files') or {}:
            file_path(where)


class Suite(object):
    def __init__(self, container, inventory):
        self.container = container
        self.inventory = inventory
        self.extra_paths = []
        self.exec_start = None
        self.env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                        ANSIBLE_CALLBACK_RESULT_FORMAT='json', ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))

    def prepare(self):
        state = self.container.sh('systemctl is-active %s jada-messages-api || true' % SERVICE).split()
        if state[-1:] != ['active']:
            raise SuiteError('jada-messages-api is not active in %s: was the container provisioned?' % self.container.name)
        for line in self.container.sh('cat %s' % UNIT_FILE).splitlines():
            if line.startswith('ExecStart='):
                self.exec_start = line[len('ExecStart='):].strip()
        if not self.exec_start:
            raise SuiteError('no ExecStart= in %s' % UNIT_FILE)
        # The provisioned settings files come back after the run.
        self.container.sh('mkdir -p {b} && for f in {u} {p}; do [ -e "$f" ] && cp -p "$f" {b}/$(echo "$f" | tr / _); done; true'
                          .format(b=BASELINE_DIR, u=SHORTHANDS['user'], p=SHORTHANDS['project']))

    def clean(self):
        paths = ALWAYS_CLEAN + self.extra_paths
        self.container.sh('rm -rf %s' % ' '.join(shlex.quote(path) for path in paths))
        self.extra_paths = []

    def restore(self):
        self.clean()
        self.container.sh('for f in {u} {p}; do b={b}/$(echo "$f" | tr / _); [ -e "$b" ] && cp -p "$b" "$f"; done; '
                          'systemctl daemon-reload; systemctl reset-failed {s}; systemctl restart {s}; true'
                          .format(b=BASELINE_DIR, u=SHORTHANDS['user'], p=SHORTHANDS['project'], s=SERVICE))

    def apply(self, scenario):
        for where, content in (scenario.get('files') or {}).items():
            path = file_path(where)
            owner = 'root:root' if path.startswith('/etc/') else '%s:%s' % (USER, USER)
            if path not in ALWAYS_CLEAN and not path.startswith(MANAGED_DIR + '/'):
                # A directory of the scenario's own (a CLAUDE_CONFIG_DIR the CLI writes into) goes as a whole.
                parent = os.path.dirname(path)
                self.extra_paths.append(path if parent in KEEP_DIRS else parent)
            self.container.write(path, content_bytes(content), owner)
        if scenario.get('environment_file'):
            text = ''.join('%s=%s\n' % item for item in sorted(scenario['environment_file'].items()))
            self.container.write(ENV_FILE, text.encode('utf-8'), 'root:root')
        dropin = dropin_text(scenario, self.exec_start)
        if dropin:
            self.container.write(DROPIN, dropin.encode('utf-8'), 'root:root')

    def restart(self):
        """Restart the agent; returns None when it runs, else why it did not stay up."""
        self.container.sh('systemctl daemon-reload && systemctl reset-failed %s; systemctl restart %s' % (SERVICE, SERVICE),
                          check=False)
        time.sleep(START_SETTLE)
        show = self.container.sh('systemctl show %s -p ActiveState,SubState,NRestarts,ExecMainStatus' % SERVICE)
        props = dict(line.split('=', 1) for line in show.splitlines() if '=' in line)
        if props.get('ActiveState') == 'active' and props.get('NRestarts') == '0':
            return None
        return 'not running after restart (%s)' % ', '.join('%s=%s' % item for item in sorted(props.items()))

    def ansible_module(self, module, args, timeout):
        argv = ['ansible', '-i', self.inventory, self.container.name, '-m', module, '-a', json.dumps(args)]
        done = run(argv, timeout=timeout, check=False, env=self.env)
        try:
            report = json.loads(done.stdout.decode('utf-8', 'replace'))
            return report['plays'][0]['tasks'][0]['hosts'][self.container.name]
        except (ValueError, KeyError, IndexError):
            output = (done.stderr or done.stdout).decode('utf-8', 'replace')[-800:]
            raise SuiteError('ansible -m %s gave no result (rc %s): %s' % (module, done.returncode, output))

    def scenario(self, scenario):
        started = time.time()
        self.clean()
        self.apply(scenario)
        count = self.container.request_count()
        down = self.restart()
        task = None
        # The engine's read and the task only look at the restarted agent, so they overlap: two ansible runs in the
        # time of one, for each of the scenarios.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            reading = pool.submit(self.ansible_module, 'jada.agent.agent_host_info', {'service': SERVICE}, 120)
            if down is None:
                task = self.ansible_module('jada.agent.agent_task', {'timeout': TASK_TIMEOUT, 'fail_on_error': False},
                                           TASK_TIMEOUT + 60)
            info = reading.result()
        requested = self.container.requests_after(count)
        if info.get('failed'):
            raise SuiteError('agent_host_info failed: %s' % info.get('msg'))
        effective = info['effective_model']
        row = {'name': scenario['name'], 'requested': None, 'engine': effective.get('model'),
               'source': effective.get('source'), 'seconds': 0.0, 'passed': False, 'why': ''}
        if len(set(requested)) > 1:
            row['why'] = 'the CLI requested several models: %s' % ', '.join(requested)
        elif requested:
            row['requested'] = requested[0]
            row['passed'] = effective.get('model') == requested[0]
            if not row['passed']:
                row['why'] = 'engine says %s (%s), the CLI requested %s; warnings: %s; skipped: %s' % (
                    effective.get('model'), effective.get('source'), requested[0],
                    '; '.join(item['msg'] for item in effective.get('warnings') or []) or 'none',
                    '; '.join('%s: %s' % (item['path'], item['reason']) for item in effective.get('skipped') or []) or 'none')
        else:
            why = down or 'no request logged (task: %s)' % ', '.join((task or {}).get('problems') or []) or 'no request'
            row['passed'] = effective.get('model') is None and bool(effective.get('fatal'))
            row['why'] = '' if row['passed'] else 'the CLI sent no request (%s) but the engine says %s (fatal: %s)' % (
                why, effective.get('model'), effective.get('fatal'))
            row['requested'] = '(none: CLI exited)' if down else '(none)'
        row['seconds'] = time.time() - started
        return row


def print_table(rows, total):
    headers = ('scenario', 'CLI requested', 'engine said', 'source', 'result', 's')
    table = [(row['name'], row['requested'] or '-', row['engine'] or '-', row['source'] or '-',
              'PASS' if row['passed'] else 'FAIL', '%.1f' % row['seconds']) for row in rows]
    widths = [min(max(len(str(line[index])) for line in [headers] + table), 60) for index in range(len(headers))]
    line = '  '.join('%-*s' % (width, header) for width, header in zip(widths, headers))
    print(line)
    print('-' * len(line))
    for entry in table:
        print('  '.join('%-*s' % (width, str(cell)[:60]) for width, cell in zip(widths, entry)))
    failed = [row for row in rows if not row['passed']]
    print('\n%d scenarios, %d passed, %d failed, total %.1f s' % (len(rows), len(rows) - len(failed), len(failed), total))
    for row in failed:
        print('FAIL %s: %s' % (row['name'], row['why']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--container', default=os.environ.get('JADA_CONFORMANCE_CONTAINER', 'jada-conformance'))
    parser.add_argument('--inventory', default=os.path.join(HERE, 'inventory.yml'))
    parser.add_argument('--scenarios', default=os.path.join(HERE, 'scenarios.yml'))
    parser.add_argument('--only', action='append', help='run only this scenario (repeatable)')
    parser.add_argument('--json', help='also write the rows as JSON here')
    args = parser.parse_args(argv)

    started = time.time()
    rows = []
    try:
        with open(args.scenarios) as handle:
            scenarios = yaml.safe_load(handle)
        validate(scenarios)
        if args.only:
            scenarios = [scenario for scenario in scenarios if scenario['name'] in args.only]
            if not scenarios:
                raise SuiteError('no scenario named %s' % ', '.join(args.only))
        suite = Suite(Container(args.container), args.inventory)
        suite.prepare()
        try:
            for scenario in scenarios:
                try:
                    rows.append(suite.scenario(scenario))
                except SuiteError as exc:
                    rows.append({'name': scenario['name'], 'requested': None, 'engine': None, 'source': None,
                                 'seconds': 0.0, 'passed': False, 'why': str(exc)})
                status = 'PASS' if rows[-1]['passed'] else 'FAIL'
                sys.stderr.write('%s %s (%.1f s)\n' % (status, scenario['name'], rows[-1]['seconds']))
        finally:
            suite.restore()
    except (SuiteError, OSError, yaml.YAMLError) as exc:
        print_table(rows, time.time() - started)
        sys.stderr.write('conformance suite could not run: %s\n' % exc)
        return 2
    total = time.time() - started
    print_table(rows, total)
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump({'rows': rows, 'seconds': total}, handle, indent=2)
    return 0 if rows and all(row['passed'] for row in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
