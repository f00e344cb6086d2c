"""Stand-in for the Claude Code CLI, for the demo orchestrator and the tests.

It resolves the model the way Claude Code does at start-up and logs it, then idles like a
long-running orchestrator. Like the real CLI it dies on an invalid settings file, and it also
dies on any model listed in the crash-on file, so a failed rollout looks exactly as it would.

Precedence, highest first: --model, ANTHROPIC_MODEL, managed settings
(/etc/claude-code/managed-settings.json, managed-settings.d/*.json), .claude/settings.local.json,
.claude/settings.json (both in the working directory), ~/.claude/settings.json.
"""

import glob
import json
import os
import signal
import sys
import time

MANAGED_DIR = os.environ.get('JADA_STANDIN_MANAGED_DIR', '/etc/claude-code')
CRASH_ON_FILE = os.environ.get('JADA_STANDIN_CRASH_ON_FILE', '/etc/jada/crash-on-models')
# A real CLI fails at its first request, a moment after start: long enough to fool `is-active`.
CRASH_DELAY = float(os.environ.get('JADA_STANDIN_CRASH_DELAY', '1.5'))
DEFAULT_MODEL = 'claude-sonnet-4-5'


def log(message):
    print('jada-agent: ' + message, flush=True)


def reject_constant(name):
    raise ValueError('%s is not valid JSON' % name)


def read_settings(path):
    """Return the settings object of path, {} when it does not exist; exit on invalid JSON."""
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    try:
        settings = json.loads(text, parse_constant=reject_constant)
    except ValueError as error:
        log('invalid settings file %s: %s' % (path, error))
        sys.exit(78)
    if not isinstance(settings, dict):
        log('invalid settings file %s: the top level must be an object' % path)
        sys.exit(78)
    return settings


def settings_files():
    managed = [os.path.join(MANAGED_DIR, 'managed-settings.json')]
    managed += sorted(glob.glob(os.path.join(MANAGED_DIR, 'managed-settings.d', '*.json')))
    project = [os.path.join('.claude', 'settings.local.json'), os.path.join('.claude', 'settings.json')]
    return managed + project + [os.path.expanduser('~/.claude/settings.json')]


def resolve_model(argv):
    if '--model' in argv[:-1]:
        return argv[argv.index('--model') + 1], '--model'
    if os.environ.get('ANTHROPIC_MODEL'):
        return os.environ['ANTHROPIC_MODEL'], 'ANTHROPIC_MODEL'
    found = None
    # Every file is read, so an invalid one fails start-up even when a higher one sets the model.
    for path in settings_files():
        model = read_settings(path).get('model')
        if found is None and model is not None:
            if not isinstance(model, str):
                log('invalid settings file %s: "model" must be a string' % path)
                sys.exit(78)
            found = (model, os.path.abspath(path))
    return found or (DEFAULT_MODEL, 'default')


def crash_models():
    try:
        with open(CRASH_ON_FILE, encoding='utf-8') as handle:
            return {line.strip() for line in handle if line.strip() and not line.startswith('#')}
    except FileNotFoundError:
        return set()


def main(argv):
    model, source = resolve_model(argv)
    log('starting orchestrator pid=%d model=%s source=%s' % (os.getpid(), model, source))
    if model in crash_models():
        time.sleep(CRASH_DELAY)
        log('error: model %s failed its first request (listed in %s); exiting' % (model, CRASH_ON_FILE))
        return 1
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
