#!/usr/bin/env bash
# Runs every test on a fresh machine: toolchain, container engine, offline images, lint and
# types, unit tests, then integration tests against real containers. Prints each stage's time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

export TESTCONTAINERS_RYUK_DISABLED=true  # the reaper image cannot be pulled offline
export TESTCONTAINERS_HOST_OVERRIDE=localhost
export CI="${CI:-false}"
results="$ROOT/.test-results"
rm -rf "$results" && mkdir -p "$results"

test_containers() { docker ps -aq --no-trunc --filter label=org.testcontainers=true 2>/dev/null | sort; }
# Ryuk is off, so this script removes the containers its run started, even when a test fails;
# containers that existed before (another run on the same engine) are left alone.
before_run=""
remove_test_containers() {
  command -v docker >/dev/null && docker info >/dev/null 2>&1 || return 0
  local leftovers
  leftovers=$(comm -13 <(printf '%s\n' "$before_run") <(test_containers))
  [ -z "$leftovers" ] || docker rm -f -v $leftovers >/dev/null 2>&1 || true
}
trap remove_test_containers EXIT

timings=()
stage() {
  local name=$1; shift
  local started=$SECONDS status=0
  log "stage: $name"
  "$@" || status=$?
  timings+=("$(printf '%-12s %4d s' "$name" $((SECONDS - started)))")
  return $status
}
# Test stages run even after one failed, so the closing line counts them all; the run still fails.
failed_stages=0
test_stage() { stage "$@" || failed_stages=$((failed_stages + 1)); }

jest_summary() { # project: prints "project: N passed, N failed" from jest's JSON report
  node -e 'const r=require(process.argv[1]);console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)' \
    "$results/$1.json" "$1"
}
run_jest() {
  local project=$1; shift
  local status=0
  pnpm exec jest --selectProjects "$project" --json --outputFile="$results/$project.json" "$@" || status=$?
  [ -f "$results/$project.json" ] && jest_summary "$project"
  return $status
}

stage prerequisites bash scripts/prerequisites.sh
stage bootstrap bash scripts/bootstrap.sh
export PATH="$TOOLS/node/bin:$TOOLS/pnpm/bin:$PATH"
stage engine bash scripts/engine.sh
before_run=$(test_containers)
stage images bash infra/images/build.sh
load_image_env
stage lint pnpm run --silent lint
stage typecheck pnpm run --silent typecheck
test_stage unit run_jest unit
test_stage integration run_jest integration --runInBand
# The HA variant under faults (tests/ha): a compose stack of its own, about 5 minutes.
test_stage ha run_jest ha --runInBand
# schemathesis against the served /openapi.json; writes a jest-like fuzz.json (one check per operation and run)
test_stage fuzz env FUZZ_REPORT="$results/fuzz.json" bash scripts/fuzz.sh

printf '\nstage durations:\n'
printf '  %s\n' "${timings[@]}"
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of ["unit", "integration", "ha", "fuzz"]) {
    const file = `${process.argv[1]}/${f}.json`;
    if (!fs.existsSync(file)) { console.log(`${f}: no report`); failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(file)); passed += r.numPassedTests; failed += r.numFailedTests;
  }
  console.log(`${passed} passed, ${failed} failed`);' "$results"
exit $((failed_stages > 0))
