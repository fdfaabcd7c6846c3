#!/usr/bin/env bash
# Two `lstm-forecast tune` workers sharing one Optuna study in PostgreSQL: Optuna's distributed
# mode, as workers on several machines would run it (here both on this machine).
#
# Starts a throw-away PostgreSQL server from the distribution's packages (initdb into a temporary
# folder, a Unix socket only, no TCP port; as the `postgres` user when run as root, since
# PostgreSQL refuses to run as root), creates a database, runs two workers of the same command
# against one study on the bundled S&P 500 data with a quick config, prints the study's trials
# from the database, stops the server and removes the folder.
#
# Needs: PostgreSQL's server binaries (Debian: apt-get install postgresql; found under
# /usr/lib/postgresql/*/bin or set PG_BIN) and `pip install -e ".[tune-postgres]"`.
# Usage: scripts/tune_postgres.sh [TRIALS]          (PYTHON=path/to/python to choose the venv)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
TRIALS=${1:-6}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ ! -x "$PG_BIN/initdb" ]; then
    echo "error: PostgreSQL's initdb not found (set PG_BIN, or apt-get install postgresql)" >&2
    exit 2
fi

WORK=$(mktemp -d /tmp/tune-postgres.XXXXXX)
chmod 755 "$WORK"
as_postgres() {  # PostgreSQL will not run as root
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir "$WORK/db" "$WORK/socket"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/db" "$WORK/socket"

cleanup() {
    as_postgres "$PG_BIN/pg_ctl" -D "$WORK/db" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') in $WORK/db, socket in $WORK/socket"
as_postgres "$PG_BIN/initdb" -D "$WORK/db" -U tune --auth=trust >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/db" -l "$WORK/db/server.log" -w \
    -o "-c listen_addresses='' -k $WORK/socket" start >/dev/null
as_postgres "$PG_BIN/createdb" -h "$WORK/socket" -U tune optuna
URL="postgresql+psycopg2://tune@/optuna?host=$WORK/socket"

# the quick demo config with a small search space: 2 folds of 20 rows per trial, 3 epochs
cat "$ROOT/configs/quick.toml" > "$WORK/search.toml"
cat >> "$WORK/search.toml" <<'EOF'

[forecast]
samples = 20

[tune]
folds = 2
fold_length = 20
prune_after_trials = 2

[tune.params]
"train.learning_rate" = {log = [3e-4, 3e-2]}
"window.length" = {int = [10, 40], step = 5}
"model.cell" = {choices = ["lstm", "gru"]}
EOF
sed -i 's/^epochs = 5 /epochs = 3 /' "$WORK/search.toml"

echo "== two workers: lstm-forecast tune --storage $URL --study demo --trials $TRIALS --jobs 1"
for worker in 1 2; do
    (cd "$ROOT" && TF_CPP_MIN_LOG_LEVEL=3 "$PYTHON" -m lstm_forecast tune \
        --config "$WORK/search.toml" --storage "$URL" --study demo --trials "$TRIALS" --jobs 1 \
        --out "$WORK/worker$worker" 2>&1 | grep -v -i 'retracing' | sed "s/^/[worker $worker] /") &
done
wait

echo "== the study's trials, as the database holds them"
"$PYTHON" - "$URL" <<'EOF'
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="demo", storage=sys.argv[1])
for trial in study.trials:
    value = "" if trial.value is None else f"{trial.value:+.4f}"
    seconds = trial.duration.total_seconds() if trial.duration else float("nan")
    print(f"trial {trial.number:>2}  {trial.state.name:<8} {value:>8}  {seconds:5.1f} s  "
          f"worker {trial.user_attrs.get('worker', '?'):<14} {trial.params}")
counted = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
print(f"{len(counted)} trials completed or pruned of {len(study.trials)}; "
      f"best: trial {study.best_trial.number}, pooled skill {study.best_value:+.4f}")
EOF
