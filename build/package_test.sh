#!/usr/bin/env bash
# Packaging test (called from build/test when running as root with dpkg):
# builds the .deb with build/package, lists and checks its contents,
# installs it, checks that systemd-analyze accepts the units and that udev
# parses the rule, runs the installed binaries as the onedoor user, purges
# the package and checks nothing is left behind - except residents' data,
# which a purge must keep.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
  echo "package_test: skipped (needs root and dpkg)"
  exit 0
fi
if dpkg-query -W -f='${Status}' onedoor 2>/dev/null | grep -q "installed"; then
  echo "package_test: onedoor is already installed on this machine; not touching it" >&2
  exit 1
fi

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
ok() { echo "  ok  $*"; }
cleanup() {
  if dpkg-query -W onedoor >/dev/null 2>&1; then dpkg --purge onedoor >/dev/null 2>&1 || true; fi
  rm -rf /var/lib/onedoor-test-kept
}
trap cleanup EXIT

echo "== build/package"
deb=$(./build/package | tail -1)
[ -f "$deb" ] || fail "build/package made no .deb"
ok "$deb ($(du -h "$deb" | cut -f1))"

echo "== contents"
dpkg-deb --contents "$deb" | tee /tmp/onedoor-deb-contents.txt | awk '{print "     " $1, $2, $6}'
has() { # has MODE PATH
  awk -v m="$1" -v p="./$2" '$6 == p && $1 == m {found=1} END {exit !found}' /tmp/onedoor-deb-contents.txt ||
    fail "package lacks $2 with mode $1"
}
has -rwxr-xr-x usr/bin/onedoor
has -rwxr-xr-x usr/bin/onedoor-platformd
has -rw------- etc/onedoor/config.toml
has -rw-r--r-- usr/lib/systemd/system/onedoor-kiosk.service
has -rw-r--r-- usr/lib/systemd/system/onedoor-metrics.service
has -rw-r--r-- usr/lib/systemd/system/onedoor-platformd.service
has -rw-r--r-- usr/lib/udev/rules.d/70-onedoor.rules
has -rw-r--r-- etc/X11/xorg.conf.d/50-onedoor-kiosk.conf
has -rwxr-xr-x usr/lib/onedoor/kiosk-session
has -rwxr-xr-x usr/lib/onedoor/assign-port
has -rw-r--r-- usr/share/doc/onedoor/README.md
ok "files and modes"
ctl=$(mktemp -d)
dpkg-deb --control "$deb" "$ctl"
grep -qx /etc/onedoor/config.toml "$ctl/conffiles" || fail "config.toml is not a conffile"
for s in preinst postinst prerm postrm; do [ -x "$ctl/$s" ] || fail "no $s maintainer script"; done
rm -rf "$ctl"
ok "conffiles and maintainer scripts"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/onedoor >/tmp/onedoor-bin
go version -m /tmp/onedoor-bin | grep -q -- '-tags=no_emoji' || fail "onedoor binary not built with -tags no_emoji"
rm -f /tmp/onedoor-bin
ok "binary built with -tags no_emoji"

echo "== install"
dpkg -i "$deb" || fail "dpkg -i failed"
getent passwd onedoor >/dev/null || fail "no onedoor user"
[ "$(stat -c '%U %a' /var/lib/onedoor)" = "onedoor 750" ] || fail "/var/lib/onedoor is $(stat -c '%U %a' /var/lib/onedoor)"
[ "$(stat -c '%U %a' /etc/onedoor/config.toml)" = "onedoor 600" ] || fail "config is $(stat -c '%U %a' /etc/onedoor/config.toml)"
[ "$(stat -c '%U %a' /etc/onedoor/data.key)" = "onedoor 600" ] || fail "data key is $(stat -c '%U %a' /etc/onedoor/data.key)"
grep -Eqx '[0-9a-f]{64}' /etc/onedoor/data.key || fail "data key is not 64 hex digits"
ok "onedoor user, /var/lib/onedoor, config and data key"
if command -v systemctl >/dev/null; then
  [ -L /etc/systemd/system/graphical.target.wants/onedoor-kiosk.service ] || fail "kiosk session not enabled"
  ok "kiosk session enabled for graphical.target"
fi

echo "== systemd-analyze verify"
out=$(systemd-analyze verify /usr/lib/systemd/system/onedoor-kiosk.service \
  /usr/lib/systemd/system/onedoor-metrics.service /usr/lib/systemd/system/onedoor-platformd.service 2>&1) ||
  fail "systemd-analyze verify: $out"
# Warnings about other units on the machine are not ours; any about ours fail.
if echo "$out" | grep -i onedoor; then fail "systemd-analyze verify complains about our units"; fi
ok "units accepted"

echo "== udev rule"
if udevadm verify --help >/dev/null 2>&1; then
  udevadm verify /usr/lib/udev/rules.d/70-onedoor.rules || fail "udevadm verify"
  ok "udevadm verify"
