#!/usr/bin/env bash
# The runtime layer of FedSeal's OCI images, built from this machine's JDK (no base image, no registry):
#   build-rootfs.sh OUT_DIR JAVA_HOME HE_NATIVE_JAR
# OUT_DIR/opt/java  a jlink'ed JRE (the modules the services use) from JAVA_HOME's jmods;
# OUT_DIR/lib*, usr/lib*  every shared library the JRE and he-native's library load (glibc, zlib,
#                   libstdc++, ...), copied at the paths the dynamic loader looks them up, as ldd finds them;
# OUT_DIR/tmp       where he-native unpacks its library.
set -euo pipefail
out="$1"; jdk="$2"; he_jar="$3"
if [ ! -d "$jdk/jmods" ]; then
  echo "build-rootfs: $jdk has no jmods/ (Debian: apt-get install openjdk-17-jmods); cannot jlink the images' JRE" >&2
  exit 1
fi
modules=java.base,java.logging,java.management,java.naming,java.net.http,java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.unsupported,jdk.zipfs
stamp="$out/.stamp-$(echo "$modules $jdk $(stat -c %Y "$he_jar")" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0 # built before from the same inputs
fi
rm -rf "$out"
mkdir -p "$out/opt" "$out/tmp"
"$jdk/bin/jlink" --module-path "$jdk/jmods" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=2 --output "$out/opt/java"

# Shared libraries: everything ldd resolves for the JRE's binaries and libraries and for he-native's.
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$work" && "$jdk/bin/jar" xf "$he_jar" org/fedseal/he/native)
mapfile -t elves < <(find "$out/opt/java" "$work" -type f \( -name '*.so' -o -perm -u+x \) -print)
declare -A libs=()
for f in "${elves[@]}"; do
  file -b "$f" | grep -q '^ELF' || continue
  while read -r path; do
    [ -n "$path" ] && libs["$path"]=1
  done < <(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}')
done
for lib in "${!libs[@]}"; do
  case "$lib" in "$out"/*) continue ;; esac # the JRE's own libraries
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done
# The loader the ELF headers name, at its canonical path.
interp=$(file -b -L "$out/opt/java/bin/java" | sed -n 's/.*interpreter \([^,]*\),.*/\1/p')
if [ -n "$interp" ] && [ ! -e "$out$interp" ]; then
  mkdir -p "$out$(dirname "$interp")"
  cp -L "$interp" "$out$interp"
fi
touch "$stamp"
echo "build-rootfs: JRE + ${#libs[@]} shared libraries in $out ($(du -sh "$out" | cut -f1))"
