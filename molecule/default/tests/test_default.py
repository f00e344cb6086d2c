"""Checks the demo orchestrator after upgrade-model.yml converged (and ran a second time)."""

import json
import os
import pathlib

import pytest

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


def test_service_runs_the_new_model(host):
    service = host.service('jada-agent')
    assert service.is_running
    assert service.is_enabled
    journal = host.check_output('journalctl -u jada-agent -o cat --no-pager')
    starts = [line for line in journal.splitlines() if 'starting orchestrator' in line]
    # Provisioned on Haiku, restarted exactly once for the upgrade, and not again by the idempotence run.
    assert len(starts) == 2, journal
    assert 'model=claude-haiku-4-5' in starts[0]
    assert 'model=claude-sonnet-4-6' in starts[1]


def test_service_never_restarted_by_systemd(host):
    assert host.check_output('systemctl show -p NRestarts --value jada-agent') == '0'
