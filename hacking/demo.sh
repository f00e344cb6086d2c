#!/usr/bin/env bash
# The demo orchestrator: a local systemd container named jada-agent-demo, host `jada-agent` of inventories/demo.
#   demo.sh create    start it (if missing) with the local Messages API stand-in inside, install the pinned Claude
#                     Code CLI through jada.agent.orchestrator and run it as jada-agent.service on claude-haiku-4-5,
#                     and start the local Lightsail endpoint that answers for its instance (preflight)
#   demo.sh destroy   remove both
#   demo.sh models    print the model each settings file holds, then ask the running agent one task and print
#                     which model answered it: from the agent's own result and from the API stand-in's request log
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
        # No network but loopback: the real CLI reaches only the Messages API stand-in inside the container.
        podman run -d --name "$container" --hostname jada-agent --network none "$JADA_TEST_IMAGE" >/dev/null
        # systemd needs a moment before its bus answers.
        for _ in $(seq 50); do
            podman exec "$container" systemctl is-system-running --wait >/dev/null 2>&1 && break
            sleep 0.2
        done
    fi
    ansible-playbook -i inventories/demo/hosts.yml demo/provision.yml
}

models() {
    local answer
    podman exec "$container" sh -c '
        for f in /home/jada/.claude/settings.json /srv/jada/orchestrator/.claude/settings.json; do
            printf "%-48s %s\n" "$f" "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(\"model\"))" "$f")"
        done'
    answer=$(ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.posix.json \
        ansible -i inventories/demo/hosts.yml jada-agent --become -m jada.agent.agent_task -a 'fail_on_error=false')
    printf '%-48s %s\n' "answered by (the agent's own result)" "$(python -c '
import json, sys
result = json.load(sys.stdin)["plays"][0]["tasks"][0]["hosts"]["jada-agent"]
print(" ".join(result.get("answered_by") or ["nobody"]), "(error)" if result.get("is_error") else "")' <<<"$answer")"
    printf '%-48s %s\n' "requested (Messages API stand-in's log)" "$(podman exec "$container" \
        python3 -c 'import json; print(json.loads(open("/var/lib/jada-messages-api/requests.jsonl").readlines()[-1])["model"])')"
    podman exec "$container" systemctl show -p NRestarts -p ActiveEnterTimestamp jada-agent | sed "s/^/    /"
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
