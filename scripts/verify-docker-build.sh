#!/usr/bin/env bash
# Performs the Dockerfile's build and run steps without a Docker engine, on a
# clean copy of the repository, and checks that the result is a healthy server.
#
#   scripts/verify-docker-build.sh          (needs node, npm, rsync, redis-server, redis-cli, curl)
#
# 1. Build context: the repository minus .dockerignore (what `docker build .` sends).
# 2. Build stage: its COPY and RUN instructions, read from the Dockerfile and run in
#    a fresh directory standing in for WORKDIR (npm ci, npm run build, npm prune --omit=dev).
# 3. Runtime stage: its COPY --from=build instructions into another fresh directory,
#    which then holds exactly what the image holds; dev dependencies must be gone.
# 4. Run: the image's CMD with exactly the image's ENV (its listen addresses on all
#    interfaces, its auth mode) plus REDIS_URL pointing at a private redis-server; only
#    the ports of the listen addresses are replaced by free ones, so nothing collides on
#    a shared machine. The HEALTHCHECK command must pass, /metrics must answer, the
#    image's CLI must create an API key that the server then accepts (and a call
#    without one must be refused), SIGTERM must exit 0, and the health check must
#    fail once the server is gone.
# Not reproduced: the base image (a warning is printed when the local Node major differs
# from the Dockerfile's), `apt-get install tini` (the server runs without an init here)
# and the non-root USER. The Dockerfile's contract for those is checked by
# tests/deploy.test.ts.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/streamgate-verify-docker.XXXXXX")"
context="$work/context"
build="$work/build"
runtime="$work/runtime"
server_pid=""
redis_pid=""

cleanup() {
  local code=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  if [ "$code" -eq 0 ]; then echo "verify-docker-build: PASS"; else echo "verify-docker-build: FAIL (exit $code)" >&2; fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "verify-docker-build: $*" >&2
  exit 1
}
# A port free on host $1 (default 127.0.0.1).
free_port() { node -e 'const s=require("net").createServer().listen(0,process.argv[1],()=>{console.log(s.address().port);s.close()})' "${1:-127.0.0.1}"; }
# Prints a JSON array (exec form) or a shell-form command one argument per line.
args_of() { node -e 'const a=process.argv[1].trim(); for (const x of a.startsWith("[") ? JSON.parse(a) : a.split(/\s+/)) console.log(x)' "$1"; }

for tool in node npm rsync redis-server redis-cli curl; do command -v "$tool" >/dev/null || fail "$tool is required"; done

# The Dockerfile as "stage<TAB>INSTRUCTION<TAB>arguments" lines: comments dropped, continuations joined.
instructions() {
  awk '
    /^[[:space:]]*#/ { next }
    { line = line $0 }
    /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, " ", line); next }
    {
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", line); gsub(/[[:space:]]+/, " ", line)
      if (line == "") { next }
      op = toupper(line); sub(/ .*/, "", op); args = line; sub(/^[^ ]+ ?/, "", args)
      if (op == "FROM") { n = split(args, f, " "); stage = (n >= 3 && toupper(f[2]) == "AS") ? f[3] : "stage" NR }
      else print stage "\t" op "\t" args
      line = ""
    }' "$repo/Dockerfile"
}
runtime_stage="$(awk 'toupper($1) == "FROM" { s = (toupper($3) == "AS") ? $4 : "stage" NR } END { print s }' "$repo/Dockerfile")"
[ "$runtime_stage" != "build" ] || fail "the last stage of the Dockerfile must not be the build stage"

# The image's Node is not this machine's: say so when the majors differ (the steps still run).
local_major="$(node -p 'process.versions.node.split(".")[0]')"
for image_major in $(awk 'toupper($1) == "FROM" && match($2, /^node:[0-9]+/) { print substr($2, 6, RLENGTH - 5) }' "$repo/Dockerfile" | sort -u); do
  if [ "$image_major" != "$local_major" ]; then
    echo "verify-docker-build: WARNING: the Dockerfile builds and runs on Node $image_major, this machine has Node $(node --version);" \
      "the steps below run on Node $local_major and cannot show problems specific to Node $image_major" >&2
  fi
done

