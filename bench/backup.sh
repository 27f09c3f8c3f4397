#!/usr/bin/env bash
# Benchmark report (not a test): time and size of `portico backup`, `backup verify` and
# `restore` for the bench seed of bench/run.sh (10,000 clients with BENCH_ITEMS matters each,
# default 100, each matter with a comment from the firm), plus BENCH_FILES uploaded files
# (default 200, 256 KiB each, sealed with a master key) so the archive carries objects too.
# Usage: bench/backup.sh [sqlite|postgres]   (postgres uses scripts/pg-start)
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
items=${BENCH_ITEMS:-100}
files=${BENCH_FILES:-200}
port=18082
base="http://127.0.0.1:$port"
cargo build --release -q -p portico --bin portico
bin=$PWD/target/release/portico

data=$(mktemp -d)
trap 'kill ${pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
export PORTICO_DATA="$data/live" PORTICO_LOG_LEVEL=warn PORTICO_PUBLIC_URL="$base"
export PORTICO_STORAGE_ENCRYPTION_KEY
PORTICO_STORAGE_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
if [ "$backend" = postgres ]; then
  admin_url=$(scripts/pg-start)
  live_db="portico_bench_backup_$$"
  restored_db="portico_bench_restored_$$"
  psql -q "$admin_url" -c "CREATE DATABASE $live_db" -c "CREATE DATABASE $restored_db"
  export PORTICO_DATABASE_URL="${admin_url%/*}/$live_db"
fi
mkdir -p "$PORTICO_DATA"

secs() { # command... : runs it, prints the seconds it took
  local t0; t0=$(date +%s%N)
  "$@" >/dev/null
  awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

$bin admin create-firm --name "Bench Firm" >/dev/null
link=$($bin admin create-staff --firm bench-firm --email bench@bench.example --name "Bench Person" --role owner | sed -n 's/^set-password link.*: //p')
$bin admin seed --firm bench-firm --clients 10000 --items "$items" --staff bench@bench.example \
  --portal-user client@bench.example | sed -n 1p

# Files, uploaded through the pages by staff, so they are stored as in use.
$bin serve --bind "127.0.0.1:$port" &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.05; done
password="correct horse battery staple"
curl -sf -o /dev/null -H "Origin: $base" --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$link"
cookie=$(curl -s -o /dev/null -D - -H "Origin: $base" --data-urlencode "email=bench@bench.example" \
  --data-urlencode "password=$password" "$base/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
client=$(curl -sf -H "Cookie: $cookie" "$base/staff/clients" | grep -o 'href="/staff/clients/[0-9a-f-]\{36\}"' | head -1 | grep -o '[0-9a-f-]\{36\}')
files_page="$base/staff/clients/$client/files"
csrf=$(curl -sf -H "Cookie: $cookie" "$files_page" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
head -c 262144 /dev/urandom >"$data/blob"
for n in $(seq 1 "$files"); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" -H "Origin: $base" \
    -F "csrf=$csrf" -F "folder=" -F "file=@$data/blob;filename=scan-$n.pdf;type=application/pdf" "$files_page/upload")
  [ "$code" = 303 ] || { echo "upload $n answered $code" >&2; exit 1; }
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

archive="$data/backup.tar"
backup_s=$(secs $bin backup "$archive")
size=$(stat -c %s "$archive")
verify_s=$(secs $bin backup verify "$archive")

# Restore into an empty database and empty storage, with the same key.
export PORTICO_DATA="$data/restored"
mkdir -p "$PORTICO_DATA"
[ "$backend" = postgres ] && export PORTICO_DATABASE_URL="${admin_url%/*}/$restored_db"
restore_s=$(secs $bin restore "$archive")

echo "backend: $backend; 10,000 clients x $items matters, $files files of 256 KiB"
printf '  backup  %6s s, archive %d MiB\n' "$backup_s" $((size / 1048576))
printf '  verify  %6s s\n' "$verify_s"
printf '  restore %6s s\n' "$restore_s"
if [ "$backend" = postgres ]; then
  psql -q "$admin_url" -c "DROP DATABASE $live_db" -c "DROP DATABASE $restored_db"
fi
