#!/usr/bin/env bash
# Benchmark report (not a test) for files on local disk: upload and download throughput through
# Portico (signed in, permission check, audit event per download) beside tower-http's ServeFile
# serving the very same stored file, both fetched with curl; and how much the server's peak
# memory grows; and the same upload made resumable (tus), in one request and in 64 MiB ones.
# Usage: bench/files.sh [size_mib ...]   (default: 100 2048)
# With PORTICO_STORAGE_ENCRYPTION_KEY set, files are sealed at rest: the bytes are checked by
# downloading them instead, and ServeFile serves the sealed object for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 2048)
port=18100
serve_port=18101
base="http://127.0.0.1:$port"

cargo build --release -q -p portico --bin portico --example servefile
bin=target/release/portico

data=$(mktemp -d -p "${BENCH_DIR:-$PWD/target}")
trap 'kill ${pid:-} ${serve_pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
export PORTICO_DATA="$data" PORTICO_LOG_LEVEL=warn PORTICO_PUBLIC_URL="$base"

$bin admin create-firm --name "Bench Firm" >/dev/null
link=$($bin admin create-staff --firm bench-firm --email bench@bench.example --name "Bench Person" --role owner | sed -n 's/^set-password link.*: //p')
$bin admin seed --firm bench-firm --clients 1 --items 1 >/dev/null
token=$($bin admin create-api-token --firm bench-firm --email bench@bench.example --name bench)

$bin serve --bind "127.0.0.1:$port" &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done
password="correct horse battery staple"
curl -sf -o /dev/null -H "Origin: $base" --data-urlencode "password=$password" --data-urlencode "confirm=$password" "$link"
cookie=$(curl -s -o /dev/null -D - -H "Origin: $base" --data-urlencode "email=bench@bench.example" \
  --data-urlencode "password=$password" "$base/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
client=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/clients" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
files_page="$base/staff/clients/$client/files"
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

echo "local disk, SQLite; curl for every transfer; each download three times, median"
for size in "${sizes[@]}"; do
  file="$data/upload-$size.bin"
  head -c "$((size * 1048576))" /dev/urandom >"$file"
  before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  csrf=$(curl -sf -H "Cookie: $cookie" "$files_page" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
  up=$(curl -s -o /dev/null -w '%{speed_upload} %{http_code}' -H "Cookie: $cookie" -H "Origin: $base" \
    -F "csrf=$csrf" -F "file=@$file;filename=upload-$size.bin" "$files_page/upload")
  [ "${up#* }" = 303 ] || { echo "upload failed: $up" >&2; exit 1; }
  id=$(curl -sf -H "Cookie: $cookie" "$files_page" | grep -o "/files/[0-9a-f-]*\">upload-$size.bin" | head -1 | cut -d/ -f3 | cut -d'"' -f1)
  # The same bytes again as resumable uploads (tus, through the API): once in one request
  # (as the page sends a file), once in 64 MiB requests (joined when the last one arrives);
  # the time from creating the upload to the answer of its last request.
  bytes=$((size * 1048576))
  resumable() { # request size in bytes
    local meta t0 t1 loc offset n
    meta="filename $(printf 'resumable-%s-%s.bin' "$size" "$1" | base64 -w0),client $(printf '%s' "$client" | base64 -w0)"
    t0=$(date +%s.%N)
    loc=$(curl -s -D - -o /dev/null -X POST -H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" \
      -H "Upload-Length: $bytes" -H "Upload-Metadata: $meta" "$base/api/v1/uploads" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    offset=0
    while [ "$offset" -lt "$bytes" ]; do
      n=$((bytes - offset < $1 ? bytes - offset : $1))
      if [ "$n" -eq "$bytes" ]; then
        curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" \
          -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" -T "$file" "$base$loc"
      else
        dd if="$file" bs=4M iflag=skip_bytes,count_bytes skip="$offset" count="$n" status=none |
          curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" \
            -H "Upload-Offset: $offset" -H "Content-Type: application/offset+octet-stream" --data-binary @- "$base$loc"
      fi
      offset=$((offset + n))
    done
    t1=$(date +%s.%N)
    awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1048576 }'
  }
  whole=$(resumable "$bytes")
  parted=$(resumable 67108864)
  stored=$(find "$data/files" -name "$id" -type f)
  if [ -n "${PORTICO_STORAGE_ENCRYPTION_KEY:-}" ]; then
    curl -sf -H "Cookie: $cookie" "$base/files/$id" | cmp -s "$file" - || { echo "downloaded bytes differ" >&2; exit 1; }
  else
    cmp -s "$file" "$stored" || { echo "stored bytes differ" >&2; exit 1; }
  fi
  ./target/release/examples/servefile "127.0.0.1:$serve_port" "$stored" &
  serve_pid=$!
  until curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$serve_port/file"; do sleep 0.005; done
  portico=() bare=()
  for _ in 1 2 3; do
    portico+=("$(curl -s -o /dev/null -w '%{speed_download}' -H "Cookie: $cookie" "$base/files/$id")")
    bare+=("$(curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$serve_port/file")")
  done
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  after=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  p=$(median3 "${portico[@]}"); s=$(median3 "${bare[@]}")
  printf '%5s MiB: upload %5s MiB/s, resumable %5s MiB/s in one request, %5s MiB/s in 64 MiB requests; download %5s MiB/s, ServeFile %5s MiB/s (%s%%); peak RSS %s -> %s MiB\n' \
    "$size" "$(mib "${up% *}")" "$whole" "$parted" "$(mib "$p")" "$(mib "$s")" "$(awk -v a="$p" -v b="$s" 'BEGIN { printf "%.0f", 100 * a / b }')" \
    "$((before / 1024))" "$((after / 1024))"
  rm -f "$file"
done
