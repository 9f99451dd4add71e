#!/bin/sh
# verify.sh - check a forensic export bag (BagIt, RFC 8493) with nothing but POSIX sh,
# sha256sum and openssl. It checks, naming each file that fails:
#   1. the tag manifest (bagit.txt, bag-info.txt, manifest-sha256.txt, verify.sh, VERIFY.md);
#   2. the payload manifest: every file under data/ listed, present and unchanged;
#   3. the custody log data/custody/log.jsonl: sequence, hash chain, actor, Ed25519 signatures;
#   4. every evidence object and case file the log vouches for, re-hashed;
#   5. that bag-info.txt's Forensic-Log-Head is the hash of the last log line;
#   6. every RFC 3161 timestamp token (openssl ts -verify) and the log entry it stamps.
# Usage: sh verify.sh [BAG_FOLDER]     (default: the folder this script is in)
# Exit: 0 intact, 1 a problem was found (each one printed), 3 a required tool is missing.
set -u
LC_ALL=C
export LC_ALL
bag_dir=${1:-$(dirname "$0")}
cd "$bag_dir" || { echo "cannot enter $bag_dir"; exit 3; }
for tool in sha256sum openssl sed grep awk cut sort find wc mktemp comm cmp head tail tr \
    xargs; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool"; exit 3; }
done
status=0
problem() { echo "PROBLEM: $*"; status=1; }
work=$(mktemp -d) || exit 3
trap 'rm -rf "$work"' EXIT
trap 'rm -rf "$work"; exit 3' INT TERM

# check_manifest MANIFEST LISTFILE: well-formed lines re-hashed; LISTFILE gets the paths.
check_manifest() {
  : > "$2"
  if [ ! -f "$1" ]; then
    problem "$1: missing"
    return
  fi
  # Well-formed: 64 lowercase hex digits, two spaces, a path that does not start with a space.
  tr -d '\000' < "$1" | awk -v m="$1" -v ok="$work/wellformed" -v bad="$work/bad" '
    length($0) >= 67 && substr($0, 1, 64) ~ /^[0-9a-f]*$/ && substr($0, 65, 2) == "  " \
      && substr($0, 67, 1) != " " { print > ok; next }
    { print "PROBLEM: " m ":" NR ": malformed manifest line"; print "x" >> bad }'
  [ -f "$work/wellformed" ] || : > "$work/wellformed"
  cut -c 67- "$work/wellformed" > "$2"
  if [ -s "$work/wellformed" ]; then
    sha256sum -c "$work/wellformed" 2>/dev/null | grep -v ': OK$' | while IFS= read -r bad; do
      echo "PROBLEM: $1: $bad"
      echo x >> "$work/bad"
    done
  fi
  rm -f "$work/wellformed"
}
: > "$work/bad"

# 1. Tag files: the declaration, bag-info, the payload manifest, this script and VERIFY.md.
[ -f bagit.txt ] || problem "bagit.txt: missing"
[ -f bagit.txt ] && { grep -q '^BagIt-Version: 1\.0$' bagit.txt || problem "bagit.txt: not BagIt 1.0"; }
check_manifest tagmanifest-sha256.txt "$work/tags"
for tag in bagit.txt bag-info.txt manifest-sha256.txt verify.sh VERIFY.md; do
  grep -qx "$tag" "$work/tags" || problem "$tag: not listed in tagmanifest-sha256.txt"
done
# Nothing hashes the tag manifest itself: it must be exactly as written, in this order.
printf '%s\n' bagit.txt bag-info.txt manifest-sha256.txt verify.sh VERIFY.md > "$work/tags.order"
cmp -s "$work/tags" "$work/tags.order" || \
  problem "tagmanifest-sha256.txt: lines added, removed or out of order (edited?)"
find . -type f ! -path './data/*' | sed 's|^\./||' | grep -vx 'tagmanifest-sha256.txt' \
  | sort > "$work/tags.present"
