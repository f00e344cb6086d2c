# -*- coding: utf-8 -*-

# Copyright (c) 2026, jada.agent maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Claude Code session transcripts written by the real CLI, for testing usage accounting against ccusage.

The pinned CLI (unpacked once from the package hacking/setup.sh fetched) runs ``-p`` tasks against the Messages API
stand-in (tests/messages_api), which scripts every answer's usage. The result, under ``CONFIG_DIR/projects/``:

* two projects (two working directories), six sessions in eight runs of the CLI, two models
  (``claude-sonnet-4-6``, ``claude-haiku-4-5``) with distinct usage per model and per run, cache writes and cache
  reads, one answer with 1-hour cache writes;
* a Bash tool round trip (one answer written over two lines, then the tool result, then the final answer);
* a first request answered 529, which the CLI retries;
* a session resumed with ``--resume`` (on another model) and one continued with ``--continue``, both appending to
  the existing transcript;
* a subagent (the Agent tool, on the haiku model) whose sidechain transcript lands under ``<session>/subagents/``;
* a session on a model the API refuses (404): no usage, only the CLI's synthetic error answer.

Every prompt and answer holds a marker (``PROMPT-SECRET-<n>``, ``ANSWER-SECRET-<n>``, ``TOOL-SECRET-<n>``), so a test
can assert that no conversation text leaks. The expected token sums come from the answers the stand-in actually
gave (its request log), not from the scenario alone: a retried or repeated request is counted as answered.

    python tests/usage/make_transcripts.py CONFIG_DIR [--cli PATH] [--check]

prints the summary as JSON; ``--check`` also runs ccusage (``$JADA_CCUSAGE``, see hacking/setup.sh) on the result
and exits 1 unless its per-model and per-session token sums are the expected ones. Takes about ten seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

try:
    from ansible_collections.jada.agent.tests.messages_api.server import MessagesAPI
except ImportError:  # run as a script, without PYTHONPATH=collections
    sys.path.insert(0, os.path.join(ROOT, 'collections'))
    from ansible_collections.jada.agent.tests.messages_api.server import MessagesAPI

SONNET = 'claude-sonnet-4-6'
HAIKU = 'claude-haiku-4-5'
TOKEN_FIELDS = ('input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens')
SPLIT_FIELDS = ('ephemeral_5m_input_tokens', 'ephemeral_1h_input_tokens')
RUN_TIMEOUT = 90
PLACEHOLDER_KEY = 'sk-ant-api03-placeholder-not-a-key'


class TranscriptError(Exception):
    """The CLI could not produce the transcripts (missing package, failed or unexpected run)."""


