#!/usr/bin/env bash
# A real Temporal cluster on this machine, without containers: PostgreSQL (Debian's package, a private database
# cluster under $CLUSTER_DIR) and the four Temporal services (frontend, history, matching, worker) as separate
# processes of one server build, plus the Temporal UI when it builds. See docs/deployment.md.
#
#   bash scripts/cluster.sh up       build once (cached under .tools/), start what is not running, print the address
#   bash scripts/cluster.sh up --tls the same, plus a second frontend that requires mTLS (certificates made by openssl
#                                    in $CLUSTER_DIR/tls); later `up`s keep it until `down`
#   bash scripts/cluster.sh status   what runs, where
#   bash scripts/cluster.sh down     stop what `up` started (by its pid files), check no port is left open
#
# Environment: CLUSTER_DIR (default .data/cluster: data, pid files, logs/), CLUSTER_PORT_BASE (default 17000: the
# frontend listens on base+233, the mTLS frontend on base+236, PostgreSQL on base+432, the UI on base+880),
# CLUSTER_LOG_LEVEL (default warn).
set -euo pipefail

cd "$(dirname "$0")/.."
PROJECT_DIR=$PWD

# Pinned: the version docker-compose.yml runs (temporalio/auto-setup); docs/deployment.md says why this one.
TEMPORAL_SERVER_VERSION=1.29.1
TEMPORAL_UI_VERSION=2.31.2
NAMESPACE=default
NAMESPACE_RETENTION=24h
# Started in this order: on a fresh database one service must write the cluster metadata before the others start.
SERVICES=(history matching frontend worker)

