"""Checks the demo orchestrator after upgrade-model.yml converged (and ran a second time), and what the side_effect
step (exercises.py) recorded; verify only looks."""

import datetime
import json
import os
import pathlib
import re
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'molecule', 'shared'))
import jada_molecule  # noqa: E402  pylint: disable=wrong-import-position

testinfra_hosts = ['podman://jada-molecule-default']

SETTINGS_FILES = {
    '/home/jada/.claude/settings.json': 'user-settings.json',
    '/srv/jada/orchestrator/.claude/settings.json': 'repository-settings.json',
}


@pytest.fixture(name='original')
def fixture_original():
    demo_files = pathlib.Path(os.environ['MOLECULE_PROJECT_DIRECTORY']) / 'demo' / 'files'
    return lambda name: (demo_files / name).read_bytes()


@pytest.mark.parametrize('path', sorted(SETTINGS_FILES))
def test_model_is_sonnet(host, path):
    settings = json.loads(host.file(path).content_string)
    assert settings['model'] == 'claude-sonnet-4-6'


@pytest.mark.parametrize('path', sorted(SETTINGS_FILES))
def test_only_the_model_bytes_changed(host, original, path):
    before = original(SETTINGS_FILES[path])
    after = host.file(path).content
    assert after == before.replace(b'"model": "claude-haiku-4-5"', b'"model": "claude-sonnet-4-6"', 1)


@pytest.mark.parametrize('path', sorted(SETTINGS_FILES))
def test_settings_file_stays_private(host, path):
    settings = host.file(path)
    assert settings.user == 'jada'
    assert settings.mode == 0o600


def test_service_was_restarted_once_for_the_upgrade():
    # Started on Haiku by the provisioning, restarted once by the upgrade, and not again by the idempotence run
    # (counted before the side effect restarts it once more).
    assert jada_molecule.results('a_rewrite_the_agent_has_not_read')['starts'][0] == 2


def test_an_agent_older_than_its_settings_is_restarted_once_then_converged():
    record = jada_molecule.results('a_rewrite_the_agent_has_not_read')
    read = record['first']['read']
    assert read['service']['stale_inputs'] == ['/srv/jada/orchestrator/.claude/settings.json']
    assert read['plan']['restart'] == ['the agent started before /srv/jada/orchestrator/.claude/settings.json changed']
    assert record['first']['rc'] == 0 and 'Restart and verify the agent service' in record['first']['changed']
    assert record['after_first']['digests'] == record['before']['digests']
    assert record['after_first']['service'] != record['before']['service']
    assert record['starts'] == [2, 3, 3]
    assert record['second'] == {'rc': 0, 'changed': []}
    assert record['after_second'] == record['after_first']


def test_the_api_was_asked_for_haiku_then_sonnet_only(host):
    asked = [request['model'] for request in jada_molecule.api_requests(host)]
    assert asked, 'the agent never reached the Messages API stand-in'
    last_haiku = max(index for index, model in enumerate(asked) if model == 'claude-haiku-4-5')
    assert set(asked[last_haiku + 1:]) == {'claude-sonnet-4-6'}, asked


def test_the_running_agent_answers_on_sonnet(host):
    answer = jada_molecule.results('a_task_for_the_running_agent')['answer']
    assert answer['is_error'] is False and answer['answered_by'] == ['claude-sonnet-4-6'], answer
    assert jada_molecule.api_requests(host)[-1]['model'] == 'claude-sonnet-4-6'


def test_the_pinned_cli_runs(host):
    version = yaml.safe_load(open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'],
                                               'roles/orchestrator/defaults/main.yml')))['jada_agent_cli_version']
    assert host.check_output('/opt/jada/bin/claude --version').startswith(str(version) + ' ')
    argv = host.check_output('cat /proc/$(systemctl show -p MainPID --value jada-agent)/cmdline | tr "\\0" " "')
    assert argv.startswith('/opt/jada/bin/claude -p --input-format stream-json') and '--dangerously-skip-permissions' in argv
    assert host.check_output('ps -o user= -p $(systemctl show -p MainPID --value jada-agent)') == 'jada'