step "build context: $repo minus .dockerignore"
excludes="$work/rsync-excludes"
while IFS= read -r pattern; do
  pattern="${pattern%%#*}"
  pattern="$(echo "$pattern" | xargs)"
  [ -n "$pattern" ] || continue
  case "$pattern" in
    '!'*) fail ".dockerignore exceptions ($pattern) are not supported by this script" ;;
    '**/'*) echo "${pattern#\*\*/}" ;;   # any depth
    *) echo "/$pattern" ;;               # relative to the context root, as Docker reads it
  esac
done <"$repo/.dockerignore" >"$excludes"
mkdir -p "$context" "$build" "$runtime"
rsync -a --exclude-from="$excludes" "$repo/" "$context/"
for gone in node_modules dist .git .data; do [ ! -e "$context/$gone" ] || fail "$gone reached the build context"; done

# Copies Docker-style: `COPY a b ./dir/` puts files a and b into dir; a directory's contents go into the target;
# a single file with a target not ending in "/" is copied to that path.
docker_copy() {
  local from_root="$1" to_root="$2"
  shift 2
  local args=("$@")
  local dest="${args[-1]}"
  unset 'args[-1]'
  local target="$to_root/${dest#./}"
  for src in "${args[@]}"; do
    local path="$from_root/${src#/app/}"
    [ -e "$path" ] || fail "COPY source $src does not exist"
    if [ -d "$path" ]; then
      mkdir -p "$target"
      cp -a "$path/." "$target/"
    elif [[ "$dest" == */ ]] || [ "${#args[@]}" -gt 1 ]; then
      mkdir -p "$target"
      cp -a "$path" "$target/"
    else
      mkdir -p "$(dirname "$target")"
      cp -a "$path" "$target"
    fi
  done
}

step "build stage (WORKDIR -> $build)"
while IFS=$'\t' read -r stage op args; do
  [ "$stage" = "build" ] || continue
  case "$op" in
    WORKDIR | ARG | ENV | LABEL) ;;
    COPY)
      echo "COPY $args"
      read -r -a parts <<<"$args"
      docker_copy "$context" "$build" "${parts[@]}"
      ;;
    RUN)
      echo "RUN $args"
      (cd "$build" && bash -euo pipefail -c "$args")
      ;;
    *) fail "build stage instruction $op is not handled by this script" ;;
  esac
done < <(instructions)

step "runtime stage (WORKDIR -> $runtime)"
image_env=()
cmd_json=""
health_cmd=""
while IFS=$'\t' read -r stage op args; do
  [ "$stage" = "$runtime_stage" ] || continue
  case "$op" in
    COPY)
      echo "COPY $args"
      [[ "$args" == --from=build\ * ]] || fail "runtime COPY not from the build stage: $args"
      read -r -a parts <<<"${args#--from=build }"
      docker_copy "$build" "$runtime" "${parts[@]}"
      ;;
    ENV) read -r -a pairs <<<"$args" && image_env+=("${pairs[@]}") ;;
    CMD) cmd_json="$args" ;;
    HEALTHCHECK) health_cmd="${args#* CMD }" ;;
    RUN) echo "skipped (system packages of the base image): RUN $args" ;;
    WORKDIR | USER | EXPOSE | ENTRYPOINT | ARG | LABEL) ;;
    *) fail "runtime stage instruction $op is not handled by this script" ;;
  esac
done < <(instructions)
[ -n "$cmd_json" ] || fail "the runtime stage has no CMD"
[ -n "$health_cmd" ] || fail "the runtime stage has no HEALTHCHECK"
for dev in typescript vitest @biomejs/biome tsx testcontainers yaml; do
  [ ! -e "$runtime/node_modules/$dev" ] || fail "dev dependency $dev is in the runtime image"
done
for prod in @grpc/grpc-js ioredis pino prom-client; do
  [ -e "$runtime/node_modules/$prod" ] || fail "production dependency $prod is missing from the runtime image"
done
echo "runtime: $(du -sh "$runtime" | cut -f1) ($(du -sh "$runtime/node_modules" | cut -f1) node_modules)"

step "run: private redis-server, then the image's CMD"
redis_port="$(free_port)"
mkdir -p "$work/redis-data"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis-data" --save "" --appendonly yes \
  --daemonize no --protected-mode yes >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || fail "redis-server did not start: $(cat "$work/redis.log")"

