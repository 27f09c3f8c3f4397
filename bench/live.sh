#!/usr/bin/env bash
# Benchmark report (not a test) for messaging: send-to-event latency of live updates with many
# open streams on one server, and paging a conversation of 10,000 messages.
# Usage: bench/live.sh [sqlite|postgres] [streams] [conversations] [messages] [pace_ms]
#   defaults: 500 streams over 100 conversations, 200 messages 20 ms apart; pass 500 1 50 100
#   for the extreme of every stream watching the same conversation.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
streams=${2:-500}
conversations=${3:-100}
messages=${4:-200}
pace=${5:-20}
port=18090
base="http://127.0.0.1:$port"

cargo build --release -q -p portico --bin portico --example live
bin=target/release/portico

data=$(mktemp -d)
trap 'kill ${pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
export PORTICO_DATA="$data" PORTICO_LOG_LEVEL=warn PORTICO_PUBLIC_URL="$base"
if [ "$backend" = postgres ]; then
  admin_url=$(scripts/pg-start)
  db="portico_live_$$"
  psql -q "$admin_url" -c "CREATE DATABASE $db"
  export PORTICO_DATABASE_URL="${admin_url%/*}/$db"
fi
ulimit -n 4096 2>/dev/null || true

$bin admin create-firm --name "Bench Firm" >/dev/null
$bin admin create-staff --firm bench-firm --email bench@bench.example --name "Bench Person" --role owner >/dev/null
seeded=$($bin admin seed --firm bench-firm --clients 1 --items 1 --staff bench@bench.example --portal-user client@bench.example)
client_link=$(echo "$seeded" | sed -n 's/^portal user.*set-password link: //p')
token=$($bin admin create-api-token --firm bench-firm --email bench@bench.example --name bench)

$bin serve --bind "127.0.0.1:$port" &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done

password="correct horse battery staple"
curl -sf -o /dev/null -H "Origin: $base" --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$client_link"
cookie=$(curl -s -o /dev/null -D - -H "Origin: $base" --data-urlencode "email=client@bench.example" \
  --data-urlencode "password=$password" "$base/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }

echo "backend: $backend"
target/release/examples/live "$base" "$token" "$cookie" "$streams" "$conversations" "$messages" "$pace"
echo "server peak RSS: $(( $(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