def test_the_cli_moved_from_the_provisioned_version_and_kept_it_for_a_rollback(host):
    pinned = yaml.safe_load(open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'],
                                              'roles/orchestrator/defaults/main.yml')))['jada_agent_cli_version']
    previous = os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION']
    assert previous != pinned
    assert host.file('/opt/jada/bin/claude').linked_to == '/opt/jada/lib/claude-code/%s-linux-x64/claude' % pinned
    # The running process is the new binary: the restart happened after the switch.
    exe = host.check_output(jada_molecule.RUNNING_EXE)
    assert exe == '/opt/jada/lib/claude-code/%s-linux-x64/claude' % pinned
    assert host.file('/opt/jada/lib/claude-code/%s-linux-x64/claude' % previous).is_file
    assert not host.file('/opt/jada/lib/claude-code/.anthropic-ai-claude-code-linux-x64-%s.tgz' % pinned).exists


def test_the_autoupdater_is_off(host):
    # /proc/<pid>/environ is closed even to root in these containers (no CAP_SYS_PTRACE); systemd says what it set.
    assert 'DISABLE_AUTOUPDATER=1' in host.check_output('systemctl show -p Environment --value jada-agent').split()


def test_the_environment_file_is_private(host):
    environment = host.file('/etc/jada/jada-agent.env')
    assert environment.user == 'root' and environment.mode == 0o600


def test_service_never_restarted_by_systemd(host):
    assert host.check_output('systemctl show -p NRestarts --value jada-agent') == '0'


def hardening_defaults():
    with open(os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'roles/orchestrator/defaults/main.yml')) as handle:
        hardening = yaml.safe_load(handle)['jada_agent_hardening']
    return dict((name, ('yes' if value else 'no') if isinstance(value, bool) else str(value))
                for name, value in hardening.items())


@pytest.mark.parametrize('directive', sorted(hardening_defaults()))
def test_the_unit_keeps_each_hardening_directive_this_host_can_apply_and_only_those(host, directive):
    """On bookworm (systemd 252) all of them; on trixie (systemd 257) in an unprivileged container, four are refused.
    The host is asked here again, with a transient unit that runs /bin/true as the service user."""
    value = hardening_defaults()[directive]
    refused = host.run('systemd-run --wait --collect --quiet --service-type=exec -p User=jada -p %s=%s /bin/true'
                       % (directive, value)).rc != 0
    read = jada_molecule.results('a_rewrite_the_agent_has_not_read')['first']['read']
    left_out = dict((item['directive'], item) for item in read['desired_unit']['left_out'])
    unit = host.file('/etc/systemd/system/jada-agent.service').content_string.splitlines()
    assert (directive in left_out) == refused
    assert ('%s=%s' % (directive, value) in unit) == (not refused)
    if refused:
        assert left_out[directive]['warning'] in read['plan']['warnings']


def test_each_rollout_that_changed_the_host_left_one_line_in_the_rollout_history(host):
    defaults = pathlib.Path(os.environ['MOLECULE_PROJECT_DIRECTORY']) / 'roles' / 'orchestrator' / 'defaults' / 'main.yml'
    pinned = yaml.safe_load(defaults.read_text())['jada_agent_cli_version']
    history = host.file('/var/lib/jada-agent/rollouts.jsonl')
    lines = [json.loads(line) for line in history.content_string.splitlines()]
    # The converge moved the model and the CLI; the side effect's rollout only restarted the agent; the runs that
    # found the host converged (idempotence, the side effect's second run) recorded nothing.
    assert [(line['result'], line['from_model'], line['to_model'], line['from_cli_version'], line['to_cli_version'])
            for line in lines] == [
        ('complete', 'claude-haiku-4-5', 'claude-sonnet-4-6', os.environ['JADA_PREVIOUS_CLAUDE_CODE_VERSION'], pinned),
        ('complete', 'claude-sonnet-4-6', 'claude-sonnet-4-6', pinned, pinned)]
    assert lines[0]['rollout_id'] != lines[1]['rollout_id']
    assert history.mode == 0o644


