#!/usr/bin/env bash
# Runs COMMAND with every sanitizer report written to files under REPORT_DIR instead of stderr,
# so that findings in processes whose stderr nobody reads (the service daemon the e2e tests
# start logs into a temporary FOUNDRY_HOME) are not lost. Prints every report and fails when
# there is one, even if COMMAND passed.
# Usage: scripts/run_sanitized.sh REPORT_DIR COMMAND [ARGS...]
set -uo pipefail

report_dir=$(realpath -m "$1")
shift
rm -rf "$report_dir"
mkdir -p "$report_dir"

# Findings stop the process (the build adds -fno-sanitize-recover; TSan needs it at run time).
export ASAN_OPTIONS="log_path=$report_dir/asan:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$report_dir/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="log_path=$report_dir/tsan:halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

"$@"
status=$?

reports=("$report_dir"/*)
if [[ -e "${reports[0]}" ]]; then
  for r in "${reports[@]}"; do
    echo "==== sanitizer report $r"
    cat "$r"
  done
  echo "run_sanitized: ${#reports[@]} sanitizer report(s) in $report_dir" >&2
  exit 1
fi
exit "$status"
