#!/bin/sh
# workerd with V8 flags: what `npm start` points MINIFLARE_WORKERD_PATH at when EDDY_V8_FLAGS is set
# (scripts/start.mjs).
# Miniflare runs `workerd serve --binary ... -` with the config on stdin and kills the process it
# started with SIGKILL, so this rewrites the config (scripts/workerd-v8.mjs adds EDDY_V8_FLAGS to
# its v8Flags) into a file, makes that file stdin, removes it, and then becomes workerd (exec):
# same pid, same stdout, stderr and control pipe, nothing left behind. Any other invocation
# (`workerd --version`, a config file) goes to workerd unchanged.
#   EDDY_WORKERD  the real workerd binary (required)
#   EDDY_NODE     node (default: node on PATH)
#   EDDY_V8_FLAGS V8 flags, separated by spaces
set -eu
: "${EDDY_WORKERD:?EDDY_WORKERD must name the workerd binary}"
last=""
for a in "$@"; do last=$a; done
if [ "${1:-}" = serve ] && [ "$last" = - ] && [ -n "${EDDY_V8_FLAGS:-}" ]; then
  tmp=$(mktemp "${TMPDIR:-/tmp}/eddy-workerd-config.XXXXXX")
  # shellcheck disable=SC2086 # the flags are split on spaces on purpose
  if ! "${EDDY_NODE:-node}" "$(dirname "$0")/workerd-v8.mjs" $EDDY_V8_FLAGS >"$tmp"; then
    rm -f "$tmp"
    exit 1
  fi
  exec <"$tmp"
  rm -f "$tmp"
fi
exec "$EDDY_WORKERD" "$@"
