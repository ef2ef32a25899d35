#!/usr/bin/env bash
# `bash bench/cpu.sh [--requests=N] [--connections=N] [--rounds=N] [--profile] [--baseline=DIR]`:
# CPU per answered /v1/client/me of the gateway and the floor (bench/cpu.ts), without the full
# benchmark; bench/run.sh prepares Node, the build and the stack as for `npm run bench`.
BENCH_ENTRY=cpu exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