sort -u "$work/tags" > "$work/tags.sorted"
comm -23 "$work/tags.present" "$work/tags.sorted" | while IFS= read -r extra; do
  echo "PROBLEM: $extra: not listed in tagmanifest-sha256.txt"
  echo x >> "$work/bad"
done

# 2. Payload: every file under data/ listed in manifest-sha256.txt, and unchanged.
check_manifest manifest-sha256.txt "$work/payload"
sort -u "$work/payload" > "$work/payload.sorted"
find data -type f | sort > "$work/payload.present"
comm -23 "$work/payload.present" "$work/payload.sorted" | while IFS= read -r extra; do
  echo "PROBLEM: $extra: not listed in manifest-sha256.txt (added to the bag?)"
  echo x >> "$work/bad"
done
echo "payload files: $(wc -l < "$work/payload.present")"

# 3. The custody log (the case up to the entry before this export).
d=data
log=$d/custody/log.jsonl
sigs=$d/custody/log.sig
pem=$d/examiner.pub.pem
[ -f "$log" ] || { problem "$log: missing"; exit 1; }
[ -f "$sigs" ] || { problem "$sigs: missing"; exit 1; }
[ -f "$pem" ] || { problem "$pem: missing"; exit 1; }
fp=$(openssl pkey -pubin -in "$pem" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
echo "examiner key fingerprint: $fp"
: > "$work/heads"
complete=$(wc -l < "$log")
mkdir "$work/l" "$work/b"
awk -v dir="$work/l" -v complete="$complete" \
  'NR <= complete { f = dir "/" NR; printf "%s", $0 > f; close(f) }' "$log"
: > "$work/sums"
if [ "$complete" -gt 0 ]; then
  (cd "$work/l" && awk -v c="$complete" 'BEGIN { for (i = 1; i <= c; i++) print i }' \
    | xargs sha256sum) > "$work/sums"
fi
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || cpus=1
case $cpus in ''|*[!0-9]*) cpus=1 ;; esac
[ "$cpus" -ge 1 ] || cpus=1
[ "$cpus" -le 8 ] || cpus=8
# Fields as sed would read them from the line (the last "seq" and "prev" match, as with '.*').
head -n "$complete" "$log" | tr -d '\000' | awk -v logf="$log" -v sigs="$sigs" -v fp="$fp" -v pem="$pem" \
  -v sums="$work/sums" -v cpus="$cpus" -v work="$work" '
