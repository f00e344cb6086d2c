#!/usr/bin/env bash
# The whole test suite, as README.md and .ci/run call it: set up, then every stage, each timed.
# Usage: hacking/test.sh [STAGE...]   (default: all; stages: sanity units usage lint molecule compat conformance demo
# build ecosystem)
# A failed stage does not stop the others; the exit status is non-zero when any stage failed. The Molecule scenarios,
# compat, conformance and demo run in two lanes side by side (JADA_TEST_SERIAL=1: one after the other).
set -uo pipefail
# Plain output: CI logs are read as text.
export NO_COLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0

root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/hacking/setup.sh" || { echo "setup failed"; exit 1; }
# shellcheck source=hacking/env.sh
. "$root/hacking/env.sh"
cd "$root"

collection_copy="$JADA_WORK/ansible-test/ansible_collections/jada/agent"
results="$JADA_WORK/test-results"
rm -rf "$results" && mkdir -p "$results"
# The console: each stage's start and end reach it at once, even while a lane writes its output to a file.
exec 3>&1

stage() {
    local name=$1 started=$SECONDS status=ok
    shift
    printf '\n===== stage %s: %s\n' "$name" "$*"
    printf '[%s] stage %s started\n' "$(date +%T)" "$name" >&3
    "$@" || status=FAILED
    printf '%d %s\n' $((SECONDS - started)) "$status" > "$results/$name.result"
    printf '[%s] stage %s: %s in %d s\n' "$(date +%T)" "$name" "$status" $((SECONDS - started)) >&3
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

usage_tests() {
    # jada.agent.agent_usage_info on transcripts the real CLI writes, against the pinned ccusage (tests/usage).
    PYTHONPATH="$root/collections" python -m pytest -q -p no:cacheprovider "$root/tests/usage"
}

molecule_scenario() {
    molecule test --scenario-name "$1"
}

build() {
    # Release hygiene: changelog, version, tarball contents, and the installed tarball working on its own.
    local tarball output="$JADA_WORK/build" installed="$JADA_WORK/build/installed" module playbook version site
    rm -rf "$output" && mkdir -p "$installed/ansible_collections"
    antsibull-changelog lint || return 1
    version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
    python - "$version" <<'PYTHON' || return 1
import sys, yaml
releases = yaml.safe_load(open('changelogs/changelog.yaml')).get('releases') or {}
if sys.argv[1] not in releases:
    sys.exit('changelogs/changelog.yaml releases %s, but galaxy.yml says %s' % (sorted(releases), sys.argv[1]))
if ('v%s' % sys.argv[1]) not in open('CHANGELOG.rst').read():
    sys.exit('CHANGELOG.rst has no section for v%s; run antsibull-changelog generate' % sys.argv[1])
print('changelog releases %s, as galaxy.yml says' % sys.argv[1])
PYTHON
    python hacking/role_readmes.py --check || return 1
    ansible-galaxy collection build --force --output-path "$output" . || return 1
    tarball="$output/jada-agent-$version.tar.gz"
    if tar -tzf "$tarball" | grep -E '^(\.venv|\.work|\.ci|collections|hacking|images|ee-build|tests/output)/|__pycache__|\.pyc$'; then
        echo "the collection tarball holds files that must not ship (listed above)"
        return 1
    fi
    # The dependencies come from the bundle (Galaxy is unreachable); the tarball installs offline next to them.
    site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    mkdir -p "$installed/ansible_collections/amazon" "$installed/ansible_collections/ansible"
    cp -r "$site/ansible_collections/amazon/aws" "$installed/ansible_collections/amazon/"
    cp -r "$site/ansible_collections/ansible/posix" "$installed/ansible_collections/ansible/"
    ANSIBLE_COLLECTIONS_PATH="$installed" ansible-galaxy collection install --offline --force -p "$installed" "$tarball" \
        || return 1
    (
        cd "$installed" || exit 1
        printf '[defaults]\n' > "$installed/ansible.cfg"
        export ANSIBLE_COLLECTIONS_PATH="$installed" ANSIBLE_CONFIG="$installed/ansible.cfg" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
        for module in "$installed"/ansible_collections/jada/agent/plugins/modules/*.py; do
            module=$(basename "$module" .py)
            ansible-doc "jada.agent.$module" >/dev/null || { echo "ansible-doc cannot render jada.agent.$module"; exit 1; }
        done
        echo "ansible-doc renders every module of the installed collection"
        # By path: the playbooks keep the hyphenated names of the design, which FQCN playbook names cannot carry.
        for playbook in "$installed"/ansible_collections/jada/agent/playbooks/*.yml; do
            ansible-playbook -i localhost, --syntax-check "$playbook" >/dev/null \
                || { echo "$playbook does not pass --syntax-check"; exit 1; }
        done
        echo "every playbook of the installed collection passes --syntax-check"
    )
}

demo() {
    # README's first command, end to end: upgrade the demo, then prove a second run changes and restarts nothing.
    local first second before after
    bash hacking/demo.sh destroy
    first=$(make --no-print-directory demo 2>&1) || { echo "$first"; return 1; }
    echo "$first" | grep -E 'claude-(haiku|sonnet)|changed=|==' || true
    # Here-strings, not pipes: with pipefail, grep -q leaving early makes echo or sed die of SIGPIPE and fail a
    # check that matched.
    grep -q 'claude-haiku-4-5 -> claude-sonnet-4-6' <<<"$first" || { echo "make demo did not upgrade the model"; return 1; }
    before=$(sed -n '/== models before/,/== models after/p' <<<"$first")
    after=$(sed -n '/== models after/,$p' <<<"$first")
    # Proof from the agent itself, not from a file: who answered before and after, and what the API was asked.
    grep -Eq "answered by .* claude-haiku-4-5 *$" <<<"$before" \
        && grep -Eq "requested .* claude-haiku-4-5$" <<<"$before" \
        && grep -Eq "answered by .* claude-sonnet-4-6 *$" <<<"$after" \
        && grep -Eq "requested .* claude-sonnet-4-6$" <<<"$after" \
        || { echo "$first"; echo "the agent did not answer on Haiku before and on Sonnet after"; return 1; }
    before=$(podman exec jada-agent-demo systemctl show -p NRestarts,ActiveEnterTimestamp,MainPID jada-agent)
    second=$(ansible-playbook upgrade-model.yml 2>&1) || { echo "$second"; return 1; }
    after=$(podman exec jada-agent-demo systemctl show -p NRestarts,ActiveEnterTimestamp,MainPID jada-agent)
    echo "$second" | grep -E '^jada-agent .*changed=0 ' || { echo "$second"; echo "the second run changed something"; return 1; }
    [ "$before" = "$after" ] || { echo "the second run restarted the service: $before -> $after"; return 1; }
    echo "second run: changed=0, service not restarted ($after)" | tr '\n' ' '; echo
    bash hacking/demo.sh destroy
}

ecosystem() {
    # Beyond one controller: the execution environment (built offline by hacking/ee.sh; the ssh scenario runs the
    # rollout inside it), the installed collection's playbooks by name, and ansible-runner (how AWX runs playbooks)
    # against the demo orchestrator.
    local ee="$JADA_WORK/ee" image site status
    image=$(bash hacking/ee.sh) || return 1
    site=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # What ansible-builder collected from every collection's meta/execution-environment.yml, and what the image has.
    ansible-builder introspect --sanitize "$ee/collections" > "$ee/introspect.txt" || return 1
    for wanted in 'boto3.*jada.agent' 'jmespath.*jada.agent' 'openssh-client.*jada.agent' 'util-linux.*jada.agent'; do
        grep -Eq "$wanted" "$ee/introspect.txt" || { cat "$ee/introspect.txt"; echo "introspection lacks $wanted"; return 1; }
    done
    podman run --rm --network=none "$image" sh -c 'ansible-galaxy collection list; python3 -c "import boto3, jmespath"' \
        > "$ee/image-collections.txt" 2>&1 || { cat "$ee/image-collections.txt"; return 1; }
    for wanted in jada.agent amazon.aws ansible.posix; do
        grep -q "^$wanted " "$ee/image-collections.txt" || { cat "$ee/image-collections.txt"; echo "$image lacks $wanted"; return 1; }
    done
    echo "$image holds jada.agent, amazon.aws, ansible.posix, boto3 and jmespath"

    # The installed collection, not this checkout: each playbook by its collection name, from a folder without an
    # ansible.cfg, on the default search path of an execution environment's layout.
    for playbook in upgrade_model status drift_remediation usage_report audit_models rollback; do
        (cd "$ee" && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH="$ee/collections:$site" \
            ansible-playbook --syntax-check -i localhost, "jada.agent.$playbook" >/dev/null) \
            || { echo "ansible-playbook jada.agent.$playbook: not found or not valid in the installed collection"; return 1; }
    done
    echo "ansible-playbook jada.agent.<name>: the 6 playbooks of the installed collection parse"

    bash hacking/demo.sh create >/dev/null || return 1
    (cd "$ee" && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH="$ee/collections:$site" \
        ansible-playbook -i "$JADA_ROOT/inventories/demo/hosts.yml" jada.agent.status > "$JADA_WORK/status-by-name.txt" 2>&1)
    status=$?
    grep -q "collections/ansible_collections/jada/agent/playbooks/status.yml" <(cd "$ee" && env -u ANSIBLE_CONFIG \
        ANSIBLE_COLLECTIONS_PATH="$ee/collections:$site" ansible-playbook -vvv --syntax-check -i localhost, jada.agent.status 2>&1) \
        || { echo "jada.agent.status did not come from $ee/collections"; bash hacking/demo.sh destroy; return 1; }
    [ "$status" -eq 0 ] && grep -q 'jada-agent' "$JADA_WORK/status-by-name.txt" \
        || { tail -30 "$JADA_WORK/status-by-name.txt"; bash hacking/demo.sh destroy; return 1; }
    echo "ansible-playbook jada.agent.status from the installed collection read the demo orchestrator"
    python hacking/run_examples.py inventories/demo/hosts.yml > "$JADA_WORK/examples.log" 2>&1 \
        || { tail -40 "$JADA_WORK/examples.log"; bash hacking/demo.sh destroy; return 1; }
    tail -1 "$JADA_WORK/examples.log"
    rm -rf "$JADA_WORK/runner" && mkdir -p "$JADA_WORK/runner"
    ansible-runner run "$JADA_WORK/runner" --project-dir "$JADA_ROOT" --inventory "$JADA_ROOT/inventories/demo/hosts.yml" \
        -p upgrade-model.yml --cmdline=--check > "$JADA_WORK/runner/stdout.txt" 2>&1
    status=$(cat "$JADA_WORK"/runner/artifacts/*/status 2>/dev/null)
    bash hacking/demo.sh destroy
    grep -E '^jada-agent +:' "$JADA_WORK/runner/stdout.txt"
    [ "$status" = successful ] || { tail -30 "$JADA_WORK/runner/stdout.txt"; echo "ansible-runner: $status"; return 1; }
    echo "ansible-runner ran upgrade-model.yml --check against the demo orchestrator: $status"
}

want() { [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $1 "* ]]; }

run() {
    # One stage by name; the stage groups of the command line (molecule: every scenario) select them.
    case $1 in
        sanity) want sanity && stage sanity sanity ;;
        units) want units && stage units units ;;
        lint) want lint && stage ansible-lint lint ;;
        usage) want usage && stage usage usage_tests ;;
        # The second target platform: Debian trixie, systemd 257, Python 3.13.
        molecule-default-trixie)
            want molecule && JADA_TEST_IMAGE=localhost/jada-agent-systemd:trixie stage "$1" molecule_scenario default ;;
        molecule-*) want molecule && stage "$1" molecule_scenario "${1#molecule-}" ;;
        # Every older ansible-core meta/runtime.yml claims, in venvs of their own (hacking/core-venvs.sh).
        compat) want compat && stage compat python hacking/compat.py ;;
        # The model-resolution engine against the real CLI, scenario by scenario (tests/conformance).
        conformance) want conformance && stage conformance bash hacking/conformance.sh ;;
        demo) want demo && stage demo demo ;;
        build) want build && stage build build ;;
        ecosystem) want ecosystem && stage ecosystem ecosystem ;;
    esac
    return 0
}