CLUSTER_DIR=${CLUSTER_DIR:-$PROJECT_DIR/.data/cluster}
case $CLUSTER_DIR in /*) ;; *) CLUSTER_DIR=$PROJECT_DIR/$CLUSTER_DIR ;; esac
LOG_DIR=$CLUSTER_DIR/logs
RUN_DIR=$CLUSTER_DIR/run
TOOLS_DIR=$PROJECT_DIR/.tools
SERVER_DIR=$TOOLS_DIR/temporal-server-$TEMPORAL_SERVER_VERSION
UI_DIR=$TOOLS_DIR/temporal-ui-$TEMPORAL_UI_VERSION
SERVER_BIN=$SERVER_DIR/temporal-server
SQL_TOOL=$SERVER_DIR/temporal-sql-tool
UI_BIN=$UI_DIR/temporal-ui-server

PORT_BASE=${CLUSTER_PORT_BASE:-17000}

say() { printf 'cluster: %s\n' "$*" >&2; }
fail() { printf 'cluster: ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/apt-install.sh
. "$PROJECT_DIR/scripts/lib/apt-install.sh"

[[ $PORT_BASE =~ ^[0-9]+$ ]] && [ "$PORT_BASE" -ge 1024 ] && [ "$PORT_BASE" -le 64000 ] \
  || fail "CLUSTER_PORT_BASE=$PORT_BASE: give a number from 1024 to 64000 (the services listen on base+233 … base+939)"

export CLUSTER_CONFIG_DIR=$PROJECT_DIR/config/cluster
export CLUSTER_LOG_LEVEL=${CLUSTER_LOG_LEVEL:-warn}
export CLUSTER_POSTGRES_PORT=$((PORT_BASE + 432))
export CLUSTER_FRONTEND_PORT=$((PORT_BASE + 233)) CLUSTER_FRONTEND_HTTP_PORT=$((PORT_BASE + 243)) CLUSTER_FRONTEND_MEMBERSHIP_PORT=$((PORT_BASE + 933))
export CLUSTER_HISTORY_PORT=$((PORT_BASE + 234)) CLUSTER_HISTORY_MEMBERSHIP_PORT=$((PORT_BASE + 934))
export CLUSTER_MATCHING_PORT=$((PORT_BASE + 235)) CLUSTER_MATCHING_MEMBERSHIP_PORT=$((PORT_BASE + 935))
export CLUSTER_WORKER_PORT=$((PORT_BASE + 239)) CLUSTER_WORKER_MEMBERSHIP_PORT=$((PORT_BASE + 939))
# The mTLS frontend (`up --tls`, config/cluster/temporal_tls.yaml) and its certificates.
export CLUSTER_FRONTEND_TLS_PORT=$((PORT_BASE + 236)) CLUSTER_FRONTEND_TLS_HTTP_PORT=$((PORT_BASE + 246)) CLUSTER_FRONTEND_TLS_MEMBERSHIP_PORT=$((PORT_BASE + 936))
export CLUSTER_TLS_DIR=$CLUSTER_DIR/tls
TLS_ADDRESS=127.0.0.1:$CLUSTER_FRONTEND_TLS_PORT
UI_PORT=$((PORT_BASE + 880))
ADDRESS=127.0.0.1:$CLUSTER_FRONTEND_PORT

# The ports one service listens on, the one that tells it is up first: gRPC, membership, metrics (and HTTP for the
# frontend). The worker service serves no gRPC: its membership port tells.
service_ports() {
  case $1 in
    frontend) echo "$CLUSTER_FRONTEND_PORT $CLUSTER_FRONTEND_MEMBERSHIP_PORT $CLUSTER_FRONTEND_HTTP_PORT $((PORT_BASE + 900))" ;;
    history) echo "$CLUSTER_HISTORY_PORT $CLUSTER_HISTORY_MEMBERSHIP_PORT $((PORT_BASE + 901))" ;;
    matching) echo "$CLUSTER_MATCHING_PORT $CLUSTER_MATCHING_MEMBERSHIP_PORT $((PORT_BASE + 902))" ;;
    worker) echo "$CLUSTER_WORKER_MEMBERSHIP_PORT $CLUSTER_WORKER_PORT $((PORT_BASE + 903))" ;;
    frontend-tls) echo "$CLUSTER_FRONTEND_TLS_PORT $CLUSTER_FRONTEND_TLS_MEMBERSHIP_PORT $CLUSTER_FRONTEND_TLS_HTTP_PORT $((PORT_BASE + 904))" ;;
    ui) echo "$UI_PORT" ;;
  esac
}
metrics_port() { service_ports "$1" | awk '{print $NF}'; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------------------------------
# Builds, cached under .tools/

go_install() { # log dir packages@version…
  local log=$1 bin=$2
  shift 2
  command -v go >/dev/null || fail "Go is needed to build $*: install Go 1.25 or newer (https://go.dev/dl, or your distribution's golang package)"
  GOTOOLCHAIN=local GOBIN=$bin go install -ldflags='-s -w' "$@" >>"$log" 2>&1
}

module_dir() { command -v go >/dev/null && GOTOOLCHAIN=local go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

build_server() {
  [ -f "$SERVER_DIR/.complete" ] && return 0
  local partial=$SERVER_DIR.partial log=$LOG_DIR/build-server.log started=$SECONDS
  rm -rf "$partial"
  mkdir -p "$partial/bin"
  say "building the Temporal server $TEMPORAL_SERVER_VERSION and its SQL tool (minutes the first time; log: $log)"
  go_install "$log" "$partial/bin" "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION" \
    || fail "building go.temporal.io/server@v$TEMPORAL_SERVER_VERSION failed: see $log (the last lines say why; a 'go: ... requires go >=' line means a newer Go is needed)"
  mv "$partial/bin/server" "$partial/temporal-server"
  mv "$partial/bin/sql" "$partial/temporal-sql-tool"
  rmdir "$partial/bin"
  local module
  module=$(module_dir "go.temporal.io/server@v$TEMPORAL_SERVER_VERSION") && [ -d "$module/schema/postgresql/v12" ] \
    || fail "cannot find schema/postgresql/v12 in the go.temporal.io/server@v$TEMPORAL_SERVER_VERSION module; see $log"
  mkdir -p "$partial/schema/postgresql"
  cp -R "$module/schema/postgresql/v12" "$partial/schema/postgresql/"
  chmod -R u+w "$partial/schema"
  echo $((SECONDS - started)) >"$partial/build-seconds"
  touch "$partial/.complete"
  rm -rf "$SERVER_DIR"
  mv "$partial" "$SERVER_DIR"
  say "built the Temporal server $TEMPORAL_SERVER_VERSION in $((SECONDS - started)) s ($SERVER_DIR)"
}

# The UI is optional: a failed build is remembered (delete $UI_DIR to try again) and the cluster runs without it.
# ui-server's go.mod has a replace directive, which `go install pkg@version` refuses: build it as the main module.
build_ui() {
  [ -f "$UI_DIR/.complete" ] || [ -f "$UI_DIR/.unavailable" ] && return 0
  local partial=$UI_DIR.partial log=$LOG_DIR/build-ui.log started=$SECONDS module
  rm -rf "$partial"
  mkdir -p "$partial"
  say "building the Temporal UI $TEMPORAL_UI_VERSION (github.com/temporalio/ui-server/v2, which embeds the built UI; log: $log)"
  if module=$(module_dir "github.com/temporalio/ui-server/v2@v$TEMPORAL_UI_VERSION" 2>>"$log") && [ -d "$module/cmd/server" ] \
    && cp -R "$module" "$partial/src" && chmod -R u+w "$partial/src" \
    && (cd "$partial/src" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -ldflags='-s -w' -o "$partial/temporal-ui-server" ./cmd/server) >>"$log" 2>&1; then
    touch "$partial/.complete"
    say "built the Temporal UI $TEMPORAL_UI_VERSION in $((SECONDS - started)) s"
  else
    tail -n 5 "$log" >"$partial/.unavailable"
    say "the Temporal UI $TEMPORAL_UI_VERSION did not build (see $log); the cluster runs without a UI"
  fi
  rm -rf "$partial/src"
  rm -rf "$UI_DIR"
  mv "$partial" "$UI_DIR"
}

temporal_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then echo "$TEMPORAL_CLI_PATH"; return; fi
  if command -v temporal >/dev/null && temporal --version >/dev/null 2>&1; then echo temporal; return; fi
  [ -x "$TOOLS_DIR/temporal-venv/bin/temporal" ] && { echo "$TOOLS_DIR/temporal-venv/bin/temporal"; return; }
  fail "no Temporal CLI (it creates the namespace and search attributes): run bash scripts/setup.sh, or set TEMPORAL_CLI_PATH"
}

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: Debian's package, a private database cluster on loopback only

pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_postgresql() {
  [ -n "$(pg_bin_dir)" ] && return 0
  apt_install postgresql
  [ -n "$(pg_bin_dir)" ] || fail "postgresql is installed but /usr/lib/postgresql/*/bin is not there"
}

