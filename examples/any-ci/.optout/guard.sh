#!/bin/sh
# Runs a pipeline stage unless optout waives it for this ref or commit:
#   sh .optout/guard.sh <stage> <command> [args...]
# optout guard: exit 0 = waived (skip), 1 = not waived (run), 2 or more = error (run: fail closed).
if [ "$#" -lt 2 ]; then
  echo "usage: $0 <stage> <command> [args...]" >&2
  exit 2
fi
stage=$1
shift
code=0
optout guard "$stage" >&2 || code=$?
if [ "$code" -eq 0 ]; then
  echo "optout: $stage is waived; not running: $*" >&2
  exit 0
fi
if [ "$code" -ne 1 ]; then
  echo "optout: guard failed (exit $code); running $stage anyway (fail closed)" >&2
fi
exec "$@"
