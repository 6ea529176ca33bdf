#!/usr/bin/env bash
# Runs lifecycle.py (kestrapy) against cmd/kestra-emulator on a free loopback
# port. The emulator is stopped on every exit path, and the script fails if
# it is still alive afterwards.
#
# Usage: test/kestrapy/run.sh PYTHON
#   PYTHON is the interpreter of the virtual environment holding kestrapy.
#   KESTRA_USERNAME / KESTRA_PASSWORD (default root@root.com / Root!1234)
#   are the credentials the emulator requires and the script sends.
set -euo pipefail

python=${1:?usage: run.sh PYTHON}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
user=${KESTRA_USERNAME:-root@root.com}
pass=${KESTRA_PASSWORD:-Root!1234}

work=$(mktemp -d)
pid=
child=
cleanup() {
	rc=$?
	if [ -n "$child" ]; then
		kill "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
			echo "kestra-emulator (pid $pid) did not stop on SIGTERM" >&2
			rc=1
		fi
		wait "$pid" 2>/dev/null || true
		if kill -0 "$pid" 2>/dev/null; then
			echo "kestra-emulator (pid $pid) left behind" >&2
			rc=1
		fi
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$root" && go build -o "$work/kestra-emulator" ./cmd/kestra-emulator)

# A free loopback port: bind port 0, read it back, release it.
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$work/kestra-emulator" -addr "127.0.0.1:$port" -user "$user" -password "$pass" -speed 20 2>"$work/emulator.log" &
pid=$!

url="http://127.0.0.1:$port"
for i in $(seq 100); do
	if "$python" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1]+"/api/v1/configs", timeout=1)' "$url" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null || [ "$i" = 100 ]; then
		echo "kestra-emulator did not start; last lines of its log:" >&2
		tail -n 20 "$work/emulator.log" >&2
		exit 1
	fi
	sleep 0.1
done

# In the background, so that a signal runs the trap at once.
PYTHONWARNINGS=ignore::UserWarning KESTRA_API_URL=$url KESTRA_USERNAME=$user KESTRA_PASSWORD=$pass "$python" "$here/lifecycle.py" &
child=$!
status=0
wait "$child" || status=$?
child=
if [ "$status" != 0 ]; then
	echo "last lines of the emulator log:" >&2
	tail -n 30 "$work/emulator.log" >&2
fi
exit "$status"