# PostgreSQL refuses to run as root: as root, its tools run as the postgres user the package created.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Sets PGDATA and PGLOG. As root, PostgreSQL runs as the postgres user, which must reach its data and log: when
# $CLUSTER_DIR is closed to it (say, under /root), they go under /var/tmp, in a directory named after $CLUSTER_DIR,
# and logs/postgresql.log links there.
locate_postgres() {
  local home=$CLUSTER_DIR
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$CLUSTER_DIR" 2>/dev/null; then
    home=/var/tmp/compose-publisher-cluster-$(printf '%s' "$CLUSTER_DIR" | sha1sum | cut -c1-12)
  fi
  PGDATA=$home/postgres
  PGLOG=$home/postgresql.log
  [ "$home" = "$CLUSTER_DIR" ] && PGLOG=$LOG_DIR/postgresql.log
  return 0
}

psql_query() { "$(pg_bin_dir)/psql" -h 127.0.0.1 -p "$CLUSTER_POSTGRES_PORT" -U temporal -d "$1" -tAqc "$2"; }

start_postgresql() {
  local bin
  bin=$(pg_bin_dir)
  [ "$(id -u)" -ne 0 ] || id postgres >/dev/null 2>&1 || fail "no postgres user: reinstall postgresql-common, or run this script as a non-root user"
  locate_postgres
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$PGDATA"
      as_postgres test -w "$PGDATA" \
        || fail "the postgres user cannot write $PGDATA: set CLUSTER_DIR to a directory it can reach, e.g. CLUSTER_DIR=/var/tmp/compose-publisher-cluster"
    fi
    say "creating the database cluster in $PGDATA"
    as_postgres "$bin/initdb" -D "$PGDATA" -U temporal --auth=trust -E UTF8 --locale=C >"$LOG_DIR/postgresql-initdb.log" 2>&1 \
      || fail "initdb failed: see $LOG_DIR/postgresql-initdb.log"
  fi
  if as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then return 0; fi
  listening "$CLUSTER_POSTGRES_PORT" && fail "port $CLUSTER_POSTGRES_PORT (PostgreSQL) is in use by another process: stop it, or choose other ports with CLUSTER_PORT_BASE"
  touch "$PGLOG"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PGLOG"
  [ "$PGLOG" = "$LOG_DIR/postgresql.log" ] || ln -sfn "$PGLOG" "$LOG_DIR/postgresql.log"
  say "starting PostgreSQL on 127.0.0.1:$CLUSTER_POSTGRES_PORT (data in $PGDATA)"
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 \
    -o "-p $CLUSTER_POSTGRES_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null 9>&- \
    || fail "PostgreSQL did not start: see $LOG_DIR/postgresql.log"
}

