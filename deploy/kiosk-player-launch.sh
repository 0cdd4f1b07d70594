#!/bin/sh
# kiosk-player-launch.sh DIR [kiosk-player flags...]
#
# Starts the installed player DIR/kiosk-player (a symlink to
# DIR/versions/<version>/kiosk-player) and rolls a failed update back.
# kiosk-player.service runs it as ExecStart with Restart=always, so it runs
# before every start of the player.
#
# After an update, DIR/update-trial.json names the previous and the new
# binary, a deadline and how often the new one was started. Each start
# through here counts. The new player deletes the file once it applied the
# current manifest (its success marker). While the file is still there and
# the new binary has been started more than KIOSK_PLAYER_MAX_STARTS times
# (default 3), or the deadline has passed, this script points the symlink
# back at the previous binary, leaves DIR/update-rollback.json saying why
# (the previous player reports it to the server) and starts that one.
#
# On the very first start, with no DIR/kiosk-player yet, the binary at
# KIOSK_PLAYER_SEED (default /usr/local/bin/kiosk-player) is copied in as
# DIR/versions/<its version>/kiosk-player.
#
# POSIX sh plus readlink(1), which Debian, Alpine and BusyBox all have.

set -u

if [ $# -lt 1 ]; then
	echo "usage: kiosk-player-launch.sh DIR [kiosk-player flags...]" >&2
	exit 2
fi
dir=$1
shift
link=$dir/kiosk-player
trial=$dir/update-trial.json
rollback=$dir/update-rollback.json
max_starts=${KIOSK_PLAYER_MAX_STARTS:-3}
seed=${KIOSK_PLAYER_SEED:-/usr/local/bin/kiosk-player}

say() { echo "kiosk-player-launch: $*" >&2; }

# A version or target may only hold these characters: the values go into
# paths and into JSON written without escaping.
plain() {
	case $1 in
	'' | *[!A-Za-z0-9._+/-]* | *..*) return 1 ;;
	esac
	return 0
}

# field NAME: the value of "NAME" in the trial file (one field per line).
field() {
	sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}[[:space:]]*\$/\1/p" "$trial" | head -n 1
}

# point TARGET: switch the symlink atomically (a new link renamed over it).
point() {
	rm -f "$dir/.kiosk-player.launch"
	ln -s "$1" "$dir/.kiosk-player.launch" && mv -f "$dir/.kiosk-player.launch" "$link"
}

mkdir -p "$dir" || exit 1

if [ ! -e "$link" ] && [ ! -L "$link" ]; then
	if [ ! -x "$seed" ]; then
		say "$link is missing and there is no $seed to install from"
		exit 1
	fi
	version=$("$seed" -version 2>/dev/null | head -n 1)
	plain "$version" || version=initial
	mkdir -p "$dir/versions/$version" &&
		cp "$seed" "$dir/versions/$version/kiosk-player.tmp" &&
		chmod 755 "$dir/versions/$version/kiosk-player.tmp" &&
		mv -f "$dir/versions/$version/kiosk-player.tmp" "$dir/versions/$version/kiosk-player" &&
		point "versions/$version/kiosk-player" || exit 1
	say "installed $seed as version $version"
fi

if [ -f "$trial" ]; then
	new=$(field new)
	previous=$(field previous)
	version=$(field version)
	build=$(field build)
	rollout=$(field rollout)
	deadline=$(field deadline)
	starts=$(field starts)
	current=$(readlink "$link")
	case $deadline in '' | *[!0-9]*) deadline=0 ;; esac
	case $starts in '' | *[!0-9]*) starts=0 ;; esac
	if [ "$current" != "$new" ] || ! plain "$previous" || ! plain "$new"; then
		# Not about the binary the link names (an update interrupted
		# before its switch, or a file damaged): nothing to judge.
		say "ignoring a stale update trial for $new"
		rm -f "$trial"
	else
		starts=$((starts + 1))
		now=$(date +%s)
		reason=
		if [ "$starts" -gt "$max_starts" ]; then
			reason="the new version was started $((starts - 1)) times without applying the current manifest"
		elif [ "$now" -gt "$deadline" ]; then
			reason="the new version did not apply the current manifest before its trial deadline"
		fi
		if [ -n "$reason" ]; then
			plain "$version" || version=
			case $build in *[!0-9a-f]*) build= ;; esac
			case $rollout in *[!A-Za-z0-9_-]*) rollout= ;; esac
			if ! point "$previous"; then
				say "could not switch back to $previous"
				exit 1
			fi
			cat >"$rollback.tmp" <<EOF
{
  "from": "$new",
  "to": "$previous",
  "version": "$version",
  "build": "$build",
  "rollout": "$rollout",
  "reason": "$reason",
  "at": $now
}
EOF
			mv -f "$rollback.tmp" "$rollback"
			rm -f "$trial"
			say "rolled back from $new to $previous: $reason"
		else
			sed "s/^\([[:space:]]*\"starts\":[[:space:]]*\)[0-9]*/\1$starts/" "$trial" >"$trial.tmp" &&
				mv -f "$trial.tmp" "$trial"
			say "starting $new on trial (start $starts of at most $max_starts)"
		fi
	fi
fi

KIOSK_PLAYER_INSTALL_DIR=$dir
export KIOSK_PLAYER_INSTALL_DIR
exec "$link" "$@"
