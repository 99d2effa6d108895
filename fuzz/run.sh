#!/usr/bin/env bash
# fuzz/run.sh: build the libFuzzer harnesses with clang in build-fuzz (ASan,
# UBSan, coverage), replay fuzz/regressions/<name>/, then fuzz each harness
# for FUZZ_SECONDS seconds (default 60) on a copy of fuzz/corpus/<name>/ in a
# temporary directory: nothing is written into the source tree. Prints one
# line per harness and fails if any input crashed or broke an invariant;
# the findings' inputs and logs are then kept and named.
#   FUZZ_SECONDS=20 fuzz/run.sh            all harnesses
#   FUZZ_SECONDS=20 fuzz/run.sh json csv   some of them
#   FUZZ_SEED=N fuzz/run.sh               another seed (default 1: CI repeats what ran here)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${FUZZ_BUILD_JOBS:-2}"

command -v clang >/dev/null || { echo "fuzz/run.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

echo "fuzz: building the harnesses in $build (clang, ASan, UBSan, libFuzzer)"
CC=clang cmake -S . -B "$build" -DCDNCTL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log" >&2; exit 1; }
rm -f "$build.configure.log"
cmake --build "$build" -j"$jobs" --target fuzzers >/dev/null

if [ "$#" -gt 0 ]; then names=("$@"); else
  names=()
  for src in fuzz/fuzz_*.c; do n="${src#fuzz/fuzz_}"; names+=("${n%.c}"); done
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cdnctl-fuzz.XXXXXX")"
failed=0 ngood=0 nbad=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

for name in "${names[@]}"; do
  bin="$build/fuzz/fuzz_$name"
  [ -x "$bin" ] || { echo "fuzz_$name: FAILED: no binary $bin"; failed=1; nbad=$((nbad + 1)); continue; }
  dir="$work/$name"
  mkdir -p "$dir/corpus" "$dir/crashes"
  [ -d "fuzz/corpus/$name" ] && cp -R "fuzz/corpus/$name/." "$dir/corpus/"

  # 1. regressions: every input that once crashed must now pass
  regs=0 regfail=0
  if [ -d "fuzz/regressions/$name" ]; then
    for f in "fuzz/regressions/$name"/*; do
      [ -f "$f" ] || continue
      regs=$((regs + 1))
      if ! "$bin" -runs=1 "$f" >"$dir/regression-$(basename "$f").log" 2>&1; then
        regfail=$((regfail + 1))
        echo "fuzz_$name: regression $f FAILS (log: $dir/regression-$(basename "$f").log):"
        grep -aE '^== |^input:|^cdnctl|ERROR:|SUMMARY|^    #[0-9] .* in [a-z_]+ /' "$dir/regression-$(basename "$f").log" | head -10 | sed 's/^/    /'
      fi
    done
  fi

  # 2. fuzz for a bounded time
  rc=0
  "$bin" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/" "$dir/corpus" >"$dir/fuzz.log" 2>&1 || rc=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)"
  files="$(find "$dir/corpus" -type f | wc -l)"
  bytes="$(find "$dir/corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')"
  skip="$(grep -a -m1 'SKIPPING' "$dir/fuzz.log" || true)"
  if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$dir/crashes")" ]; then
    failed=1; nbad=$((nbad + 1))
    echo "fuzz_$name: FAILED after ${runs:-?} runs (exit $rc); corpus $files files, $bytes bytes; regressions $((regs - regfail))/$regs pass"
    grep -aE '^== |^input:|^cdnctl|ERROR:|SUMMARY|^    #[0-9]+ .* in [a-z_]+ /' "$dir/fuzz.log" | head -14 | sed 's/^/    /'
    for c in "$dir"/crashes/*; do [ -f "$c" ] && echo "    input kept: $c"; done
    echo "    log: $dir/fuzz.log"
  else
    if [ "$regfail" -eq 0 ]; then ngood=$((ngood + 1)); else failed=1; nbad=$((nbad + 1)); fi
    echo "fuzz_$name: ${runs:-?} runs in ${seconds}s, no crash; corpus $files files, $bytes bytes; regressions $((regs - regfail))/$regs pass${skip:+; $skip}"
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED: findings and logs kept in $work"
  echo "fuzz: $ngood passed, $nbad failed"
  exit 1
fi
rm -rf "$work"
echo "fuzz: $ngood passed, $nbad failed"