# --- the usage report (playbooks/usage_report.yml), run by the side effect after the rollout ------------------------

HOST = 'jada-molecule-default'
HAIKU, SONNET = 'claude-haiku-4-5', 'claude-sonnet-4-6'
TOKENS = ('input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens')
COUNTS = ('requests', 'api_errors') + TOKENS


@pytest.fixture(name='usage', scope='module')
def fixture_usage():
    return jada_molecule.results('a_usage_report_around_the_rollout')


def instant(text):
    return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))


def counts(models, fields=COUNTS):
    """The counts of each model that had an answer or an error."""
    return dict((model, dict((name, figures[name]) for name in fields)) for model, figures in models.items()
                if figures['requests'] or figures['api_errors'])


def answered(requests, since=None, until=None):
    """Per model, what the Messages API stand-in answered in [since, until): its request log's requests, the four
    token counts of its answers, and the tasks (requests that carried no tool result: prompts)."""
    result = {}
    for request in requests:
        if request['path'] != '/v1/messages' or request['status'] != 200:
            continue
        when = instant(request['time'])
        if (since and when < instant(since)) or (until and when >= instant(until)):
            continue
        figures = result.setdefault(request['model'], dict((name, 0) for name in ('requests', 'tasks') + TOKENS))
        figures['requests'] += 1
        figures['tasks'] += 0 if request['tool_result'] else 1
        for name in TOKENS:
            figures[name] += request['usage'][name]
    return result


def test_the_usage_report_read_the_host_and_wrote_its_files_in_each_run(usage):
    for name, run in usage['runs'].items():
        report = run['latest']
        assert run['rc'] == 0, (name, run['stderr'])
        assert report['hosts_not_read'] == [] and report['fleet']['hosts_read'] == [HOST], name
        assert report['hosts'][HOST]['failed'] is None and report['hosts'][HOST]['warnings'] == [], name
        assert report['check_mode'] is name.startswith('check'), name
        stamped = [file for file in run['files'] if file.startswith('usage-')]
        assert sorted(run['files']) == ['latest.html', 'latest.json'] + sorted(stamped), name
        assert run['files'][[file for file in stamped if file.endswith('.json')][0]] == run['files']['latest.json']
        assert run['files'][[file for file in stamped if file.endswith('.html')][0]] == run['files']['latest.html']
        # The summary printed is the report's, and the task changes nothing.
        task = run['report_task']
        assert task['msg'] == report['summary_lines'] and task['changed'] is False and not task.get('failed'), name


def test_the_comparison_is_around_the_rollout_of_the_history(usage):
    history = [json.loads(line) for line in usage['history'].splitlines()]
    report = usage['runs']['first']['latest']
    comparison = report['hosts'][HOST]['comparison']
    # Only the converge's rollout had finished when the side effect ran the report.
    assert len(history) == 1 and comparison['rollout'] == history[0]
    assert (history[0]['from_model'], history[0]['to_model']) == (HAIKU, SONNET)
    assert report['fleet']['comparison']['hosts_compared'] == [HOST]
    # The rollout itself (its verification on Sonnet) is in neither window.
    assert comparison['before']['until'] == history[0]['started']
    assert instant(comparison['after']['since']) == instant(history[0]['time']) + datetime.timedelta(seconds=1)


