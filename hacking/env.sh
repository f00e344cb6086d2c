# shellcheck shell=bash
# Environment shared by the project's scripts: where things live, and which podman configuration to use.
JADA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export JADA_ROOT
export JADA_WORK="$JADA_ROOT/.work"
export JADA_VENV="$JADA_ROOT/.venv"
export JADA_TEST_IMAGE="${JADA_TEST_IMAGE:-localhost/jada-agent-systemd:bookworm}"
export CONTAINERS_CONF="$JADA_WORK/podman/containers.conf"
export PATH="$JADA_VENV/bin:$PATH"
# Molecule and ansible-galaxy keep their state under ANSIBLE_HOME; keep it inside the checkout.
export ANSIBLE_HOME="$JADA_WORK/ansible-home"
export ANSIBLE_CONFIG="$JADA_ROOT/ansible.cfg"
# The Claude Code CLI the Molecule orchestrators are provisioned with: older than the pinned one, so each
# rollout under test moves the CLI version as well as the model (and each rollback must move it back).
export JADA_PREVIOUS_CLAUDE_CODE_VERSION=2.1.327
# ccusage, the reference the usage tests compare jada.agent.agent_usage_info with. Its npm package is only a
# launcher; hacking/setup.sh fetches the native linux-x64 binary of this version (20.0.26 publishes none) to
# JADA_CCUSAGE, where the tests look for it.
export JADA_CCUSAGE_VERSION=20.0.24
export JADA_CCUSAGE="$JADA_WORK/cache/ccusage/$JADA_CCUSAGE_VERSION/ccusage"
