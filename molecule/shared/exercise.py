"""The side_effect step of a Molecule scenario: run its exercises, record what they observed for verify.

Usage (molecule/shared/side_effect.yml runs it): exercise.py <scenario>/exercises.py [NAME ...]

An exercises module lists EXERCISES, functions run in that order. Each one changes the hosts the way its case needs
(drifts a file, runs a playbook of the project as a user would), puts back what it changed, and returns a
JSON-serialisable dict of what it saw. The dicts go to <ephemeral directory>/results/<function name>.json, where the
verify step's tests read them: verify itself only looks at the hosts.
"""

import importlib.util
import json
import os
import sys
import time
import traceback


def results_dir():
    return os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'results')


def load(path):
    spec = importlib.util.spec_from_file_location('exercises', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv):
    module = load(argv[0])
    wanted = set(argv[1:])
    os.makedirs(results_dir(), exist_ok=True)
    failed = []
    for function in module.EXERCISES:
        if wanted and function.__name__ not in wanted:
            continue
        started = time.monotonic()
        target = os.path.join(results_dir(), function.__name__ + '.json')
        try:
            result = function()
        except Exception:  # pylint: disable=broad-except
            # Recorded, and the other exercises still run: verify names the one that broke.
            result = {'exercise_error': traceback.format_exc()}
            failed.append(function.__name__)
        with open(target, 'w') as handle:
            json.dump(result, handle, indent=1, default=str)
        print('%-70s %5.1f s%s' % (function.__name__, time.monotonic() - started, ' ERROR' if function.__name__ in failed else ''))
    if failed:
        # The ephemeral directory goes with the instances: the tracebacks must reach the log too.
        for name in failed:
            with open(os.path.join(results_dir(), name + '.json')) as handle:
                sys.stderr.write('%s raised:\n%s\n' % (name, json.load(handle)['exercise_error']))
        sys.exit('exercises that raised: %s (their tracebacks are above and in %s)' % (', '.join(failed), results_dir()))


if __name__ == '__main__':
    main(sys.argv[1:])