else
  # systemd < 254 has no `udevadm verify`; `udevadm test` reads every rules
  # file and names file:line of anything it cannot parse.
  out=$(udevadm test --action=add /class/tty/tty0 2>&1 || true)
  echo "$out" | grep -q 'Reading rules file: /usr/lib/udev/rules.d/70-onedoor.rules' || fail "udev did not read the rule: $out"
  if echo "$out" | grep '70-onedoor.rules:'; then fail "udev complains about the rule"; fi
  ok "udevadm test parsed the rule without complaint (no udevadm verify on systemd $(udevadm --version))"
fi
set +e
/usr/lib/onedoor/assign-port frobnicator /dev/null 2>/dev/null; [ $? -eq 2 ] || fail "assign-port accepted a bad name"
/usr/lib/onedoor/assign-port printer /dev/null 2>/tmp/onedoor-assign.txt; code=$?
set -e
[ $code -eq 1 ] && grep -q "knows no socket" /tmp/onedoor-assign.txt || fail "assign-port on a device without a socket: $code $(cat /tmp/onedoor-assign.txt)"
ok "assign-port refuses a bad name and a device without a USB socket"
# The rules assign-port writes: a stand-in udevadm answers the socket query
# (no USB serial device here) and ignores reloads; the real udev then parses
# the file it wrote.
fake=$(mktemp -d)
cat >"$fake/udevadm" <<'FAKE'
#!/bin/sh
if [ "$1" = info ]; then echo "DEVNAME=/dev/null"; echo "ID_PATH=$FAKE_ID_PATH"; fi
exit 0
FAKE
chmod 755 "$fake/udevadm"
ports=/etc/udev/rules.d/71-onedoor-ports.rules
for step in "printer pci-0000:00:14.0-usb-0:2:1.0" "idcard pci-0000:00:14.0-usb-0:3:1.0" "printer pci-0000:00:14.0-usb-0:4:1.0"; do
  set -- $step
  FAKE_ID_PATH=$2 PATH="$fake:$PATH" /usr/lib/onedoor/assign-port "$1" /dev/null >/dev/null || fail "assign-port $step"
done
rm -rf "$fake"
[ "$(grep -c 'SYMLINK+="onedoor/printer"' $ports)" = 1 ] && grep -q 'usb-0:4:1.0", SYMLINK+="onedoor/printer"' $ports &&
  grep -q 'usb-0:3:1.0", SYMLINK+="onedoor/idcard"' $ports || fail "assign-port wrote: $(cat $ports)"
out=$(udevadm test --action=add /class/tty/tty0 2>&1 || true)
echo "$out" | grep -q "Reading rules file: $ports" || fail "udev did not read $ports"
if echo "$out" | grep "71-onedoor-ports.rules:"; then fail "udev complains about the rules assign-port wrote"; fi
ok "assign-port writes one rule per device (reassigning replaces it) and udev parses them"

echo "== installed binaries as the onedoor user"
runuser -u onedoor -- /usr/bin/onedoor config validate --config /etc/onedoor/config.toml 2>&1 | grep -v 'Fyne\|Cause:\|At:'
runuser -u onedoor -- /usr/bin/onedoor doctor --config /etc/onedoor/config.toml --skip-devices 2>&1 | grep -v 'Fyne\|Cause:\|At:' ||
  fail "doctor on a fresh install"
ok "config valid; doctor healthy on a fresh install (devices skipped)"
if [ ! -x /usr/bin/Xorg ]; then
  set +e
  runuser -u onedoor -- /usr/lib/onedoor/kiosk-session 2>/tmp/onedoor-session.txt; code=$?
  set -e
  [ $code -eq 1 ] && grep -q "apt install xinit" /tmp/onedoor-session.txt || fail "kiosk-session without X: $code $(cat /tmp/onedoor-session.txt)"
  ok "kiosk-session without Xorg says what to install (X itself is not exercised here)"
fi

echo "== purge"
dpkg --purge onedoor || fail "dpkg --purge failed"
for p in /usr/bin/onedoor /etc/onedoor /var/lib/onedoor /var/lib/onedoor-platform /usr/lib/onedoor \
  /etc/systemd/system/graphical.target.wants/onedoor-kiosk.service /etc/udev/rules.d/71-onedoor-ports.rules; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p left after purge"
done
! getent passwd onedoor >/dev/null || fail "onedoor user left after purge"
ok "nothing left"

echo "== purge keeps residents' data"
dpkg -i "$deb" >/dev/null || fail "reinstall"
runuser -u onedoor -- /usr/bin/onedoor dev enqueue --data /var/lib/onedoor --key-file /etc/onedoor/data.key --kiosk K01 --count 1 >/dev/null ||
  fail "onedoor dev enqueue as the onedoor user"
dpkg --purge onedoor 2>/tmp/onedoor-purge.txt || fail "second purge"
[ -e /var/lib/onedoor/onedoor.db ] && [ -e /etc/onedoor/data.key ] || fail "purge deleted stored submissions or their key"
grep -q "kept /var/lib/onedoor" /tmp/onedoor-purge.txt || fail "purge did not say it kept the data"
rm -rf /var/lib/onedoor /etc/onedoor
if getent passwd onedoor >/dev/null; then deluser --system onedoor >/dev/null 2>&1 || true; fi
if getent group onedoor >/dev/null; then delgroup --system onedoor >/dev/null 2>&1 || true; fi
ok "data directory and key kept, and said so"
echo "package_test: PASS"
