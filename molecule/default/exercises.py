"""The default scenario's side effects: one task through the upgraded agent's inbox, as a user would send it, and a
settings file rewritten after the agent started, as a run killed between its writes and its restart leaves it."""

import os
import sys

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


EXERCISES = [a_task_for_the_running_agent, a_rewrite_the_agent_has_not_read]
