#!/usr/bin/env bash
# Benchmark report (not a test): memory and latency under a sign-in storm, and connections
# held by idle clients. Against the release binary on 127.0.0.1 only, bounded in count and time:
#   - peak RSS of the server while 200 connections post wrong passwords to /login, each from
#     its own address and nearly all for accounts of their own, so that nearly every one is an
#     argon2id hash of 19 MiB (at most http.hash_parallelism at once), for BENCH_SECONDS;
#   - p99 latency of /login (GET) from 4 other connections meanwhile;
#   - file descriptors the server holds with 2,000 idle clients connected, at once and after the
#     header timeout, once with the default (10 s) and once with an hour (as before that
#     timeout existed).
# Usage: bench/signin.sh   (SQLite)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_SECONDS:-15}
port=18090
base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
[ -x target/release/portico ] || cargo build --release -q -p portico --bin portico
bin=target/release/portico
ulimit -n 8192

data=$(mktemp -d)
trap 'kill ${pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
export PORTICO_DATA="$data" PORTICO_LOG_LEVEL=error PORTICO_PUBLIC_URL="$base"
$bin admin create-firm --name "Bench Firm" >/dev/null
$bin admin create-staff --firm bench-firm --email bench@bench.example --name "Bench" --role owner >/dev/null

start_server() { # extra environment...
  env "$@" $bin serve --bind "127.0.0.1:$port" &
  pid=$!
  until curl -sf "$base/healthz" >/dev/null; do sleep 0.05; done
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
fds() { ls "/proc/$pid/fd" | wc -l; }

# Sign-in storm: every attempt from its own address (through the client-address header, as
# behind a load balancer) and nearly all for accounts of their own, so the sign-in throttle
# refuses almost nothing and nearly every attempt is a full hash; 429s are counted apart.
start_server PORTICO_HTTP_CLIENT_IP_HEADER=x-forwarded-for
lua=$(mktemp)
cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$base"
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init()
  n = 0
  hashed = 0
  throttled = 0
end
function request()
  n = n + 1
  local who = (n % 50 == 0) and "bench@bench.example" or ("nobody" .. id .. "-" .. n .. "@bench.example")
  wrk.headers["X-Forwarded-For"] = "10." .. id .. "." .. (math.floor(n / 250) % 250) .. "." .. (n % 250 + 1)
  return wrk.format(nil, "/login", nil, "email=" .. who .. "&password=wrong+password+" .. n)
end
function response(status)
  if status == 401 then hashed = hashed + 1 elseif status == 429 then throttled = throttled + 1 end
end
function done()
  local h, t = 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hashed")
    t = t + thread:get("throttled")
  end
  io.write(string.format("ANSWERS %d %d\n", h, t))
end
LUA
idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
wrk -t2 -c200 -d"${duration}s" --timeout 30s -s "$lua" "$base/login" >"$data/storm.txt" &
storm=$!
sleep 1
other=$(wrk -t1 -c4 -d"$((duration - 2))s" --latency "$base/login")
wait "$storm"
peak_rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
p99=$(echo "$other" | awk '$1 == "99%" {print $2}')
other_rps=$(echo "$other" | awk '/Requests\/sec/ {print $2}')
read -r hashed throttled < <(awk '/^ANSWERS/ {print $2, $3}' "$data/storm.txt")
stop_server
rm -f "$lua"

echo "sign-in storm, 200 connections, ${duration}s:"
printf '  RSS idle %d MiB, peak %d MiB (target under 150 MiB)\n' $((idle_rss / 1024)) $((peak_rss / 1024))
printf '  attempts answered: %d refused after a full hash (401), %d throttled (429)\n' "$hashed" "$throttled"
printf '  GET /login from 4 other connections meanwhile: %s/s, p99 %s\n' "$other_rps" "$p99"

# Idle clients.
idle_clients() { # label, header timeout
  start_server PORTICO_HTTP_HEADER_TIMEOUT_SECS="$2"
  local before; before=$(fds)
  python3 - "$port" <<'PY' &
import socket, sys, time
held = []
for _ in range(2000):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
    except BlockingIOError:
        pass
    held.append(s)
time.sleep(16)
PY
  local clients=$!
  sleep 3
  local during; during=$(fds)
  sleep 10
  local after; after=$(fds)
  local served; served=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$base/healthz" || true)
  wait "$clients" || true
  stop_server
  printf '  %-34s fds: %5d alone, %5d 3 s after 2,000 idle clients connect, %5d 13 s after; /healthz then: %s\n' \
    "$1" "$before" "$during" "$after" "$served"
}
echo "2,000 idle clients (http.max_connections 1000):"
idle_clients "header timeout 3600 s (as before)" 3600
idle_clients "header timeout 10 s (default)" 10