stop_postgresql() {
  local bin
  bin=$(pg_bin_dir)
  [ -n "$bin" ] || return 0
  locate_postgres
  [ -f "$PGDATA/PG_VERSION" ] || return 0
  as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 || return 0
  say "stopping PostgreSQL"
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null || fail "PostgreSQL did not stop: see $LOG_DIR/postgresql.log"
}

# temporal and temporal_visibility, created and migrated by the server's own schema tool (update-schema is idempotent).
setup_schema() {
  local log=$LOG_DIR/schema.log db dir
  for db in temporal temporal_visibility; do
    dir=$SERVER_DIR/schema/postgresql/v12/$([ "$db" = temporal ] && echo temporal || echo visibility)/versioned
    local tool=("$SQL_TOOL" --plugin postgres12 --endpoint 127.0.0.1 --port "$CLUSTER_POSTGRES_PORT" --user temporal --password temporal --database "$db")
    if [ "$(psql_query postgres "select 1 from pg_database where datname = '$db'")" != 1 ]; then
      say "creating database $db"
      "${tool[@]}" create-database >>"$log" 2>&1 || fail "creating database $db failed: see $log"
    fi
    if [ "$(psql_query "$db" "select to_regclass('schema_version') is not null")" != t ]; then
      "${tool[@]}" setup-schema -v 0.0 >>"$log" 2>&1 || fail "setting up the schema of $db failed: see $log"
    fi
    "${tool[@]}" update-schema -d "$dir" >>"$log" 2>&1 || fail "updating the schema of $db from $dir failed: see $log"
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Services: one process each, started detached (setsid) so they outlive this script, tracked by pid files

pid_file() { echo "$RUN_DIR/$1.pid"; }

# The pid of a service this script started, if that process still runs (a reused pid of another program does not count).
running_pid() {
  local file pid binary
  file=$(pid_file "$1")
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  service_command "$1"
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "${COMMAND[*]}" || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
  echo "$pid"
}

# Sets COMMAND to the command line of one service.
service_command() {
  case $1 in
    ui) COMMAND=("$UI_BIN" --root / --config "$CLUSTER_DIR/ui-config" --env cluster start) ;;
    # The zone "tls" makes the server read config/cluster/temporal_tls.yaml over temporal.yaml.
    frontend-tls) COMMAND=("$SERVER_BIN" --root "$PROJECT_DIR" --config config/cluster --env temporal --zone tls --allow-no-auth start --service frontend) ;;
    *) COMMAND=("$SERVER_BIN" --root "$PROJECT_DIR" --config config/cluster --env temporal --allow-no-auth start --service "$1") ;;
  esac
}

