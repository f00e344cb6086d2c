"""The default scenario's side effect: one task through the upgraded agent's inbox, as a user would send it."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-default'


def a_task_for_the_running_agent():
    return {'answer': jada_molecule.ask_agent(HOST, 'timeout=60')}


EXERCISES = [a_task_for_the_running_agent]
