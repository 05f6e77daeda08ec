#!/usr/bin/env bash
# The restore drill on both engines, side by side (deploy/restore_drill.py does one): SQLite with
# media in a local folder, PostgreSQL (database h_backup_drill_ci) with media on S3, served by a
# local moto_server. Each backs up, wipes, restores and compares every table and file.
# Usage: deploy/restore_drill.sh [POSTGRES_URL_WITHOUT_DATABASE]   (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG=${1:-postgres://postgres@127.0.0.1:5432}
PORT=${DRILL_S3_PORT:-8590}
work=$(mktemp -d /tmp/mutualis-drill.XXXXXX)
moto_pid=""
cleanup() {
  if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

.venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.2
done

"$PY" deploy/restore_drill.py --database-url "sqlite:///$work/sqlite/drill.sqlite3" --dir "$work/sqlite" \
  >"$work/sqlite.log" 2>&1 &
sqlite_pid=$!
"$PY" deploy/restore_drill.py --database-url "$PG/h_backup_drill_ci" --dir "$work/pg" \
  --storage-url "s3+http://drill:drill-secret@127.0.0.1:$PORT/drill-media?region=us-east-1" \
  >"$work/pg.log" 2>&1 &
pg_pid=$!
status=0
wait "$sqlite_pid" || status=1
wait "$pg_pid" || status=1
cat "$work/sqlite.log" "$work/pg.log"
exit "$status"
