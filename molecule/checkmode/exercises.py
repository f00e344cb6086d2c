"""The checkmode scenario's side effects: each case drifts or configures the host as it needs, runs a playbook as a
user would, records what it saw, and puts the host back."""

import os
import shlex
import sys

import testinfra

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

HOST = 'jada-molecule-checkmode'
SECRET = 'demo-secret-0000-not-a-real-key'
REPOSITORY_SETTINGS = '/srv/jada/orchestrator/.claude/settings.json'
USER_SETTINGS = '/home/jada/.claude/settings.json'
LOCAL_SETTINGS = '/srv/jada/orchestrator/.claude/settings.local.json'
MANAGED_SETTINGS = '/etc/claude-code/managed-settings.json'


def host():
    return testinfra.get_host('podman://' + HOST)


def observe(run_once, *restore, prepare=None):
    """State before and after ``run_once()``, whose record it returns with them; ``prepare`` drifts the host first,
    and ``restore`` lists the files to put back afterwards."""
    target = host()
    with jada_molecule.restored(target, *restore):
        if prepare:
            prepare(target)
        before = jada_molecule.state(target)
        record = run_once(target)
        record.update(before=before, after=jada_molecule.state(target))
    return record


def refused(*args):
    """An upgrade that must be refused: its JSON report's read of the host and failures."""
    def run_once(target):  # pylint: disable=unused-argument
        run = jada_molecule.play('upgrade-model.yml', *args)
        reads = jada_molecule.host_reads(run['report'], HOST)
        return {'rc': run['rc'], 'read': reads[0] if reads else None,
                'failures': jada_molecule.failures(run['report'], HOST), 'said': run['stderr']}
    return run_once


def check_mode_on_a_converged_host():
    return observe(lambda target: {'run': jada_molecule.outcome(
        jada_molecule.run_playbook('upgrade-model.yml', '--check', '--diff'))})


def check_mode_on_a_drifted_host():
    def run_once(target):
        return {'run': jada_molecule.outcome(jada_molecule.run_playbook('upgrade-model.yml', '--check', '--diff')),
                'drifted_model': jada_molecule.model(target, REPOSITORY_SETTINGS)}
    return observe(run_once, REPOSITORY_SETTINGS,
                   prepare=lambda target: jada_molecule.drift_model(target, REPOSITORY_SETTINGS, 'claude-haiku-4-5'))


def status():
    return observe(lambda target: {'run': jada_molecule.outcome(
        jada_molecule.run_playbook('playbooks/status.yml', '--check'))})


def a_model_outside_the_allowed_list():
    return observe(refused('-e', 'jada_agent_model=claude-opus-4-6',
                           '-e', '{"jada_agent_allowed_models": ["claude-sonnet-4-6", "claude-haiku-4-5"]}'))


def managed(text):
    return lambda target: target.check_output('mkdir -p /etc/claude-code && echo %s > %s' % (shlex.quote(text), MANAGED_SETTINGS))


def a_contradicting_managed_setting():
    try:
        return observe(refused(), prepare=managed('{"model": "claude-haiku-4-5"}'))
    finally:
        host().check_output('rm -rf /etc/claude-code')


def a_model_flag_in_exec_start():
    return observe(refused('-e', 'jada_agent_exec_start="/opt/jada/bin/claude -p --input-format stream-json '
                                 '--output-format stream-json --verbose --dangerously-skip-permissions '
                                 '--model claude-haiku-4-5"'))


def a_model_variable_in_the_environment():
    return observe(refused('-e', '{"jada_agent_environment": {"ANTHROPIC_MODEL": "claude-haiku-4-5", '
                                 '"ANTHROPIC_API_KEY": "%s"}}' % SECRET))


def a_settings_file_the_cli_would_skip():
    return observe(refused('-e', 'jada_agent_model=claude-opus-4-6'), LOCAL_SETTINGS, prepare=lambda target: (
        target.check_output("printf '{\\n  \"model\": \"claude-opus-4-6\",\\n}\\n' > %s" % LOCAL_SETTINGS)))


def an_env_block_that_would_still_win():
    return observe(refused('-e', 'jada_agent_model=claude-opus-4-6'), USER_SETTINGS, prepare=lambda target: (
        target.check_output(
            "python3 -c \"import json, sys; d = json.load(open(sys.argv[1])); "
            "d.setdefault('env', {})['ANTHROPIC_MODEL'] = 'claude-haiku-4-5'; "
            "open(sys.argv[1], 'w').write(json.dumps(d, indent=2))\" %s" % USER_SETTINGS)))


def available_models_that_exclude_the_model():
    try:
        return observe(refused('-e', 'jada_agent_model=claude-opus-4-6'),
                       prepare=managed('{"availableModels": ["claude-sonnet-4-6"]}'))
    finally:
        host().check_output('rm -rf /etc/claude-code')


def an_alias():
    def run_once(target):  # pylint: disable=unused-argument
        check = jada_molecule.play('upgrade-model.yml', '--check', '-e', 'jada_agent_model=sonnet')
        reads = jada_molecule.host_reads(check['report'], HOST)
        record = refused('-e', 'jada_agent_model=sonnet', '-e', '{"jada_agent_allowed_models": ["sonnet", "claude-sonnet-4-6"]}')(target)
        record['check'] = {'rc': check['rc'], 'read': reads[0] if reads else None}
        return record
    return observe(run_once)


EXERCISES = [
    check_mode_on_a_converged_host,
    check_mode_on_a_drifted_host,
    status,
    a_model_outside_the_allowed_list,
    a_contradicting_managed_setting,
    a_model_flag_in_exec_start,
    a_model_variable_in_the_environment,
    a_settings_file_the_cli_would_skip,
    an_env_block_that_would_still_win,
    available_models_that_exclude_the_model,
    an_alias,
]
