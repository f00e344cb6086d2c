#!/usr/bin/env bash
# The whole test suite, as README.md and .ci/run call it: set up, then every stage, each timed.
# Usage: hacking/test.sh [STAGE...]   (default: all; stages: sanity units lint molecule demo build)
# A failed stage does not stop the others; the exit status is non-zero when any stage failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/hacking/setup.sh" || { echo "setup failed"; exit 1; }
# shellcheck source=hacking/env.sh
. "$root/hacking/env.sh"
cd "$root"

collection_copy="$JADA_WORK/ansible-test/ansible_collections/jada/agent"
molecule_scenarios=(default limits checkmode rollback drift)
passed=() failed=() timings=()

stage() {
    local name=$1 started=$SECONDS
    shift
    printf '\n===== stage %s: %s\n' "$name" "$*"
    if "$@"; then passed+=("$name"); else failed+=("$name"); fi
    timings+=("$(printf '%-22s %4d s  %s' "$name" $((SECONDS - started)) \
        "$( [[ " ${failed[*]} " == *" $name "* ]] && echo FAILED || echo ok)")")
}

copy_collection_for_ansible_test() {
    # ansible-test needs the collection at .../ansible_collections/jada/agent (a real copy, not a link),
    # with the collections it depends on beside it.
    local site dependency
    rm -rf "$collection_copy"
    mkdir -p "$collection_copy"
    git ls-files -z --cached --others --exclude-standard | grep -zv '^collections/' \
        | tar --null --files-from=- --ignore-failed-read -c | tar -x -C "$collection_copy"
    # The copy sits inside this checkout, whose git ignores .work/: give it a repository of its own,
    # or ansible-test asks the outer one for the file list and finds nothing.
    (cd "$collection_copy" && git init -q && git add -A)
    site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    for dependency in amazon/aws ansible/posix community/general containers/podman; do
        mkdir -p "$JADA_WORK/ansible-test/ansible_collections/${dependency%/*}"
        ln -sfn "$site/ansible_collections/$dependency" "$JADA_WORK/ansible-test/ansible_collections/$dependency"
    done
}

sanity() {
    copy_collection_for_ansible_test
    (cd "$collection_copy" && ansible-test sanity --venv --python 3.11 --color no)
}

units() {
    copy_collection_for_ansible_test
    (cd "$collection_copy" && ansible-test units --python 3.11 --color no)
}

lint() {
    ansible-lint --offline --profile production
}

molecule_scenario() {
    molecule test --scenario-name "$1"
}

build() {
    local tarball output="$JADA_WORK/build" install="$JADA_WORK/build/installed" module
    rm -rf "$output" && mkdir -p "$output"
    ansible-galaxy collection build --force --output-path "$output" . || return 1
    tarball=$(ls "$output"/jada-agent-*.tar.gz)
    if tar -tzf "$tarball" | grep -E '^(\.venv|\.work|\.ci|collections|hacking|images|tests/output)/|__pycache__|\.pyc$'; then
        echo "the collection tarball holds files that must not ship (listed above)"
        return 1
    fi
    for module in plugins/modules/*.py; do
        module=$(basename "$module" .py)
        ansible-doc "jada.agent.$module" >/dev/null || { echo "ansible-doc cannot render jada.agent.$module"; return 1; }
        echo "ansible-doc renders jada.agent.$module"
    done
}

demo() {
    # README's first command, end to end: upgrade the demo, then prove a second run changes and restarts nothing.
    local first second before after
    bash hacking/demo.sh destroy
    first=$(make --no-print-directory demo 2>&1) || { echo "$first"; return 1; }
    echo "$first" | grep -E 'claude-(haiku|sonnet)|changed=' || true
    echo "$first" | grep -q 'claude-haiku-4-5 -> claude-sonnet-4-6' || { echo "make demo did not upgrade the model"; return 1; }
    before=$(podman exec jada-agent-demo systemctl show -p NRestarts,ActiveEnterTimestamp,MainPID jada-agent)
    second=$(ansible-playbook upgrade-model.yml 2>&1) || { echo "$second"; return 1; }
    after=$(podman exec jada-agent-demo systemctl show -p NRestarts,ActiveEnterTimestamp,MainPID jada-agent)
    echo "$second" | grep -E '^jada-agent .*changed=0 ' || { echo "$second"; echo "the second run changed something"; return 1; }
    [ "$before" = "$after" ] || { echo "the second run restarted the service: $before -> $after"; return 1; }
    echo "second run: changed=0, service not restarted ($after)" | tr '\n' ' '; echo
    bash hacking/demo.sh destroy
}

want() { [ $# -eq 0 ] || [[ " $* " == *" $stage_name "* ]]; }

for stage_name in sanity units lint molecule demo build; do
    want "$@" || continue
    case $stage_name in
        sanity) stage sanity sanity ;;
        units) stage units units ;;
        lint) stage ansible-lint lint ;;
        molecule) for scenario in "${molecule_scenarios[@]}"; do stage "molecule-$scenario" molecule_scenario "$scenario"; done ;;
        demo) stage demo demo ;;
        build) stage build build ;;
    esac
done

printf '\n===== summary (seconds per stage)\n'
printf '%s\n' "${timings[@]}"
printf 'stages: %d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
[ ${#failed[@]} -eq 0 ]
