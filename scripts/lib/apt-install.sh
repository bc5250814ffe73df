# Sourced by scripts/setup.sh and scripts/cluster.sh (they define say and fail).
# apt_install PKG...: installs Debian packages as root, without starting the services they ship (the project
# starts its own broker and database). Waits for another apt run's lock instead of failing at once.
apt_install() {
  command -v apt-get >/dev/null || fail "missing $*: no apt-get here; install them with your package manager"
  [ "$(id -u)" -eq 0 ] || fail "missing $*: run as root, or: sudo apt-get install $*"
  say "installing $* (apt)"
  local apt=(apt-get -o DPkg::Lock::Timeout=300)
  "${apt[@]}" update -qq || fail "apt-get update failed: check the network or the apt sources"
  # policy-rc.d tells the packages' install scripts not to start their services.
  local policy=/usr/sbin/policy-rc.d created_policy="" status=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1; fi
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  [ -n "$created_policy" ] && rm -f "$policy"
  [ "$status" -eq 0 ] || fail "apt-get install $* failed"
}