def test_each_window_holds_what_the_stand_in_answered_on_its_side_of_the_rollout(usage):
    asked = usage['asked']
    assert asked['is_error'] is False and asked['answered_by'] == [SONNET], asked
    requests = usage['api_requests']
    fields = ('requests', 'tasks') + TOKENS
    for name in ('first', 'second'):
        host = usage['runs'][name]['latest']['hosts'][HOST]
        comparison = host['comparison']
        before = answered(requests, comparison['before']['since'], comparison['before']['until'])
        after = answered(requests, comparison['after']['since'], comparison['after']['until'])
        assert sorted(before) == [HAIKU] and sorted(after) == [SONNET], (before, after)
        assert counts(comparison['before']['models'], fields) == before
        assert counts(comparison['after']['models'], fields) == after
        # The task this exercise asked, with its scripted usage, is after the rollout.
        scripted = [request for request in requests if request['usage'] and all(
            request['usage'][field] == value for field, value in usage['scripted_usage'].items())]
        assert scripted and answered(scripted, comparison['after']['since'], comparison['after']['until']) == \
            answered(scripted)
        # The whole range: every answer, the rollout's own verification on Sonnet too, which no window holds.
        everything = answered(requests)
        assert counts(host['models'], ('requests',) + TOKENS) == dict(
            (model, dict((field, figures[field]) for field in ('requests',) + TOKENS))
            for model, figures in everything.items())
        assert everything[SONNET]['requests'] > after[SONNET]['requests']
        assert counts(usage['runs'][name]['latest']['fleet']['comparison']['after']['models'], fields) == after


def test_the_page_is_self_contained_and_no_report_holds_a_prompt_or_an_answer(usage):
    texts = [text for text in usage['texts'] if len(text) >= 8]
    # The texts were found: the exercise's own prompt and answer among them.
    assert usage['prompt'] in texts and usage['answer'] in texts
    for name, run in usage['runs'].items():
        for file, content in run['files'].items():
            assert not [text for text in texts if text in content], (name, file)
            if file.endswith('.html'):
                assert '<svg' in content
                assert '<script' not in content.lower()
                assert not re.findall(r'(?i)\b(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', content), (name, file)
                assert 'http://' not in content and 'https://' not in content, (name, file)


def test_check_mode_leaves_the_usage_state_alone_and_still_reports(usage):
    runs = usage['runs']
    # Before any real run: no state, and none after the check either.
    assert runs['check']['state_before'] is None and runs['check']['state_after'] is None
    # After the real runs: the same state, byte for byte.
    assert runs['check_again']['state_before'] is not None
    assert runs['check_again']['state_after'] == runs['check_again']['state_before']
    # What check mode reports is what the real run reports.
    for window in ('before', 'after'):
        assert counts(runs['check']['latest']['hosts'][HOST]['comparison'][window]['models']) == \
            counts(runs['first']['latest']['hosts'][HOST]['comparison'][window]['models'])
    assert counts(runs['check']['latest']['hosts'][HOST]['models']) == \
        counts(runs['first']['latest']['hosts'][HOST]['models'])


def test_the_usage_state_is_written_and_a_second_run_reads_only_new_bytes(usage):
    runs = usage['runs']
    # The check run wrote no state: the first real run reads every transcript again.
    for name in ('check', 'first'):
        assert runs[name]['read'][0]['bytes_read'] == runs[name]['transcript_bytes'] > 0, name
    assert runs['first']['state_before'] is None and runs['first']['state_after'] is not None
    for name, previous in (('second', 'first'), ('check_again', 'second')):
        grown = runs[name]['transcript_bytes'] - runs[previous]['transcript_bytes']
        assert runs[name]['read'][0]['bytes_read'] == grown, name
        first, later = runs['first']['latest']['hosts'][HOST], runs[name]['latest']['hosts'][HOST]
        assert counts(later['models']) == counts(first['models'])
        for window in ('before', 'after'):
            assert counts(later['comparison'][window]['models'], COUNTS + ('tasks',)) == \
                counts(first['comparison'][window]['models'], COUNTS + ('tasks',))