# The image's ENV as is, except the port of each listen address (same host: the image's 0.0.0.0).
env_of() {
  local pair
  for pair in "${image_env[@]}"; do [ "${pair%%=*}" != "$1" ] || echo "${pair#*=}"; done
}
run_vars=()
grpc_port="" metrics_port=""
for pair in "${image_env[@]}"; do
  name="${pair%%=*}" value="${pair#*=}"
  case "$name" in
    STREAMGATE_LISTEN | STREAMGATE_METRICS_LISTEN)
      [ "$value" != "off" ] || { run_vars+=("$pair") && continue; }
      host="${value%:*}"
      port="$(free_port "$(tr -d '[]' <<<"$host")")"
      if [ "$name" = STREAMGATE_LISTEN ]; then grpc_port="$port"; else metrics_port="$port"; fi
      run_vars+=("$name=$host:$port")
      ;;
    *) run_vars+=("$pair") ;;
  esac
done
[ -n "$grpc_port" ] || fail "the image sets no STREAMGATE_LISTEN"
[ -n "$metrics_port" ] || fail "the image sets no STREAMGATE_METRICS_LISTEN"
run_env=(env -i "PATH=$PATH" "HOME=$work" "${run_vars[@]}" "REDIS_URL=redis://127.0.0.1:$redis_port")
mapfile -t cmd < <(args_of "$cmd_json")
mapfile -t probe < <(args_of "$health_cmd")
echo "CMD ${cmd[*]}  (${run_vars[*]} REDIS_URL=redis://127.0.0.1:$redis_port)"
(cd "$runtime" && exec "${run_env[@]}" "${cmd[@]}") >"$work/server.log" 2>&1 &
server_pid=$!

step "HEALTHCHECK ${probe[*]}"
healthy=""
for _ in $(seq 1 60); do
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$work/server.log")"
  if (cd "$runtime" && "${run_env[@]}" "${probe[@]}"); then
    healthy=yes
    break
  fi
  sleep 0.5
done
[ -n "$healthy" ] || fail "the health check never passed: $(cat "$work/server.log")"

step "metrics on 127.0.0.1:$metrics_port/metrics"
metrics="$(curl -fsS "http://127.0.0.1:$metrics_port/metrics")"
grep -q '^streamgate_serving 1$' <<<"$metrics" || fail "/metrics does not report streamgate_serving 1"
grep -q '^process_resident_memory_bytes ' <<<"$metrics" || fail "/metrics lacks process metrics"
echo "ok: $(grep -c '^streamgate_' <<<"$metrics") streamgate samples"

step "auth: STREAMGATE_AUTH=$(env_of STREAMGATE_AUTH) as the image sets it"
cli=(node bin/streamgate.js)
address="127.0.0.1:$grpc_port"
if [ "$(env_of STREAMGATE_AUTH)" = keys ]; then
  # As in the README: `streamgate keys create` inside the container, then the token as bearer.
  created="$(cd "$runtime" && "${run_env[@]}" "${cli[@]}" keys create --tenant verify --tier creator --json)" ||
    fail "the image's CLI could not create an API key"
  token="$(node -e 'console.log(JSON.parse(process.argv[1]).token)' "$created")"
  caps="$(cd "$runtime" && "${run_env[@]}" STREAMGATE_TOKEN="$token" "${cli[@]}" caps --json -a "$address")" ||
    fail "a call with the new API key failed"
  grep -q '"tier":"creator"' <<<"$caps" || fail "unexpected capabilities for the new key: $caps"
  set +e
  (cd "$runtime" && "${run_env[@]}" "${cli[@]}" caps -a "$address" >/dev/null 2>&1)
  anonymous=$?
  set -e
  [ "$anonymous" -eq 5 ] || fail "a call without credentials ended with exit $anonymous, not 5 (refused credentials)"
  grep -q "$token" "$work/server.log" && fail "the server log contains the API key"
  echo "ok: key created with the image's CLI is accepted; a call without one is refused"
else
  echo "skipped: no API keys in this auth mode"
fi

step "SIGTERM: graceful exit, then the health check fails"
kill -TERM "$server_pid"
set +e
wait "$server_pid"
server_exit=$?
set -e
server_pid=""
[ "$server_exit" -eq 0 ] || fail "the server exited with $server_exit on SIGTERM: $(cat "$work/server.log")"
grep -q '"streamgate stopped"' "$work/server.log" || fail "no shutdown log line"
if (cd "$runtime" && "${run_env[@]}" "${probe[@]}" 2>/dev/null); then fail "the health check passed with no server running"; fi
echo "ok: exit 0, probe now fails"
