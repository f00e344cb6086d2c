#!/usr/bin/env bash
# Build one virtualenv per older ansible-core that meta/runtime.yml claims to support (requires_ansible), so the
# playbooks can be run against each of them: .work/venvs/core-<minor>/bin/ansible-playbook.
# Idempotent: a venv whose stamp matches its recipe is left alone, so a second run takes a second.
#
# The venvs hold ansible-core and the controller-side Python the collections need (boto3/botocore for amazon.aws),
# with the same pins as requirements.txt. They do not hold collections: use them with
#   ANSIBLE_CONFIG=$JADA_ROOT/ansible.cfg
#   ANSIBLE_COLLECTIONS_PATH=$(hacking/core-venvs.sh --collections-path)
# which names this checkout's collections/ (jada.agent) and the collections hacking/setup.sh extracted into the
# project venv (amazon.aws 10.x, ansible.posix 2.x, containers.podman, community.general: all of them declare
# requires_ansible <= 2.17, so the same copies serve every ansible-core here).
#
# Usage: hacking/core-venvs.sh [VERSION...]      build (default: 2.17 2.18; hacking/compat.py runs them)
#        hacking/core-venvs.sh --collections-path print the ANSIBLE_COLLECTIONS_PATH to use with them
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hacking/env.sh
. "$root/hacking/env.sh"

default_versions=(2.17 2.18)

log() { printf '[core-venvs] %s\n' "$*"; }

collections_path() {
    local site
    site=$("$JADA_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$root/collections:$site"
}

# The pins of requirements.txt a controller needs besides ansible-core itself.
controller_pins() {
    grep -E '^(boto3|botocore|jmespath)==' "$root/requirements.txt"
}

core_version() {
    "$1/bin/python" -c 'from ansible.release import __version__; print("ansible-core", __version__)'
}

build_venv() {
    local minor=$1 dir recipe stamp next
    dir="$JADA_WORK/venvs/core-$minor"
    next="${minor%.*}.$((${minor#*.} + 1))"
    recipe="ansible-core>=$minor,<$next $(controller_pins | tr '\n' ' ')"
    stamp="$dir/.jada-recipe"
    if [ -x "$dir/bin/ansible-playbook" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; then
        log "core-$minor is up to date ($(core_version "$dir"))"
        return
    fi
    log "building $dir: $recipe"
    rm -rf "$dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2046
    "$dir/bin/pip" install -q --disable-pip-version-check "ansible-core>=$minor,<$next" $(controller_pins)
    echo "$recipe" > "$stamp"
    log "core-$minor ready ($(core_version "$dir"))"
}

main() {
    if [ "${1:-}" = --collections-path ]; then
        collections_path
        return
    fi
    local versions=("$@") minor
    [ ${#versions[@]} -gt 0 ] || versions=("${default_versions[@]}")
    [ -d "$(collections_path | cut -d: -f2)/ansible_collections" ] \
        || { echo "the project venv has no collections yet: run hacking/setup.sh first" >&2; exit 1; }
    mkdir -p "$JADA_WORK/venvs"
    for minor in "${versions[@]}"; do
        build_venv "$minor"
    done
}

main "$@"
