#!/usr/bin/env bash
# Benchmark report (not a test) for forms: saving the draft of a 200-question form, as the
# page's script does, from many connections at once.
# Usage: bench/forms.sh [sqlite|postgres] [connections] [seconds]   (defaults: sqlite 32 10)
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
connections=${2:-32}
seconds=${3:-10}
port=18091
base="http://127.0.0.1:$port"

cargo build --release -q -p portico --bin portico --example formsave
bin=target/release/portico

data=$(mktemp -d)
trap 'kill ${pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
export PORTICO_DATA="$data" PORTICO_LOG_LEVEL=warn PORTICO_PUBLIC_URL="$base"
if [ "$backend" = postgres ]; then
  admin_url=$(scripts/pg-start)
  db="portico_forms_$$"
  psql -q "$admin_url" -c "CREATE DATABASE $db"
  export PORTICO_DATABASE_URL="${admin_url%/*}/$db"
fi

$bin admin create-firm --name "Bench Firm" >/dev/null
staff_link=$($bin admin create-staff --firm bench-firm --email bench@bench.example --name "Bench Person" --role owner | sed -n 's/^set-password link.*: //p')
seeded=$($bin admin seed --firm bench-firm --clients 1 --items 1 --staff bench@bench.example --portal-user client@bench.example)
client_link=$(echo "$seeded" | sed -n 's/^portal user.*set-password link: //p')

$bin serve --bind "127.0.0.1:$port" &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done

password="correct horse battery staple"
sign_in() {
  curl -sf -o /dev/null -H "Origin: $base" --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$2" || true
  curl -s -o /dev/null -D - -H "Origin: $base" --data-urlencode "email=$1" \
    --data-urlencode "password=$password" "$base/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p'
}
staff_cookie=$(sign_in bench@bench.example "$staff_link")
client_cookie=$(sign_in client@bench.example "$client_link")
[ -n "$staff_cookie" ] && [ -n "$client_cookie" ] || { echo "could not sign in" >&2; exit 1; }

echo "backend: $backend"
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
before=$(cpu)
/usr/bin/time -f "load generator CPU: %U s user, %S s system" target/release/examples/formsave "$base" "$staff_cookie" "$client_cookie" "$connections" "$seconds"
echo "server CPU: $(( ($(cpu) - before) / $(getconf CLK_TCK) )) s (includes building the form)"
echo "server peak RSS: $(( $(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
