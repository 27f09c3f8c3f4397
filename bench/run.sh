#!/usr/bin/env bash
# Benchmark report (not a test): throughput and latency of /healthz, the signed-in staff home
# page and client list, and the client dashboard, beside a hello-world axum server; start-up
# time, memory, and the number of SQL statements one dashboard costs. Seeds 10,000 clients
# with BENCH_ITEMS (default 100) matters each, each matter with a comment from the firm.
# Usage: bench/run.sh [sqlite|postgres]   (postgres uses scripts/pg-start)
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
duration=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
items=${BENCH_ITEMS:-100}
port=18080
hello_port=18081
base="http://127.0.0.1:$port"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p portico --bin portico --example hello
bin=target/release/portico

data=$(mktemp -d)
trap 'kill ${pid:-} ${hello_pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
export PORTICO_DATA="$data" PORTICO_LOG_LEVEL=warn PORTICO_PUBLIC_URL="$base"
if [ "$backend" = postgres ]; then
  admin_url=$(scripts/pg-start)
  db="portico_bench_$$"
  psql -q "$admin_url" -c "CREATE DATABASE $db"
  export PORTICO_DATABASE_URL="${admin_url%/*}/$db"
fi

$bin admin create-firm --name "Bench Firm" >/dev/null
link=$($bin admin create-staff --firm bench-firm --email bench@bench.example --name "Bench Person" --role owner | sed -n 's/^set-password link.*: //p')
seeded=$($bin admin seed --firm bench-firm --clients 10000 --items "$items" --staff bench@bench.example \
  --portal-user client@bench.example)
echo "$seeded" | head -1
client_link=$(echo "$seeded" | sed -n 's/^portal user.*set-password link: //p')

start=$(date +%s%N)
$bin serve --bind "127.0.0.1:$port" &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done
ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 1
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

password="correct horse battery staple"
curl -sf -o /dev/null -H "Origin: $base" --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$link"
cookie=$(curl -s -o /dev/null -D - -H "Origin: $base" --data-urlencode "email=bench@bench.example" \
  --data-urlencode "password=$password" "$base/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
curl -sf -H "Cookie: $cookie" "$base/staff" | grep -q "Bench Person"
curl -sf -o /dev/null -H "Origin: $base" --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$client_link"
client_cookie=$(curl -s -o /dev/null -D - -H "Origin: $base" --data-urlencode "email=client@bench.example" \
  --data-urlencode "password=$password" "$base/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
curl -sf -H "Cookie: $client_cookie" "$base/portal" | grep -q "See all ($items)" \
  || { echo "the client dashboard does not show the seeded matters" >&2; exit 1; }

target/release/examples/hello "127.0.0.1:$hello_port" &
hello_pid=$!
until curl -sf "http://127.0.0.1:$hello_port/" >/dev/null; do sleep 0.005; done

measure() { # name url [header]
  local name=$1 url=$2; shift 2
  local out
  out=$(wrk -t2 -c"$conns" -d"${duration}s" --latency "$@" "$url")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '%-28s %12s req/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
}

echo
echo "backend: $backend, $conns connections, ${duration}s each, seeded 10,000 clients x $items matters"
measure "hello-world axum" "http://127.0.0.1:$hello_port/"
measure "portico /healthz" "$base/healthz"
measure "portico signed-in /staff" "$base/staff" -H "Cookie: $cookie"
measure "staff client list" "$base/staff/clients?page=100" -H "Cookie: $cookie"
measure "staff client search" "$base/staff/clients?q=Client+09" -H "Cookie: $cookie"
measure "client dashboard /portal" "$base/portal" -H "Cookie: $client_cookie"
peak_rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "ready after start: ${ready_ms} ms"
echo "idle RSS: $((idle_rss / 1024)) MiB; peak RSS under load: $((peak_rss / 1024)) MiB"

# Statements per dashboard: restart with SQL statement logging and render it once.
kill "$pid"; wait "$pid" 2>/dev/null || true
PORTICO_LOG_LEVEL="warn,sqlx::query=debug" $bin serve --bind "127.0.0.1:$port" >"$data/sql.log" 2>&1 &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done
: >"$data/sql.log"
curl -sf -o /dev/null -H "Cookie: $client_cookie" "$base/portal"
sleep 0.2
# Background work (the live-update signal reader, the job worker) is left out of the count.
grep -a 'sqlx::query' "$data/sql.log" | grep -a -v -e 'FROM signals' -e 'jobs' -e 'GROUP BY n.user_id' >"$data/page.log" || true
echo "SQL statements per client dashboard render: $(wc -l <"$data/page.log")"
