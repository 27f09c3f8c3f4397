#!/usr/bin/env bash
# Benchmark report (not a test): throughput and latency of /healthz, the signed-in staff home
# page, client list and search, and the client dashboard, each as a percentage of a
# hello-world axum server measured in the same rounds (three rounds, interleaved); latency
# under a light load; start-up time, memory, pages kept, and the SQL statements each page
# costs on a repeat visit (from the server's own per-route counters). Seeds 10,000 clients
# with BENCH_ITEMS (default 100) matters each, each matter with a comment from the firm.
# Usage: bench/run.sh [sqlite|postgres|both]   (postgres uses scripts/pg-start)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-sqlite}" = both ]; then
  "$0" sqlite
  exec "$0" postgres
fi
backend=${1:-sqlite}
duration=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
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

# wrk's figures for one URL: requests/s, p50 and p99 (in wrk's units).
wrk_run() { # connections url [header]
  local c=$1 url=$2; shift 2
  local out
  out=$(wrk -t2 -c"$c" -d"${duration}s" --latency "$@" "$url")
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1 == "50%" {print $2}') $(echo "$out" | awk '$1 == "99%" {print $2}')"
}

names=("portico /healthz" "signed-in staff home /staff" "staff client list, page 100" "staff client search" "client dashboard /portal")
urls=("$base/healthz" "$base/staff" "$base/staff/clients?page=100" "$base/staff/clients?q=Client+09" "$base/portal")
cookies=("" "$cookie" "$cookie" "$cookie" "$client_cookie")
declare -A pct

echo
echo "backend: $backend, $conns connections, ${duration}s each, $rounds rounds; seeded 10,000 clients x $items matters"
for round in $(seq 1 "$rounds"); do
  read -r hello_rps hello_p50 hello_p99 <<<"$(wrk_run "$conns" "http://127.0.0.1:$hello_port/")"
  printf '\nround %s\n%-30s %10s req/s   p50 %8s   p99 %8s\n' "$round" "hello-world axum" "$hello_rps" "$hello_p50" "$hello_p99"
  for i in "${!names[@]}"; do
    if [ -n "${cookies[$i]}" ]; then
      read -r rps p50 p99 <<<"$(wrk_run "$conns" "${urls[$i]}" -H "Cookie: ${cookies[$i]}")"
    else
      read -r rps p50 p99 <<<"$(wrk_run "$conns" "${urls[$i]}")"
    fi
    share=$(awk -v a="$rps" -v b="$hello_rps" 'BEGIN { printf "%.1f", 100 * a / b }')
    pct[$i]="${pct[$i]:-} $share"
    printf '%-30s %10s req/s   p50 %8s   p99 %8s   %5s%% of hello-world\n' "${names[$i]}" "$rps" "$p50" "$p99" "$share"
  done
done
echo
echo "median share of hello-world over $rounds rounds:"
for i in "${!names[@]}"; do
  median=$(echo "${pct[$i]}" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '  %-30s %5s%%\n' "${names[$i]}" "$median"
done

echo
echo "light load (4 connections): latency well below the peak"
for i in 1 4; do
  read -r rps p50 p99 <<<"$(wrk_run 4 "${urls[$i]}" -H "Cookie: ${cookies[$i]}")"
  printf '  %-30s %10s req/s   p50 %8s   p99 %8s\n' "${names[$i]}" "$rps" "$p50" "$p99"
done

peak_rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
now_rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
metric() { curl -sf "$base/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
echo
echo "ready after start: ${ready_ms} ms"
echo "RSS idle: $((idle_rss / 1024)) MiB; after the load: $((now_rss / 1024)) MiB; peak: $((peak_rss / 1024)) MiB"
echo "pages kept: $(metric portico_pages_kept)"

# Statements per repeat visit, from the per-route counters: visit once, then count five more.
echo
echo "SQL statements per page on a repeat visit (the session check included):"
for i in 1 2 3 4; do
  route=$(echo "${urls[$i]}" | sed -e "s#^$base##" -e 's#?.*##')
  curl -sf -o /dev/null -H "Cookie: ${cookies[$i]}" "${urls[$i]}"
  r0=$(metric "portico_route_requests_total{route=\"$route\"}"); s0=$(metric "portico_route_sql_statements_total{route=\"$route\"}")
  for _ in 1 2 3 4 5; do curl -sf -o /dev/null -H "Cookie: ${cookies[$i]}" "${urls[$i]}"; done
  r1=$(metric "portico_route_requests_total{route=\"$route\"}"); s1=$(metric "portico_route_sql_statements_total{route=\"$route\"}")
  printf '  %-30s %s\n' "${names[$i]}" "$(awk -v a="$((s1 - s0))" -v b="$((r1 - r0))" 'BEGIN { printf "%.1f", a / b }')"
done

# The same for the dashboard, read from the database driver's own statement log.
kill "$pid"; wait "$pid" 2>/dev/null || true
PORTICO_LOG_LEVEL="warn,sqlx::query=debug" $bin serve --bind "127.0.0.1:$port" >"$data/sql.log" 2>&1 &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done
curl -sf -o /dev/null -H "Cookie: $client_cookie" "$base/portal"
sleep 0.3
: >"$data/sql.log"
curl -sf -o /dev/null -H "Cookie: $client_cookie" "$base/portal"
sleep 0.3
# Background work (the live-update signal reader, the job worker) is left out of the count.
grep -a 'sqlx::query' "$data/sql.log" | grep -a -v -e 'FROM signals' -e 'jobs' -e 'GROUP BY n.user_id' >"$data/page.log" || true
echo "  statements logged by the driver for a repeat dashboard visit: $(wc -l <"$data/page.log")"
