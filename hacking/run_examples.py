"""Run the EXAMPLES of the modules against the demo orchestrator, where they are safe to run.

Usage: run_examples.py INVENTORY
Each selected example runs unchanged as a task of one playbook; examples that would change the demo host
run in check mode. Fails when any of them fails, so the documentation cannot drift away from the code.
"""

import ast
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# module -> (example names to run, whether they run in check mode). The rest need hosts, users or AWS that
# the demo does not have (another user, a real region, a limit above the container's hard limit).
SELECTED = {
    'agent_host_info': (['Read the orchestrator\'s state', 'Show the model the agent really uses',
                         'Show the installed Claude Code CLI'], False),
    'agent_task': (['Only report what happened to a task', 'Show the cost of the task'], False),
    'agent_service_restart_verify': (['Only report'], False),
    'config_snapshot': (['Keep the configuration before the rollout', 'Put the previous configuration back'], False),
    'claude_settings': (['Set the model and fail if another settings file would override it'], True),
}


def examples(module):
    with open(os.path.join(ROOT, 'plugins', 'modules', module + '.py')) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == 'EXAMPLES':
            return yaml.safe_load(node.value.value)
    sys.exit('%s has no EXAMPLES' % module)


def main():
    tasks = []
    for module, (names, check_mode) in sorted(SELECTED.items()):
        found = dict((task['name'], task) for task in examples(module))
        for name in names:
            if name not in found:
                sys.exit('%s: no example named %r' % (module, name))
            task = dict(found[name], check_mode=check_mode) if check_mode else dict(found[name])
            tasks.append(task)
    playbook = [{'name': 'Run the modules\' EXAMPLES', 'hosts': 'jada_orchestrators', 'gather_facts': False,
                 'become': True, 'tasks': tasks}]
    path = os.path.join(ROOT, '.work', 'examples.yml')
    with open(path, 'w') as handle:
        yaml.safe_dump(playbook, handle, sort_keys=False)
    result = subprocess.run(['ansible-playbook', '-i', sys.argv[1], path], cwd=ROOT, check=False)
    print('%d examples of %d modules ran %s' % (len(tasks), len(SELECTED), 'fine' if result.returncode == 0 else 'with FAILURES'))
    return result.returncode


if __name__ == '__main__':
    sys.exit(main())