def pinned_cli(version=None):
    """The path of the Claude Code CLI the orchestrator role pins, unpacked once from hacking/setup.sh's cache."""
    with open(os.path.join(ROOT, 'roles', 'orchestrator', 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle)
    version = version or str(defaults['jada_agent_cli_version'])
    platform = defaults['jada_agent_cli_platform']
    cache = os.path.join(os.environ.get('JADA_WORK') or os.path.join(ROOT, '.work'), 'cache')
    # Beside the package cache, not in it: the orchestrator role reads that folder as npm pack filled it.
    target = os.path.join(cache, 'claude-code-unpacked', '%s-%s' % (platform, version), 'claude')
    if os.path.exists(target):
        return target
    tarball = os.path.join(cache, 'claude-code', 'anthropic-ai-claude-code-%s-%s.tgz' % (platform, version))
    if not os.path.exists(tarball):
        raise TranscriptError('%s is missing: run hacking/setup.sh' % tarball)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    # Into a temporary name first: a test interrupted while copying the 370 MB must not leave half a binary.
    partial = target + '.partial-%d' % os.getpid()
    with tarfile.open(tarball) as archive, open(partial, 'wb') as out:
        shutil.copyfileobj(archive.extractfile('package/claude'), out, 1 << 20)
    os.chmod(partial, 0o755)
    os.replace(partial, target)
    return target


def usage(model, run):
    """The usage every answer of model gets in the run numbered run: distinct per model and per run."""
    if model == SONNET:
        return {'input_tokens': 1000 + run, 'output_tokens': 200 + run,
                'cache_creation_input_tokens': 3000 + 10 * run, 'cache_read_input_tokens': 20000 + 100 * run}
    return {'input_tokens': 50 + run, 'output_tokens': 30 + run,
            'cache_creation_input_tokens': 400 + 10 * run, 'cache_read_input_tokens': 5000 + 100 * run}


def planned_runs():
    """The CLI runs, in order: each a project, a model, how its session is chosen and the stand-in's scenario."""
    subagent_usage = usage(HAIKU, 5)
    # The API reports 1-hour cache writes apart; ccusage prices them differently.
    subagent_usage['cache_creation'] = {
        'ephemeral_5m_input_tokens': subagent_usage['cache_creation_input_tokens'] - 100,
        'ephemeral_1h_input_tokens': 100,
    }
    return [
        {'name': 'plain', 'project': 'a', 'model': SONNET, 'session': 'new', 'prompt': 1, 'answer': 1,
         'scenario': {'models': {SONNET: {'text': 'ANSWER-SECRET-1', 'usage': usage(SONNET, 1)}}}},
        {'name': 'tool', 'project': 'a', 'model': SONNET, 'session': 'new', 'prompt': 2, 'answer': 3,
         'scenario': {'models': {SONNET: {
             'text': 'ANSWER-SECRET-3', 'usage': usage(SONNET, 2),
             'tool_use': {'name': 'Bash', 'text': 'ANSWER-SECRET-2',
                          'input': {'command': 'echo TOOL-SECRET-2', 'description': 'Print a marker'}}}}}},
        {'name': 'retry', 'project': 'a', 'model': HAIKU, 'session': 'new', 'prompt': 4, 'answer': 4,
         'scenario': {'models': {HAIKU: {'text': 'ANSWER-SECRET-4', 'usage': usage(HAIKU, 3),
                                         'fail_first': {'error': 'overloaded_error', 'count': 1}}}}},
        # The plain session again, now on the other model: one session, two models.
        {'name': 'resume', 'project': 'a', 'model': HAIKU, 'session': 'plain', 'prompt': 5, 'answer': 5,
         'scenario': {'models': {HAIKU: {'text': 'ANSWER-SECRET-5', 'usage': usage(HAIKU, 4)}}}},
        {'name': 'subagent', 'project': 'b', 'model': SONNET, 'session': 'new', 'prompt': 6, 'answer': 8,
         'scenario': {'models': {
             SONNET: {'text': 'ANSWER-SECRET-8', 'usage': usage(SONNET, 5),
                      'tool_use': {'name': 'Agent', 'text': 'ANSWER-SECRET-6',
                                   'input': {'description': 'Find a marker', 'prompt': 'PROMPT-SECRET-7',
                                             'subagent_type': 'general-purpose', 'model': 'haiku',
                                             'run_in_background': False}}},
             # No tool_use here: the subagent answers at once instead of spawning subagents of its own.
             HAIKU: {'text': 'ANSWER-SECRET-7', 'usage': subagent_usage}}}},
        {'name': 'haiku', 'project': 'b', 'model': HAIKU, 'session': 'new', 'prompt': 9, 'answer': 9,
         'scenario': {'models': {HAIKU: {'text': 'ANSWER-SECRET-9', 'usage': usage(HAIKU, 6)}}}},
        {'name': 'continue', 'project': 'b', 'model': SONNET, 'session': 'continue', 'prompt': 10, 'answer': 10,
         'scenario': {'models': {SONNET: {'text': 'ANSWER-SECRET-10', 'usage': usage(SONNET, 7)}}}},
        # A model the API does not serve: the CLI gives up and records a synthetic answer (isApiErrorMessage).
        {'name': 'refused', 'project': 'b', 'model': HAIKU, 'session': 'new', 'prompt': 11, 'answer': None,
         'fails': 404, 'scenario': {'models': {HAIKU: {'error': 'not_found_error'}}}},
    ]


def cli_environment(config_dir, home, api_url):
    # Nothing of the caller's environment: an ANTHROPIC_MODEL or a real key there would change what is written.
    env = {
        'PATH': '/usr/local/bin:/usr/bin:/bin',
        'HOME': home,
        'LANG': 'C.UTF-8',
        'CLAUDE_CONFIG_DIR': config_dir,
        'ANTHROPIC_BASE_URL': api_url,
        'ANTHROPIC_API_KEY': PLACEHOLDER_KEY,
        'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC': '1',
        # The Agent tool's "haiku" means claude-haiku-5-5 in this CLI; the subagent is to run on our haiku.
        'ANTHROPIC_DEFAULT_HAIKU_MODEL': HAIKU,
    }
    if os.geteuid() == 0:
        # As root the CLI refuses --dangerously-skip-permissions unless told it runs in a sandbox (a test does).
        env['IS_SANDBOX'] = '1'
    return env


def run_cli(argv, cwd, env):
    """Run the CLI to its end and return its exit status and JSON result.

    In a process group of its own, so that a hung run is killed with whatever it started.
    """
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise TranscriptError('%s timed out after %d s' % (' '.join(argv[:4]), RUN_TIMEOUT))
    try:
        return process.returncode, json.loads(out.decode('utf-8').strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise TranscriptError('%s failed (rc %d) without a JSON result: %s' % (
            ' '.join(argv[:4]), process.returncode, (err or out).decode('utf-8', 'replace')[-800:]))


def session_argv(run, sessions):
    if run['session'] == 'new':
        return []
    if run['session'] == 'continue':
        return ['--continue']
    return ['--resume', sessions[run['session']]]


def sums(entries):
    """Per-model token sums of the stand-in's answered requests (log entries), with the cache-write split."""
    totals = {}
    for entry in entries:
        if entry['status'] != 200:
            continue
        model = totals.setdefault(entry['model'], dict.fromkeys(TOKEN_FIELDS + SPLIT_FIELDS + ('answers',), 0))
        model['answers'] += 1
        for field in TOKEN_FIELDS:
            model[field] += entry['usage'][field]
        for field in SPLIT_FIELDS:
            model[field] += (entry['usage'].get('cache_creation') or {}).get(field, 0)
    return totals


def add_sums(total, more):
    for model, counts in more.items():
        into = total.setdefault(model, dict.fromkeys(counts, 0))
        for field, value in counts.items():
            into[field] += value


def make_transcripts(config_dir, cli=None, api=None, names=None):
    """Write the transcripts into config_dir with the real CLI and return what was generated and expected.

    cli: the CLI's path (default the pinned one). api: a running MessagesAPI to use (its log then also holds
    these requests), or None to start one for the duration. names: only these runs of planned_runs() (another
    model mix), none of which may resume or continue a session left out.
    """
    cli = cli or pinned_cli()
    # The CLI runs in the projects' folders: a relative path would land there.
    config_dir = os.path.abspath(config_dir)
    os.makedirs(config_dir, exist_ok=True)
    if api is None:
        with MessagesAPI() as own:
            return make_transcripts(config_dir, cli, own, names)
    scratch = tempfile.mkdtemp(prefix='jada-transcripts-')
    try:
        projects = {}
        for name in ('a', 'b'):
            projects[name] = os.path.join(scratch, 'project-' + name)
            os.mkdir(projects[name])
        home = os.path.join(scratch, 'home')
        os.mkdir(home)
        return generate(config_dir, cli, api, projects, cli_environment(config_dir, home, api.url), names)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def generate(config_dir, cli, api, projects, env, names=None):
    sessions, runs = {}, []
    for run in planned_runs():
        if names is not None and run['name'] not in names:
            continue
        api.set_scenario(run['scenario'])
        first = len(api.requests())
        argv = [cli, '-p', 'PROMPT-SECRET-%d' % run['prompt'], '--model', run['model'], '--output-format', 'json',
                '--dangerously-skip-permissions'] + session_argv(run, sessions)
        status, result = run_cli(argv, projects[run['project']], env)
        log = api.requests()[first:]
        check_result(run, status, result, sessions, runs)
        sessions[run['name']] = result['session_id']
        runs.append({
            'name': run['name'], 'project': run['project'], 'model': run['model'],
            'session_id': result['session_id'], 'resumed': run['session'] != 'new',
            'prompt': 'PROMPT-SECRET-%d' % run['prompt'], 'exit_status': status,
            'requests': len(log), 'failed_requests': [entry['status'] for entry in log if entry['status'] != 200],
            'tool_uses': [entry['tool_use'] for entry in log if entry['tool_use']],
            'answered': sums(log),
            'days': sorted(set(entry['time'][:10] for entry in log if entry['status'] == 200)),
        })
    return summary(config_dir, cli, projects, runs)


def summary(config_dir, cli, projects, runs):
    """What was generated: runs, sessions (with their transcript files) and the expected per-model sums."""
    models, by_session = {}, {}
    for run in runs:
        add_sums(models, run['answered'])
        session = by_session.setdefault(run['session_id'], {'project': run['project'], 'runs': [], 'models': {}})
        session['runs'].append(run['name'])
        add_sums(session['models'], run['answered'])
    folders = {}
    for session_id, session in by_session.items():
        session.update(transcript_files(config_dir, session_id))
        folders[session['project']] = os.path.dirname(session['transcript'])
    return {
        'config_dir': config_dir,
        'cli': cli,
        # The working directories are gone once the CLI is done; their names live on in the folders' names.
        'projects': dict((name, {'cwd': cwd, 'folder': folders.get(name)}) for name, cwd in projects.items()),
        'runs': runs,
        'sessions': by_session,
        'models': models,
        'days': sorted(set(day for run in runs for day in run['days'])),
        'failed_requests': sum(len(run['failed_requests']) for run in runs),
        'markers': markers(),
    }


def transcript_files(config_dir, session_id):
    """A session's transcript and its subagents' transcripts, relative to config_dir."""
    found = {'transcript': None, 'subagents': []}
    root = os.path.join(config_dir, 'projects')
    for folder, dummy, files in os.walk(root):
        for name in files:
            path = os.path.relpath(os.path.join(folder, name), config_dir)
            if name == session_id + '.jsonl':
                found['transcript'] = path
            elif name.endswith('.jsonl') and os.sep + session_id + os.sep in os.sep + path:
                found['subagents'].append(path)
    found['subagents'].sort()
    return found


def check_result(run, status, result, sessions, runs):
    """The run answered with its marker (or failed as scripted), in the session it was meant for."""
    if run.get('fails'):
        if status == 0 or result.get('api_error_status') != run['fails']:
            raise TranscriptError('run %s was to fail with %s: rc %d, API status %r' % (
                run['name'], run['fails'], status, result.get('api_error_status')))
    elif status != 0 or result.get('is_error') or 'ANSWER-SECRET-%d' % run['answer'] not in str(result.get('result')):
        raise TranscriptError('run %s (rc %d) answered %r' % (run['name'], status, result.get('result')))
    session_id = result.get('session_id')
    if run['session'] == 'new':
        if session_id in sessions.values():
            raise TranscriptError('run %s went to the earlier session %s' % (run['name'], session_id))
    elif session_id != expected_session(run, sessions, runs):
        raise TranscriptError('run %s went to session %s, not %s' % (
            run['name'], session_id, expected_session(run, sessions, runs)))


def expected_session(run, sessions, runs):
    if run['session'] == 'continue':
        # --continue takes the latest session of the working directory.
        return [done['session_id'] for done in runs if done['project'] == run['project']][-1]
    return sessions[run['session']]


def markers():
    """Every marker text of the conversations: none of them may appear in a usage report."""
    texts = set()
    for run in planned_runs():
        texts.add('PROMPT-SECRET-%d' % run['prompt'])
        texts.update(text for text in json.dumps(run['scenario']).replace('"', ' ').split() if '-SECRET-' in text)
    return sorted(texts)


def ccusage_report(config_dir, report='daily', ccusage=None):
    """Per-model token sums of a ccusage JSON report (``daily``: over all days; ``session``: by session id)."""
    ccusage = ccusage or os.environ.get('JADA_CCUSAGE')
    if not ccusage or not os.path.exists(ccusage):
        raise TranscriptError('ccusage not found (JADA_CCUSAGE=%r): run hacking/setup.sh' % ccusage)
    argv = [ccusage, report, '--json', '--offline', '--timezone', 'UTC']
    if report == 'daily':
        argv.append('--breakdown')
    with tempfile.TemporaryDirectory(prefix='jada-ccusage-') as home:
        # Its own HOME and working directory: ccusage reads other agents' logs and its config file from there.
        done = subprocess.run(argv, cwd=home, capture_output=True, timeout=60, check=False,
                              env={'PATH': '/usr/bin:/bin', 'HOME': home, 'CLAUDE_CONFIG_DIR': config_dir})
    if done.returncode != 0:
        raise TranscriptError('ccusage %s failed: %s' % (report, done.stderr.decode('utf-8', 'replace')[-800:]))
    rows = json.loads(done.stdout)[report]
    result = {}
    for row in rows:
        into = result if report == 'daily' else result.setdefault(row['period'], {})
        add_sums(into, dict((breakdown['modelName'], {
            'input_tokens': breakdown['inputTokens'], 'output_tokens': breakdown['outputTokens'],
            'cache_creation_input_tokens': breakdown['cacheCreationTokens'],
            'cache_read_input_tokens': breakdown['cacheReadTokens']}) for breakdown in row['modelBreakdowns']))
    return result


def token_counts(per_model):
    """Only the four counts ccusage reports, per model."""
    return dict((model, dict((field, counts[field]) for field in TOKEN_FIELDS)) for model, counts in per_model.items())


def check_with_ccusage(summary, ccusage=None):
    """Differences between ccusage's reports and the stand-in's answers: an empty list when they agree."""
    problems = []
    daily = ccusage_report(summary['config_dir'], 'daily', ccusage)
    if daily != token_counts(summary['models']):
        problems.append('daily: ccusage %s, stand-in %s' % (daily, token_counts(summary['models'])))
    by_session = ccusage_report(summary['config_dir'], 'session', ccusage)
    # A session with no answer (only the CLI's synthetic error message) is no session to ccusage.
    expected = dict((session_id, token_counts(session['models']))
                    for session_id, session in summary['sessions'].items() if session['models'])
    if by_session != expected:
        problems.append('session: ccusage %s, stand-in %s' % (by_session, expected))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('config_dir', help='CLAUDE_CONFIG_DIR to write the transcripts into')
    parser.add_argument('--cli', help='the Claude Code CLI (default: the pinned one from hacking/setup.sh)')
    parser.add_argument('--check', action='store_true', help='compare with ccusage ($JADA_CCUSAGE)')
    args = parser.parse_args(argv)
    try:
        summary = make_transcripts(os.path.abspath(args.config_dir), args.cli)
        problems = check_with_ccusage(summary) if args.check else []
    except TranscriptError as exc:
        sys.stderr.write('%s\n' % exc)
        return 2
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')
    for problem in problems:
        sys.stderr.write('ccusage differs: %s\n' % problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
