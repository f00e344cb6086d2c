"""The default scenario's side effects: one task through the upgraded agent's inbox, as a user would send it, and a
settings file rewritten after the agent started, as a run killed between its writes and its restart leaves it."""

import json
import os
import shutil
import sys
import tempfile
import uuid

import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-default'


def a_task_for_the_running_agent():
    return {'answer': jada_molecule.ask_agent(HOST, 'timeout=60')}


REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'


def changed_tasks(run):
    return [result['task'] for result in jada_molecule.task_results(run['report'], HOST) if result.get('changed')]


def a_rewrite_the_agent_has_not_read():
    """The same bytes, written the way a rollout writes (a new file moved into place), after the agent started."""
    host = testinfra.get_host('podman://' + HOST)
    before, starts = jada_molecule.state(host), [jada_molecule.service_starts(host)]
    host.check_output('cp -p {0} {0}.new && mv {0}.new {0}'.format(REPOSITORY_SETTINGS))
    first = jada_molecule.play('upgrade-model.yml')
    after_first = jada_molecule.state(host)
    starts.append(jada_molecule.service_starts(host))
    second = jada_molecule.play('upgrade-model.yml')
    starts.append(jada_molecule.service_starts(host))
    return {'before': before, 'after_first': after_first, 'after_second': jada_molecule.state(host), 'starts': starts,
            'first': {'rc': first['rc'], 'changed': changed_tasks(first),
                      'read': jada_molecule.task_results(first['report'], HOST, action='jada.agent.agent_host_info')[0]},
            'second': {'rc': second['rc'], 'changed': changed_tasks(second)}}


USAGE_STATE = '/var/lib/jada-agent/usage-state.json'
HISTORY = '/var/lib/jada-agent/rollouts.jsonl'
TRANSCRIPTS = '/home/jada/.claude/projects'
# The usage of the one answer this exercise scripts: four different counts, so that a count read into the wrong
# field shows.
SCRIPTED_USAGE = {'input_tokens': 321, 'output_tokens': 45, 'cache_creation_input_tokens': 678,
                  'cache_read_input_tokens': 910}


def transcript_bytes(host):
    sizes = host.check_output("find %s -name '*.jsonl' -printf '%%s\\n' 2>/dev/null || true" % TRANSCRIPTS)
    return sum(int(size) for size in sizes.split())


def transcript_texts(host):
    """Every prompt and answer text the CLI wrote into its transcripts on the host."""
    texts = []
    for path in host.check_output("find %s -name '*.jsonl'" % TRANSCRIPTS).split():
        for line in host.file(path).content_string.splitlines():
            data = json.loads(line)
            content = (data.get('message') or {}).get('content') if isinstance(data.get('message'), dict) else None
            if data.get('type') == 'user' and isinstance(content, str):
                texts.append(content)
            elif data.get('type') == 'assistant' and isinstance(content, list):
                texts.extend(block['text'] for block in content if block.get('type') == 'text')
    return sorted(set(texts))


def usage_run(host, directory, *args):
    """playbooks/usage_report.yml against the host, its report written to ``directory`` on the controller."""
    state_before = host.run('sha256sum %s' % USAGE_STATE).stdout or None
    run = jada_molecule.play('playbooks/usage_report.yml', '-e', 'jada_agent_usage_report_dir=' + directory, *args)
    report = jada_molecule.task_results(run['report'], HOST, action='jada.agent.usage_report')
    files = dict((name, open(os.path.join(directory, name)).read()) for name in sorted(os.listdir(directory)))
    return {'rc': run['rc'], 'stderr': run['stderr'],
            'read': jada_molecule.task_results(run['report'], HOST, action='jada.agent.agent_usage_info'),
            'report_task': report[0] if report else None, 'files': files,
            'latest': json.loads(files['latest.json']) if 'latest.json' in files else None,
            'state_before': state_before, 'state_after': host.run('sha256sum %s' % USAGE_STATE).stdout or None,
            'transcript_bytes': transcript_bytes(host)}


def a_usage_report_around_the_rollout():
    """playbooks/usage_report.yml after the rollout from Haiku to Sonnet, on the transcripts the real CLI wrote: the
    provisioning's verification on Haiku before it, the side effect's tasks on Sonnet after it (one of them with
    scripted usage and marked texts). Check mode first, then two real runs, then check mode again; the usage state
    it wrote is removed again, the reports stay on the controller only until recorded."""
    host = testinfra.get_host('podman://' + HOST)
    marker = uuid.uuid4().hex[:12]
    prompt, answer = 'PROMPT-SECRET-' + marker, 'ANSWER-SECRET-' + marker
    directory = tempfile.mkdtemp(prefix='jada-usage-report-')
    try:
        with jada_molecule.restored(host, USAGE_STATE, jada_molecule.API_DIR + '/scenario.json'):
            jada_molecule.script_api(host, {'text': answer, 'usage': SCRIPTED_USAGE})
            asked = jada_molecule.ask_agent(HOST, 'timeout=60', 'prompt=' + prompt)
            jada_molecule.script_api(host, {})
            runs = {}
            for name, args in (('check', ('--check',)), ('first', ()), ('second', ()), ('check_again', ('--check',))):
                os.mkdir(os.path.join(directory, name))
                runs[name] = usage_run(host, os.path.join(directory, name), *args)
            return {'asked': asked, 'prompt': prompt, 'answer': answer, 'scripted_usage': SCRIPTED_USAGE,
                    'runs': runs, 'api_requests': jada_molecule.api_requests(host),
                    'history': host.file(HISTORY).content_string, 'texts': transcript_texts(host)}
    finally:
        shutil.rmtree(directory)


EXERCISES = [a_task_for_the_running_agent, a_usage_report_around_the_rollout, a_rewrite_the_agent_has_not_read]