run_all() { local name; for name in "$@"; do run "$name"; done; }

selected=("$@")
first=(sanity units usage lint)
# Two lanes side by side on the 2 cores CI has: the rollback scenario mostly waits (for restarts, settle windows, killed
# runs) and took as long beside the other lane as alone (1084 s against 1106 s); the others took about 1.25x. Their
# stages share nothing: each has containers, ports and Molecule state of its own (the two default scenarios, on one
# name, stay in one lane).
lane_a=(molecule-default molecule-limits molecule-checkmode molecule-drift molecule-ssh molecule-default-trixie compat)
lane_b=(molecule-rollback conformance demo)
# After the lanes: the ecosystem stage uses the demo container and the execution environment the ssh scenario built.
last=(ecosystem build)
started=$SECONDS

run_all "${first[@]}"
if [ "${JADA_TEST_SERIAL:-0}" = 1 ]; then
    run_all "${lane_a[@]}" "${lane_b[@]}"
else
    # Each lane's output goes to a file, printed whole when both are done, so the log reads stage by stage.
    run_all "${lane_a[@]}" > "$results/lane-a.log" 2>&1 &
    lane_a_pid=$!
    run_all "${lane_b[@]}" > "$results/lane-b.log" 2>&1 &
    wait "$lane_a_pid" $!
    cat "$results/lane-a.log" "$results/lane-b.log"
fi
run_all "${last[@]}"

printf '\n===== summary (seconds per stage; the stages of the two lanes ran side by side)\n'
passed=0 failed=0
for name in "${first[@]}" "${lane_a[@]}" "${lane_b[@]}" "${last[@]}"; do
    [ "$name" = lint ] && name=ansible-lint
    [ -f "$results/$name.result" ] || continue
    read -r seconds status < "$results/$name.result"
    printf '%-24s %4d s  %s\n' "$name" "$seconds" "$status"
    if [ "$status" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
printf 'stages: %d passed, %d failed; %d s in all (setup excluded)\n' "$passed" "$failed" $((SECONDS - started))
[ "$failed" -eq 0 ]