start_service() {
  local name=$1 log=$LOG_DIR/$1.log file port
  running_pid "$name" >/dev/null && return 0
  for port in $(service_ports "$name"); do
    listening "$port" && fail "port $port ($name) is in use by another process: stop it, or choose other ports with CLUSTER_PORT_BASE"
  done
  file=$(pid_file "$name")
  rm -f "$file"
  printf '\n=== %s: starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  service_command "$name"
  # The child writes its own pid, then becomes the service (exec keeps the pid); fd 9 (the lock) stays here.
  # shellcheck disable=SC2016
  CLUSTER_METRICS_PORT=$(metrics_port "$name") setsid bash -c 'echo $$ >"$0"; exec "$@"' "$file" "${COMMAND[@]}" >>"$log" 2>&1 </dev/null 9>&- &
  local deadline=$((SECONDS + 90)) main_port
  main_port=$(service_ports "$name" | awk '{print $1}')
  until [ -f "$file" ] && running_pid "$name" >/dev/null && listening "$main_port"; do
    if [ -f "$file" ] && ! running_pid "$name" >/dev/null; then
      tail -n 20 "$log" >&2
      fail "$name exited while starting: see $log"
    fi
    [ $SECONDS -lt $deadline ] || fail "$name did not listen on port $main_port within 90 s: see $log"
    sleep 0.2
  done
  say "$name running (pid $(cat "$file"), port $main_port)"
}

