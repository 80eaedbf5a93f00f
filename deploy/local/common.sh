# shellcheck shell=bash
# Helpers sourced by the deploy/local scripts: where the tool binaries live and how to wait for a server.
# Not meant to be run on its own.

# Binaries built by deploy/local/install live under $TOOLS/<name>/bin (CI may point this at a cache).
TOOLS=${CLIPSTREAM_TOOLS:-$HOME/.cache/clipstream-tools}

# Test credentials of the local S3 server (not secrets: the server binds 127.0.0.1 only); used by the scripts
# that source this file.
# shellcheck disable=SC2034
S3_ACCESS_KEY=${CLIPSTREAM_S3_ACCESS_KEY:-clipstream} S3_SECRET_KEY=${CLIPSTREAM_S3_SECRET_KEY:-clipstream-secret}

# find_tool NAME [BIN]: prints the path of BIN (default NAME) from $TOOLS/NAME/bin, else from PATH.
find_tool() {
  local name=$1 bin=${2:-$1}
  if [ -x "$TOOLS/$name/bin/$bin" ]; then
    printf '%s\n' "$TOOLS/$name/bin/$bin"
  elif command -v "$bin" >/dev/null 2>&1; then
    command -v "$bin"
  else
    echo "error: $bin is neither in $TOOLS/$name/bin nor on PATH: run deploy/local/install" >&2
    return 1
  fi
}

# wait_tcp HOST PORT SECONDS: waits until a TCP connection to HOST:PORT succeeds.
wait_tcp() {
  local host=$1 port=$2 deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# wait_http URL SECONDS: waits until URL answers 2xx.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# need_port VALUE: fails unless VALUE is a TCP port number.
need_port() {
  case $1 in
    '' | *[!0-9]*) echo "error: $1 is not a port number" >&2; return 1 ;;
  esac
}

# server_binary NAME: the program that deploy/local/NAME execs.
server_binary() {
  case $1 in
    s3) echo s3s-fs ;;
    *) echo "$1" ;;
  esac
}

# server_cmdline PID: the command line of a live process; empty for an exited (or zombie) one.
server_cmdline() {
  tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true
}

# usage: prints the calling script's header comment (its documentation) to stderr and exits 2.
usage() {
  awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}