function lastmatch(s, re,   off, at, len) {
  off = 0; at = 0
  while (match(s, re)) { at = off + RSTART; len = RLENGTH; off += RSTART; s = substr(s, RSTART + 1) }
  return at ? "@" at " " len : ""
}
function field(s, re, lead, trail,   m, sp, at, len) {
  m = lastmatch(s, re)
  if (m == "") return ""
  sp = index(m, " "); at = substr(m, 2, sp - 2) + 0; len = substr(m, sp + 1) + 0
  return substr(s, at + lead, len - lead - trail)
}
function say(n, k, text) { print n, k, text > (work "/msg") }
# Only canonical base64 (what openssl base64 -A writes) counts; unused bits must be zero.
function canonical(s,   body, l) {
  l = length(s)
  if (l % 4) return 0
  body = s
  if (substr(s, l - 1) == "==") {
    body = substr(s, 1, l - 2)
    if (substr(body, l - 2, 1) !~ /^[AQgw]$/) return 0
  } else if (substr(s, l) == "=") {
    body = substr(s, 1, l - 1)
    if (substr(body, l - 1, 1) !~ /^[AEIMQUYcgkosw048]$/) return 0
  }
  return body ~ "^[A-Za-z0-9+/]*$"
}
function octal(s,   i, l, v, q, c, out, pad) {
  out = ""
  l = length(s)
  for (i = 1; i <= l; i += 4) {
    v = 0; pad = 0
    for (q = 0; q < 4; q++) {
      c = substr(s, i + q, 1)
      if (c == "=") { pad++; v = v * 64 } else v = v * 64 + index(B64, c) - 1
    }
    out = out sprintf("\\%03o", int(v / 65536))
    if (pad < 2) out = out sprintf("\\%03o", int(v / 256) % 256)
    if (pad < 1) out = out sprintf("\\%03o", v % 256)
  }
  return out
}
BEGIN {
  B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  while ((getline row < sums) > 0) hash[substr(row, 67) + 0] = substr(row, 1, 64)
  ns = 0
  while ((getline row < sigs) > 0) {
    ns++; sigat[ns] = row
    sp = index(row, " ")
    if (sp && !((substr(row, 1, sp - 1)) in sigfor)) sigfor[substr(row, 1, sp - 1)] = row
  }
  prev = "0000000000000000000000000000000000000000000000000000000000000000"
  expected = 0
}
{
  n = NR
  seq = field($0, "\"seq\":[0-9][0-9]*,\"subject\"", 6, 10)
  lprev = field($0, "\"prev\":\"[0-9a-f]*\",\"seq\"", 8, 7)
  actor = ""
  if (match($0, "^[{]\"action\":\"[^\"]*\",\"actor\":\"[0-9a-f]*\"")) {
    actor = substr($0, 1, RLENGTH - 1); sub(/.*"/, "", actor)
  }
  if (seq == "") say(n, 1, logf ":" n ": not a custody entry")
  else {
    if (seq != (expected "")) say(n, 1, logf ":" n ": expected seq " expected ", found " seq)
    expected = seq + 1
  }
  if (lprev != prev) say(n, 2, logf ":" n ": chain broken (prev does not match line " (n - 1) ")")
  if (actor != fp) say(n, 3, logf ":" n ": actor is not the examiner key " pem)
  atn = (n in sigat) ? sigat[n] : ""
  sp = index(atn, " ")
  if ((sp ? substr(atn, 1, sp - 1) : atn) != ((n - 1) ""))
    say(n, 4, sigs ":" n ": signature line is not for seq " (n - 1))
  key = (seq == "") ? "x" : seq
  shown = (seq == "") ? "?" : seq
  if (!(key in sigfor)) say(n, 5, logf ":" n ": no signature for seq " shown " in " sigs)
  else {
    rest = substr(sigfor[key], index(sigfor[key], " ") + 1)
    sp = index(rest, " ")
    b64 = sp ? substr(rest, 1, sp - 1) : rest
    if (canonical(b64)) print n, "o", octal(b64) > (work "/jobs." (n % cpus))
    else {
      say(n, 5, logf ":" n ": its signature line (seq " shown ") is not canonical base64 (edited)")
      printf "%s\n", b64 > (work "/b/" n); close(work "/b/" n)
      print n, "r" > (work "/jobs." (n % cpus))
    }
  }
  prev = hash[n]
  print key, prev > (work "/heads")
}
END { print (NR ? prev : "0000000000000000000000000000000000000000000000000000000000000000") > (work "/head") }
'
# verify_sigs JOBS SIG: one openssl pkeyutl per signature; a failure is noted for its line.
verify_sigs() {
  [ -f "$1" ] || return 0
  while read -r vn vmode voct; do
    if [ "$vmode" = o ]; then
      printf "$voct" > "$2"
    else
      openssl base64 -d -A -in "$work/b/$vn" > "$2" 2>/dev/null
    fi
    if ! openssl pkeyutl -verify -pubin -inkey "$pem" -rawin \
        -in "$work/l/$vn" -sigfile "$2" >/dev/null 2>&1; then
      echo "$vn 6 $log:$vn: signature in $sigs does not verify"
    fi
  done < "$1"
}
k=0
while [ "$k" -lt "$cpus" ]; do
  verify_sigs "$work/jobs.$k" "$work/sig.$k" > "$work/msg.$k" &
  k=$((k + 1))
done
wait
[ -f "$work/msg" ] || : > "$work/msg"
sort -k1,1n -k2,2n "$work/msg" "$work"/msg.[0-9]* | cut -d' ' -f3- | sed 's/^/PROBLEM: /' \
  > "$work/said"
if [ -s "$work/said" ]; then
  cat "$work/said"
  status=1
fi
n=$complete
if [ "$(tail -n "+$((n + 1))" "$log" | tr -d '\000' | wc -c)" -gt 0 ]; then
  problem "$log:$((n + 1)): line torn (no newline)"
fi
prev=$(cat "$work/head")
# Files and objects that the entries vouch for.
head -n "$complete" "$log" | tr -d '\000' \
  | grep -o '{"path":"[^"]*",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"[0-9a-f]*","size":[0-9]*}' \
  | sed 's/^{"path":"\([^"]*\)",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"\([0-9a-f]*\)".*/\3  \1/' >> "$work/files"
head -n "$complete" "$log" | tr -d '\000' \
  | grep -o '"object":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' \
  | sed 's/^"object":"\(objects[^"]*\/\([0-9a-f]*\)\)"$/\2  \1/' >> "$work/objects"
head -n "$complete" "$log" | tr -d '\000' | grep '^{"action":"timestamp"' \
  | grep -o '{"chain":[^{}]*"tsr":"[^"]*"[^{}]*}' >> "$work/tokens"
sigcount=$(wc -l < "$sigs")
[ "$sigcount" -le "$n" ] || \
  problem "$log:$((n + 1)): missing ($sigs has $sigcount signatures for $n lines: a line was deleted?)"
echo "log lines: $n"
echo "log head: $prev"

# Encrypted cases: "encrypt"/"share" entries replace objects with new ciphertext (from -> to).
grep -o '"to":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' "$log" \
  | sed 's/^"to":"\(objects[^"]*\/\([0-9a-f]*\)\)"$/\2  \1/' >> "$work/objects"
echo '#' > "$work/superseded"
grep -o '"from":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' "$log" \
  | sed 's/^"from":"\(objects[^"]*\)"$/\1/' >> "$work/superseded"
awk 'NR == FNR { gone[$0] = 1; next } !($2 in gone)' "$work/superseded" "$work/objects" \
  > "$work/objects.current"
mv "$work/objects.current" "$work/objects"

# 4. Every object and case file the log vouches for (the last record of a path wins).
sort -u "$work/objects" > "$work/objects.sorted"
# The wrapped case key (keys/case-identity.age) is never shipped in a bag.
awk '{ last[$2] = $0 } END { for (p in last) print last[p] }' "$work/files" \
  | grep -v '  keys/case-identity\.age$' | sort > "$work/files.last"
cat "$work/objects.sorted" "$work/files.last" > "$work/expected"
if [ -s "$work/expected" ]; then
  (cd "$d" && sha256sum -c "$work/expected" 2>/dev/null) | grep -v ': OK$' \
    | while IFS= read -r bad; do
      echo "PROBLEM: $d/$bad (recorded in the custody log)"
      echo x >> "$work/bad"
    done
fi
echo "objects: $(wc -l < "$work/objects.sorted")"
if grep -q '"encrypted":{' "$log" || grep -q '"action":"encrypt"' "$log"; then
  echo "encrypted case: objects were checked as age ciphertext (SHA-256 of the stored bytes);"
  echo "  a recipient decrypts one with: age -d -i KEY.txt data/objects/sha256/XX/NAME"
fi
# export --decrypt: each plaintext file must be named by its SHA-256, an item of the log.
if [ -d "$d/plaintext" ]; then
  grep -o '"plaintext_sha256":"[0-9a-f]*"' "$log" | sed 's/.*:"\([0-9a-f]*\)"/\1/' \
    | sort -u > "$work/items.enc"
  (cd "$d" && find plaintext/sha256 -type f 2>/dev/null) | sort > "$work/plain.present"
  # Decrypted derived files (data/plaintext/<case path>): the SHA-256 must be the
  # plaintext_sha256 the latest log record of that case path states.
  grep -o '"path":"[^"]*","plaintext_sha256":"[0-9a-f]*"' "$log" \
    | sed 's/^"path":"\([^"]*\)","plaintext_sha256":"\([0-9a-f]*\)"$/\1 \2/' \
    | awk '{ last[$1] = $2 } END { for (p in last) print p, last[p] }' > "$work/derived.plain"
  (cd "$d" && find plaintext -type f ! -path 'plaintext/sha256/*') | sort > "$work/derived.present"
  # One sha256sum for all of them (each character escaped for xargs, so any name passes whole).
  : > "$work/plain.sums"
  cat "$work/plain.present" "$work/derived.present" | sed "s|^|$d/|" > "$work/plain.all"
  if [ -s "$work/plain.all" ]; then
    sed 's/./\\&/g' "$work/plain.all" | xargs sha256sum > "$work/plain.sums" 2>/dev/null
  fi
  # Each file's SHA-256 as "sha256sum FILE | cut -d' ' -f1" gives it (a name with a backslash
  # is listed escaped, its sum then starts with a backslash).
  awk -v d="$d" -v sums="$work/plain.sums" -v items="$work/items.enc" \
    -v derived="$work/derived.plain" -v plain="$work/plain.present" -v flag="$work/bad" '
    function unescape(s,   out, i, c) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < length(s)) {
          i++; c = substr(s, i, 1)
          if (c == "n") c = "\n"; else if (c == "r") c = "\r"
        }
        out = out c
      }
      return out
    }
    BEGIN {
      while ((getline row < sums) > 0) {
        sp = index(row, " ")
        name = substr(row, sp + 2)
        if (substr(row, 1, 1) == "\\") name = unescape(name)
        if (!(name in sum)) sum[name] = substr(row, 1, sp - 1)
      }
      while ((getline row < items) > 0) item[row] = 1
      while ((getline row < derived) > 0) { split(row, f, " "); want[f[1]] = f[2] }
      np = 0
      while ((getline pf < plain) > 0) {
        np++
        name = pf; sub(/.*\//, "", name)
        s = sum[d "/" pf]
        if (s != name) say(d "/" pf ": SHA-256 is " s ", not its name (altered)")
        if (!(name in item)) say(d "/" pf ": not an encrypted item of the custody log")
      }
      print "decrypted items (data/plaintext/): " np ", each named by its SHA-256 as recorded" \
        " in the log"
      nd = 0
    }
    function say(text) { print "PROBLEM: " text; bad = 1 }
    {
      nd++
      rel = substr($0, 11)
      s = sum[d "/" $0]
      if (!(rel in want) || want[rel] == "") say(d "/" $0 ": no encrypted case file " rel " in the custody log")
      else if (s != want[rel]) say(d "/" $0 ": SHA-256 is " s ", the log records " want[rel] " for " rel " (altered)")
    }
    END {
      print "decrypted derived files (data/plaintext/<case path>): " nd ", each checked" \
        " against the log"
      if (bad) print "x" >> flag
    }' "$work/derived.present"
fi

# 5. bag-info.txt states the head of the log the bag holds.
stated=$(sed -n 's/^Forensic-Log-Head: *\([0-9a-f]*\).*/\1/p' bag-info.txt 2>/dev/null | head -n 1)
[ "$stated" = "$prev" ] || problem "bag-info.txt: Forensic-Log-Head ${stated:-?} is not the log head $prev"

# 6. RFC 3161 timestamp tokens over log heads.
tokens=0
if [ -s "$work/tokens" ] 2>/dev/null; then
  while IFS= read -r tok; do
    tokens=$((tokens + 1))
    tsr=$(printf '%s' "$tok" | sed -n 's/.*"tsr":"\([^"]*\)".*/\1/p')
    chain=$(printf '%s' "$tok" | sed -n 's/.*"chain":"\([^"]*\)".*/\1/p')
    root=$(printf '%s' "$tok" | sed -n 's/.*"root":"\([^"]*\)".*/\1/p')
    hh=$(printf '%s' "$tok" | sed -n 's/.*"head_hash":"\([0-9a-f]*\)".*/\1/p')
    hs=$(printf '%s' "$tok" | sed -n 's/.*"head_seq":\([0-9]*\).*/\1/p')
    tsa=$(printf '%s' "$tok" | sed -n 's/.*"tsa":"\([^"]*\)".*/\1/p')
    at=$(grep "^${hs:-x} " "$work/heads" | head -n 1 | cut -d' ' -f2)
    [ -n "$hh" ] && [ "$at" = "$hh" ] || \
      problem "$d/$tsr: stamps head_hash ${hh:-?}, but log entry ${hs:-?} hashes to ${at:-?}"
    [ -f "$d/$tsr" ] || { problem "$d/$tsr: timestamp token missing"; continue; }
    if [ -n "$root" ]; then
      cp "$d/$root" "$work/root.pem" 2>/dev/null || problem "$d/$root: root certificate missing"
    elif [ -n "$chain" ] && [ -f "$d/$chain" ]; then
      # The chain file lists the TSA certificate first and its root last.
      awk '/-----BEGIN CERTIFICATE-----/ { buf = ""; inside = 1 }
           inside { buf = buf $0 "\n" }
           /-----END CERTIFICATE-----/ { inside = 0; last = buf }
           END { printf "%s", last }' "$d/$chain" > "$work/root.pem"
    else
      problem "$d/$tsr: no certificate chain (${chain:-none}) to verify it with"
      continue
    fi
    untrusted=$work/root.pem
    [ -n "$chain" ] && [ -f "$d/$chain" ] && untrusted=$d/$chain
    # Certificates are checked as of the time the TSA signed (its genTime), not today: a TSA
    # certificate that expired after the token was made does not void the token.
    gt=$(openssl ts -reply -in "$d/$tsr" -text 2>/dev/null | sed -n 's/^Time stamp: //p' \
      | head -n 1)
    epoch=$(printf '%s\n' "$gt" | awk 'NF >= 4 {
      split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", names, " ")
      mon = 0; for (i = 1; i <= 12; i++) if (names[i] == $1) mon = i
      split($3, t, ":"); y = $4 + 0
      if (mon <= 2) { y = y - 1; mm = mon + 9 } else { mm = mon - 3 }
      era = int(y / 400); yoe = y - era * 400
      doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + int((153 * mm + 2) / 5) + $2 - 1
      if (mon > 0) printf "%d\n", (era * 146097 + doe - 719468) * 86400 \
        + t[1] * 3600 + t[2] * 60 + int(t[3]) }')
    set -- -digest "$hh" -in "$d/$tsr" -CAfile "$work/root.pem" -untrusted "$untrusted"
    [ -n "$epoch" ] && set -- "$@" -attime "$epoch"
    if openssl ts -verify "$@" > "$work/ts.out" 2>&1; then
      rootfp=$(openssl x509 -in "$work/root.pem" -noout -fingerprint -sha256 2>/dev/null \
        | sed 's/.*=//')
      echo "timestamp token $d/$tsr ($tsa) verifies for log entry $hs, time $gt" \
        "(certificates checked as of epoch ${epoch:-now}); root SHA-256 $rootfp"
      case $tok in
        *'"demo":true'*|*'"trusted":false'*)
          echo "  note: $d/$tsr comes from a demo or untrusted TSA; check its root fingerprint" ;;
      esac
    else
      problem "$d/$tsr: timestamp token does not verify ($(tr '\n' ' ' < "$work/ts.out" | cut -c 1-200))"
    fi
  done < "$work/tokens"
fi
echo "timestamp tokens: $tokens"

[ -s "$work/bad" ] && status=1
if [ "$status" -eq 0 ]; then
  echo "RESULT: intact"
else
  echo "RESULT: PROBLEMS FOUND"
fi
exit "$status"
