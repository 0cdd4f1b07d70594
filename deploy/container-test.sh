#!/bin/sh
# Builds deploy/Containerfile with buildah and runs the image it makes, on a
# machine that reaches no container registry.
#
#   sudo sh deploy/container-test.sh        (from the repository root)
#
# The Containerfile starts FROM docker.io/library/golang and
# gcr.io/distroless/static-debian12:nonroot. Where neither registry answers,
# this script first builds local stand-ins under exactly those names from
# what the machine does reach (Debian's packages through debootstrap, and the
# Go toolchain already installed here), then builds the real Containerfile
# with --pull=never, checks the image's configuration (user, volume, port,
# health check, entrypoint) and runs it: the server must answer /healthz, and
# the image's own HEALTHCHECK command must pass inside the container.
#
# What this proves: every step of the Containerfile works (module download,
# static build, version stamp, the data directory's owner, the non-root
# user). What it cannot prove: that the real upstream base images behave the
# same; they are the standard ones, and the stand-ins hold only what the
# Containerfile relies on (a shell and Go in the first stage; CA
# certificates, /etc/passwd with nonroot = 65532 and no shell in the second).
#
# Needs root, buildah and debootstrap (apt-get install -y buildah debootstrap).
# The stand-in root file system is kept in $KIOSK_CONTAINER_CACHE
# (default /var/tmp/kiosk-container) so a second run takes seconds; the
# image and container are removed at the end. Loopback only: the container
# shares the host's network and listens on 127.0.0.1.
set -eu

# Chroot isolation: no cgroups or user namespaces needed, which a VM or a
# CI runner in hybrid cgroup mode does not always offer (crun refuses there).
export BUILDAH_ISOLATION=chroot

cache=${KIOSK_CONTAINER_CACHE:-/var/tmp/kiosk-container}
port=${KIOSK_CONTAINER_PORT:-18642}
image=localhost/kiosk-server:container-test
golang_image=docker.io/library/golang:1.26
static_image=gcr.io/distroless/static-debian12:nonroot

say() { printf '== %s\n' "$*"; }
fail() {
	printf 'container-test: %s\n' "$*" >&2
	exit 1
}

[ -f deploy/Containerfile ] || fail "run from the repository root"
[ "$(id -u)" = 0 ] || fail "needs root (buildah builds and runs containers as root here)"
command -v buildah >/dev/null || fail "buildah is missing: apt-get install -y buildah"
goroot=$(go env GOROOT 2>/dev/null) || fail "Go is missing: the stand-in golang image copies this machine's toolchain"

ctr=""
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
	buildah rmi -f "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

# has_image NAME: whether buildah holds an image of that name.
has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

if has_image "$golang_image" || buildah pull -q "$golang_image" >/dev/null 2>&1; then
	say "using $golang_image"
else
	say "no registry: building a stand-in $golang_image (Debian bookworm + Go $(go env GOVERSION))"
	command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install -y debootstrap"
	root=$cache/bookworm
	if [ ! -x "$root/bin/sh" ]; then
		rm -rf "$root"
		mkdir -p "$cache"
		debootstrap --variant=minbase --include=ca-certificates,git bookworm "$root" >"$cache/debootstrap.log" 2>&1 ||
			fail "debootstrap failed: see $cache/debootstrap.log"
	fi
	b=$(buildah from scratch)
	mnt=$(buildah mount "$b")
	cp -a "$root"/. "$mnt"/
	mkdir -p "$mnt/usr/local"
	cp -a "$goroot" "$mnt/usr/local/go"
	# The stand-in trusts what this machine trusts (a site's own CA for an
	# inspecting proxy included), so `go mod download` reaches the proxy
	# the way the host does.
	cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
	buildah umount "$b" >/dev/null
	buildah config --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--env GOPATH=/go --env GOTOOLCHAIN=local --workingdir /go "$b"
	buildah commit -q --rm "$b" "$golang_image" >/dev/null
fi

if has_image "$static_image" || buildah pull -q "$static_image" >/dev/null 2>&1; then
	say "using $static_image"
else
	say "no registry: building a stand-in $static_image (CA certificates, nonroot = 65532, no shell)"
	b=$(buildah from scratch)
	mnt=$(buildah mount "$b")
	mkdir -p "$mnt/etc/ssl/certs" "$mnt/tmp" "$mnt/home/nonroot"
	chmod 1777 "$mnt/tmp"
	chown 65532:65532 "$mnt/home/nonroot"
	cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$mnt/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$mnt/etc/group"
	buildah umount "$b" >/dev/null
	buildah config --user 65532:65532 --workingdir /home/nonroot "$b"
	buildah commit -q --rm "$b" "$static_image" >/dev/null
fi

say "building deploy/Containerfile"
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
buildah bud --isolation=chroot --pull=never --network=host --format docker -q -t "$image" \
	--build-arg VERSION=container-test --build-arg COMMIT="$commit" \
	--build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	-f deploy/Containerfile . >/dev/null

say "checking the image's configuration"
cfg() { buildah inspect --type image --format "$1" "$image"; }
[ "$(cfg '{{.Docker.Config.User}}')" = "65532:65532" ] || fail "user is $(cfg '{{.Docker.Config.User}}'), want 65532:65532"
# shellcheck disable=SC2016 # a Go template, not shell
cfg '{{range $k, $v := .Docker.Config.Volumes}}{{$k}} {{end}}' | grep -qw /data || fail "no /data volume"
# shellcheck disable=SC2016 # a Go template, not shell
cfg '{{range $k, $v := .Docker.Config.ExposedPorts}}{{$k}} {{end}}' | grep -q 8080 || fail "port 8080 not exposed"
cfg '{{.Docker.Config.Healthcheck.Test}}' | grep -q healthcheck || fail "no HEALTHCHECK (built without --format docker?)"
cfg '{{.Docker.Config.Entrypoint}}' | grep -q /usr/local/bin/kiosk-server || fail "entrypoint is not the server"

ctr=$(buildah from -q "$image")
out=$(buildah run --isolation=chroot "$ctr" -- /usr/local/bin/kiosk-server -version) || fail "the binary does not run in the image"
case $out in *container-test*) ;; *) fail "version not stamped: $out" ;; esac
say "binary: $out"

say "running the server in the container on 127.0.0.1:$port"
buildah run --isolation=chroot --network=host --user 65532:65532 "$ctr" -- \
	/usr/local/bin/kiosk-server -addr "127.0.0.1:$port" -data /data >"$cache/server.log" 2>&1 &
server_pid=$!
ok=""
for _ in $(seq 1 100); do
	if buildah run --isolation=chroot --network=host "$ctr" -- /usr/local/bin/kiosk-server healthcheck \
		-url "http://127.0.0.1:$port/healthz" -timeout 2s >/dev/null 2>&1; then
		ok=1
		break
	fi
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.2
done
[ -n "$ok" ] || {
	cat "$cache/server.log" >&2
	fail "the image's health check never passed"
}
say "healthcheck inside the container: ok"
if command -v curl >/dev/null; then
	say "from the host: $(curl -fsS "http://127.0.0.1:$port/healthz")"
fi
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
# The server wrote its store into the volume as the non-root user, and
# another process of that user can open it after the server stopped.
buildah run --isolation=chroot --user 65532:65532 "$ctr" -- /usr/local/bin/kiosk-server user list -data /data >/dev/null ||
	fail "the data directory is not usable by 65532 after the server stopped"
say "container test passed"