stop_service() {
  local name=$1 pid
  pid=$(running_pid "$name") || { rm -f "$(pid_file "$name")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while running_pid "$name" >/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if running_pid "$name" >/dev/null; then
    say "$name (pid $pid) ignored SIGTERM for 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pid_file "$name")"
  say "$name stopped"
}

write_ui_config() {
  mkdir -p "$CLUSTER_DIR/ui-config"
  cat >"$CLUSTER_DIR/ui-config/cluster.yaml" <<EOF
# Written by scripts/cluster.sh.
temporalGrpcAddress: $ADDRESS
host: 127.0.0.1
port: $UI_PORT
enableUi: true
defaultNamespace: $NAMESPACE
notifyOnNewVersion: false
EOF
}

wait_for_frontend() {
  local cli=$1 deadline=$((SECONDS + 90))
  until "$cli" operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING; do
    [ $SECONDS -lt $deadline ] || fail "the frontend at $ADDRESS is not SERVING after 90 s: see $LOG_DIR/frontend.log and $LOG_DIR/history.log"
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------------------------
# The mTLS frontend (`up --tls`): a second frontend process of the same cluster, with its own ports and TLS
# (config/cluster/temporal_tls.yaml). Certificates made with openssl, once, in $CLUSTER_TLS_DIR: a CA (ca.pem), the
# server's certificate for localhost and 127.0.0.1 (server.pem/.key), a client certificate (client.pem/.key).

tls_enabled() { [ -f "$RUN_DIR/tls" ]; }

make_certificates() {
  local dir=$CLUSTER_TLS_DIR file
  if [ -f "$dir/client.key" ]; then
    for file in ca server client; do openssl x509 -checkend 86400 -noout -in "$dir/$file.pem" >/dev/null 2>&1 || break; done \
      && return 0
  fi
  command -v openssl >/dev/null || apt_install openssl
  local partial=$dir.partial log=$LOG_DIR/tls-certificates.log
  rm -rf "$partial"
  mkdir -p "$partial"
  chmod 700 "$partial"
  # P-256 keys; explicit extensions, which rustls (the worker's connection) insists on as much as Go does.
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  leaf() { # name subject extensions
    printf 'basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n%b' "$3" >"$partial/$1.ext"
    openssl req -new "${key[@]}" -subj "$2" -keyout "$partial/$1.key" -out "$partial/$1.csr" \
      && openssl x509 -req -in "$partial/$1.csr" -CA "$partial/ca.pem" -CAkey "$partial/ca.key" -CAcreateserial -days 30 \
        -extfile "$partial/$1.ext" -out "$partial/$1.pem"
  }
  {
    openssl req -x509 "${key[@]}" -days 30 -subj "/CN=compose-publisher cluster CA" -keyout "$partial/ca.key" -out "$partial/ca.pem" \
      -addext "basicConstraints = critical, CA:TRUE" -addext "keyUsage = critical, keyCertSign, cRLSign" \
      && leaf server /CN=localhost 'extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n' \
      && leaf client /CN=compose-publisher 'extendedKeyUsage = clientAuth\n'
  } >>"$log" 2>&1 || fail "openssl could not make the TLS certificates: see $log"
  rm -f "$partial"/*.csr "$partial"/*.ext "$partial"/*.srl
  rm -rf "$dir"
  mv "$partial" "$dir"
  say "made a CA, a server and a client certificate in $dir (valid 30 days; made again when one expires within a day)"
}

wait_for_tls_frontend() {
  local cli=$1 deadline=$((SECONDS + 90))
  until "$cli" operator cluster health --address "$TLS_ADDRESS" --tls-ca-path "$CLUSTER_TLS_DIR/ca.pem" \
    --tls-cert-path "$CLUSTER_TLS_DIR/client.pem" --tls-key-path "$CLUSTER_TLS_DIR/client.key" 2>/dev/null | grep -q SERVING; do
    [ $SECONDS -lt $deadline ] || fail "the mTLS frontend at $TLS_ADDRESS is not SERVING after 90 s: see $LOG_DIR/frontend-tls.log"
    sleep 0.5
  done
}

# Name=Type of every search attribute the code registers: the project's one list (src/domain/run-contract/search-attributes.ts),
# read from the source so the two never drift apart.
search_attributes() {
  node --import tsx --input-type=module -e "const { SEARCH_ATTRIBUTES } = await import('./src/domain/run-contract/search-attributes.ts');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) console.log(name + '=' + type);" \
    || fail "cannot read SEARCH_ATTRIBUTES from src/domain/run-contract/search-attributes.ts: run bash scripts/setup.sh (npm dependencies) first"
}

# The server does not create a namespace by itself (temporalio/auto-setup does): the same namespace, retention and
# search attributes here. Right after a namespace is created the frontend may not know it yet: retry a few seconds.
ensure_namespace() {
  local cli=$1 output attribute name type deadline
  if ! "$cli" operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    output=$("$cli" operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$NAMESPACE_RETENTION" 2>&1) \
      || echo "$output" | grep -qi "already" \
      || fail "cannot create namespace $NAMESPACE: $output"
    say "namespace $NAMESPACE created (retention $NAMESPACE_RETENTION)"
  fi
  for attribute in $ATTRIBUTES; do
    name=${attribute%%=*} type=${attribute#*=} deadline=$((SECONDS + 60))
    until output=$("$cli" operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name "$name" --type "$type" 2>&1) \
      || echo "$output" | grep -qi "already exists"; do
      [ $SECONDS -lt $deadline ] || fail "cannot create search attribute $name ($type) in $NAMESPACE: $output"
      sleep 1
    done
  done
}

write_state() {
  local ui_url=null
  running_pid ui >/dev/null && ui_url="\"http://127.0.0.1:$UI_PORT\""
  cat >"$CLUSTER_DIR/cluster.json" <<EOF
{
  "address": "$ADDRESS",
  "namespace": "$NAMESPACE",
  "serverVersion": "$TEMPORAL_SERVER_VERSION",
  "uiUrl": $ui_url,
  "clusterDir": "$CLUSTER_DIR",
  "runDir": "$RUN_DIR",
  "logDir": "$LOG_DIR",
  "postgresPort": $CLUSTER_POSTGRES_PORT,
  "tls": $(if tls_enabled && running_pid frontend-tls >/dev/null; then
    printf '{ "address": "%s", "ca": "%s", "clientCert": "%s", "clientKey": "%s" }' "$TLS_ADDRESS" "$CLUSTER_TLS_DIR/ca.pem" "$CLUSTER_TLS_DIR/client.pem" "$CLUSTER_TLS_DIR/client.key"
  else echo null; fi),
  "searchAttributes": {$(for a in $ATTRIBUTES; do printf '"%s": "%s",' "${a%%=*}" "${a#*=}"; done | sed 's/,$//')}
}
EOF
}

# ---------------------------------------------------------------------------------------------------------------

up() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  case ${1:-} in
    --tls) touch "$RUN_DIR/tls" ;;
    '') ;;
    *) fail "usage: bash scripts/cluster.sh up [--tls] (got '$1')" ;;
  esac
  build_server
  build_ui
  local cli
  cli=$(temporal_cli)
  install_postgresql
  start_postgresql
  setup_schema
  local service
  for service in "${SERVICES[@]}"; do start_service "$service"; done
  wait_for_frontend "$cli"
  ATTRIBUTES=$(search_attributes)
  ensure_namespace "$cli"
  if tls_enabled; then
    make_certificates
    start_service frontend-tls
    wait_for_tls_frontend "$cli"
  fi
  if [ -f "$UI_DIR/.complete" ]; then
    write_ui_config
    start_service ui
  else
    say "no Temporal UI: github.com/temporalio/ui-server/v2@v$TEMPORAL_UI_VERSION did not build here ($(tr '\n' ' ' <"$UI_DIR/.unavailable")); delete $UI_DIR to try again"
  fi
  write_state
  say "up: Temporal $TEMPORAL_SERVER_VERSION at $ADDRESS$(tls_enabled && echo " (mTLS: $TLS_ADDRESS, certificates in $CLUSTER_TLS_DIR)"), namespace $NAMESPACE$(running_pid ui >/dev/null && echo ", UI http://127.0.0.1:$UI_PORT"); logs in $LOG_DIR"
}

down() {
  [ -d "$CLUSTER_DIR" ] || { say "nothing to stop ($CLUSTER_DIR does not exist)"; return 0; }
  local service port left=()
  for service in ui frontend-tls worker frontend matching history; do stop_service "$service"; done
  stop_postgresql
  rm -f "$CLUSTER_DIR/cluster.json" "$RUN_DIR/tls"
  for service in ui frontend-tls "${SERVICES[@]}"; do
    for port in $(service_ports "$service"); do listening "$port" && left+=("$port ($service)"); done
  done
  listening "$CLUSTER_POSTGRES_PORT" && left+=("$CLUSTER_POSTGRES_PORT (PostgreSQL)")
  [ ${#left[@]} -eq 0 ] || fail "stopped what this script started, but these ports are still open: ${left[*]} (another process? see ss -ltnp)"
  locate_postgres
  say "down: nothing left running; data stays in $CLUSTER_DIR$([ "$PGDATA" = "$CLUSTER_DIR/postgres" ] || echo " and $(dirname "$PGDATA")") (delete it for a fresh cluster)"
}

status() {
  local service pid all=0 bin
  for service in "${SERVICES[@]}" frontend-tls ui; do
    if pid=$(running_pid "$service"); then
      printf '%-12s running  pid %-8s port %s\n' "$service" "$pid" "$(service_ports "$service" | awk '{print $1}')"
    elif [ "$service" != frontend-tls ] || tls_enabled; then
      printf '%-12s stopped\n' "$service"
      [ "$service" = ui ] || all=1
    fi
  done
  bin=$(pg_bin_dir)
  locate_postgres
  if [ -n "$bin" ] && [ -f "$PGDATA/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    printf '%-12s running  port %s\n' postgresql "$CLUSTER_POSTGRES_PORT"
  else
    printf '%-12s stopped\n' postgresql
    all=1
  fi
  echo "address      $ADDRESS (namespace $NAMESPACE), logs in $LOG_DIR"
  if tls_enabled; then echo "mTLS address $TLS_ADDRESS ([temporal] tls_ca = $CLUSTER_TLS_DIR/ca.pem, tls_cert = …/client.pem, tls_key = …/client.key)"; fi
  return $all
}

command=${1:-}
case $command in
  up | down | status)
    mkdir -p "$CLUSTER_DIR"
    # One invocation at a time (a test restarting a service runs `up` while another may run).
    exec 9>"$CLUSTER_DIR/.lock"
    flock -w 300 9 || fail "another scripts/cluster.sh holds $CLUSTER_DIR/.lock for 5 minutes"
    shift
    [ "$command" = up ] || [ $# -eq 0 ] || fail "usage: bash scripts/cluster.sh $command (no options; got '$*')"
    "$command" "$@"
    ;;
  *) fail "usage: bash scripts/cluster.sh up [--tls]|down|status (got '${command}')" ;;
esac
