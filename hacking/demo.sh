#!/usr/bin/env bash
# The demo orchestrator: a local systemd container named jada-agent-demo, host `jada-agent` of inventories/demo.
#   demo.sh create    start it (if missing) and provision the stand-in agent on claude-haiku-4-5, and
#                     start the local Lightsail endpoint that answers for its instance (preflight)
#   demo.sh destroy   remove both
#   demo.sh models    print the model each settings file holds and the one the agent logged at start
set -euo pipefail
# shellcheck source=hacking/env.sh
. "$(dirname "$0")/env.sh"
cd "$JADA_ROOT"

container=jada-agent-demo
endpoint_dir="$JADA_WORK/demo"

start_lightsail_endpoint() {
    # botocore-validated stand-in for the Lightsail API (no AWS here); inventories/demo reads its port file.
    if [ -f "$endpoint_dir/lightsail.pid" ] && kill -0 "$(cat "$endpoint_dir/lightsail.pid")" 2>/dev/null; then
        return
    fi
    mkdir -p "$endpoint_dir"
    rm -f "$endpoint_dir/lightsail.port"
    nohup python tests/lightsail_endpoint/server.py --port 0 --quiet --scenario demo/lightsail-scenario.json \
        --port-file "$endpoint_dir/lightsail.port" >"$endpoint_dir/lightsail.log" 2>&1 &
    echo $! > "$endpoint_dir/lightsail.pid"
    for _ in $(seq 50); do [ -s "$endpoint_dir/lightsail.port" ] && return; sleep 0.1; done
    echo "the local Lightsail endpoint did not start; see $endpoint_dir/lightsail.log" >&2
    exit 1
}

create() {
    start_lightsail_endpoint
    if [ "$(podman container inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" != true ]; then
        podman rm -f "$container" >/dev/null 2>&1 || true
        podman run -d --name "$container" --hostname jada-agent "$JADA_TEST_IMAGE" >/dev/null
        # systemd needs a moment before its bus answers.
        for _ in $(seq 50); do
            podman exec "$container" systemctl is-system-running --wait >/dev/null 2>&1 && break
            sleep 0.2
        done
    fi
    ansible-playbook -i inventories/demo/hosts.yml demo/provision.yml
}

models() {
    podman exec "$container" sh -c '
        for f in /home/jada/.claude/settings.json /srv/jada/orchestrator/.claude/settings.json; do
            printf "%-48s %s\n" "$f" "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(\"model\"))" "$f")"
        done
        printf "%-48s %s\n" "jada-agent.service (logged at start)" \
            "$(journalctl -u jada-agent -o cat --no-pager | grep -o "model=[^ ]*" | tail -n 1)"
        systemctl show -p NRestarts -p ActiveEnterTimestamp jada-agent | sed "s/^/    /"'
}

destroy() {
    podman rm -f "$container" >/dev/null 2>&1 || true
    if [ -f "$endpoint_dir/lightsail.pid" ]; then
        kill "$(cat "$endpoint_dir/lightsail.pid")" 2>/dev/null || true
        rm -f "$endpoint_dir/lightsail.pid" "$endpoint_dir/lightsail.port"
    fi
}

case "${1:-}" in
    create) create ;;
    destroy) destroy ;;
    models) models ;;
    *) echo "usage: $0 create|destroy|models" >&2; exit 2 ;;
esac
