#!/usr/bin/env bash
# Stage hook: the model resolution conformance suite against the real Claude Code CLI (tests/conformance).
# Creates one systemd container, provisions it with demo/provision.yml, runs every scenario, destroys it.
#   bash hacking/conformance.sh [run.py arguments, e.g. --only legacy-remap]
set -euo pipefail
# shellcheck source=hacking/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$JADA_ROOT"

container="${JADA_CONFORMANCE_CONTAINER:-jada-conformance}"
export JADA_CONFORMANCE_CONTAINER="$container"
inventory="$JADA_WORK/conformance/inventory.yml"
mkdir -p "$JADA_WORK/conformance"
# The inventory names the container; a custom name gets its own copy.
sed "s/^        jada-conformance:$/        ${container}:/" tests/conformance/inventory.yml > "$inventory"

destroy() { podman rm --force --time 5 "$container" >/dev/null 2>&1 || true; }
trap destroy EXIT
destroy

started=$(date +%s)
podman run --detach --name "$container" --hostname jada-agent --network none \
    "$JADA_TEST_IMAGE" /sbin/init >/dev/null
for _ in $(seq 1 30); do
    state=$(podman exec "$container" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 1
done
ansible-playbook -i "$inventory" demo/provision.yml >"$JADA_WORK/conformance/provision.log" 2>&1 || {
    tail -n 40 "$JADA_WORK/conformance/provision.log"; echo "conformance: provisioning $container failed" >&2; exit 2; }
echo "conformance: $container provisioned in $(( $(date +%s) - started )) s"

python "$JADA_ROOT/tests/conformance/run.py" --container "$container" --inventory "$inventory" \
    --json "$JADA_WORK/conformance/latest.json" "$@"
