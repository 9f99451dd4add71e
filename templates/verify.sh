#!/bin/sh
# verify.sh - check a forensic case folder with nothing but POSIX sh, sha256sum and openssl.
# Usage: sh verify.sh [CASE_FOLDER]     (default: the folder this script is in)
# Exit: 0 intact, 1 a problem was found (each one printed), 3 a required tool is missing.
# Format: docs/format.md of the forensic project (custody log v1, object store v1).
set -u
LC_ALL=C
export LC_ALL
case_dir=${1:-$(dirname "$0")}
cd "$case_dir" || { echo "cannot enter $case_dir"; exit 3; }
for tool in sha256sum openssl sed grep awk cut sort head tail tr xargs; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool"; exit 3; }
done
status=0
problem() { echo "PROBLEM: $*"; status=1; }
work=$(mktemp -d) || exit 3
trap 'rm -rf "$work"' EXIT INT TERM
log=custody/log.jsonl
sigs=custody/log.sig
[ -f "$log" ] || { problem "$log missing"; exit 1; }
[ -f "$sigs" ] || { problem "$sigs missing"; exit 1; }
[ -f examiner.pub.pem ] || { problem "examiner.pub.pem missing"; exit 1; }

# 1. The examiner key: its fingerprint is the actor of every line.
fp=$(openssl pkey -pubin -in examiner.pub.pem -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
echo "examiner key fingerprint: $fp"

# 2. Every log line: sequence, chain link, actor, Ed25519 signature over the exact line bytes.
# The per-line work is batched: awk writes each complete line to its own file and reads the
# fields, one sha256sum hashes them all, and only the signature check runs once per line (openssl
# pkeyutl), spread over the CPUs. Problems are collected per line and printed in line order.
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
head -n "$complete" "$log" | tr -d '\000' | awk -v logf="$log" -v sigs="$sigs" -v fp="$fp" \
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
  if (actor != fp) say(n, 3, logf ":" n ": actor is not the examiner key")
  atn = (n in sigat) ? sigat[n] : ""
  sp = index(atn, " ")
  if ((sp ? substr(atn, 1, sp - 1) : atn) != ((n - 1) ""))
    say(n, 4, sigs ":" n ": signature line is not for seq " (n - 1))
  key = (seq == "") ? "x" : seq
  shown = (seq == "") ? "?" : seq
  if (!(key in sigfor)) say(n, 5, logf ":" n ": no signature for seq " shown)
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
    if ! openssl pkeyutl -verify -pubin -inkey examiner.pub.pem -rawin \
        -in "$work/l/$vn" -sigfile "$2" >/dev/null 2>&1; then
      echo "$vn 6 $log:$vn: signature does not verify"
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
  problem "$log:$((n + 1)): line torn (no newline): interrupted write"
fi
prev=$(cat "$work/head")
# Files and objects that the entries vouch for.
head -n "$complete" "$log" | tr -d '\000' \
  | grep -o '{"path":"[^"]*",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"[0-9a-f]*","size":[0-9]*}' \
  | sed 's/^{"path":"\([^"]*\)",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"\([0-9a-f]*\)".*/\3  \1/' >> "$work/files"
head -n "$complete" "$log" | tr -d '\000' \
  | grep -o '"object":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' \
  | sed 's/^"object":"\(objects[^"]*\/\([0-9a-f]*\)\)"$/\2  \1/' >> "$work/objects"
sigcount=$(wc -l < "$sigs")
[ "$sigcount" -le "$n" ] || \
  problem "$log:$((n + 1)): missing ($sigs has $sigcount signatures for $n lines: a line was deleted?)"
echo "log lines: $n"
echo "log head: $prev"

# Encrypted cases (docs/format.md section 16): "encrypt" and "share" entries replace objects with
# new ciphertext ("from" -> "to"); the replaced ones are no longer expected. Ciphertext objects
# are named by the SHA-256 of the ciphertext, so the re-hash below checks them without any key.
grep -o '"to":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' "$log" \
  | sed 's/^"to":"\(objects[^"]*\/\([0-9a-f]*\)\)"$/\2  \1/' >> "$work/objects"
echo '#' > "$work/superseded"
grep -o '"from":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' "$log" \
  | sed 's/^"from":"\(objects[^"]*\)"$/\1/' >> "$work/superseded"
awk 'NR == FNR { gone[$0] = 1; next } !($2 in gone)' "$work/superseded" "$work/objects" \
  > "$work/objects.current"
mv "$work/objects.current" "$work/objects"
encrypted=$(grep -c '"encrypted":{' "$log")

# 3. Every recorded object and file re-hashed (the last record of a file path wins).
sort -u "$work/objects" > "$work/objects.sorted"
awk '{ last[$2] = $0 } END { for (p in last) print last[p] }' "$work/files" | sort > "$work/files.last"
cat "$work/objects.sorted" "$work/files.last" > "$work/expected"
if [ -s "$work/expected" ]; then
  sha256sum -c "$work/expected" 2>/dev/null | grep -v ': OK$' | while IFS= read -r bad; do
    echo "PROBLEM: $bad"
  done | tee "$work/badsums"
  [ -s "$work/badsums" ] && status=1
fi
echo "objects: $(wc -l < "$work/objects.sorted")"
if [ "$encrypted" -gt 0 ] || grep -q '"action":"encrypt"' "$log"; then
  echo "encrypted case: objects were checked as age ciphertext (SHA-256 of the stored bytes)."
  echo "  Their plaintext cannot be checked without the case key: run 'forensic verify --decrypt'."
fi

# 4. Nothing unrecorded: every file in the folder must be accounted for.
cut -c 67- "$work/expected" | sort -u > "$work/known"
printf '%s\n' custody/log.jsonl custody/log.sig .lock >> "$work/known"
sort -u -o "$work/known" "$work/known"
find . ! -type d | sed 's|^\./||' | sort > "$work/present"
comm -23 "$work/present" "$work/known" > "$work/extra" 2>/dev/null || \
  awk 'NR==FNR { k[$0] = 1; next } !($0 in k)' "$work/known" "$work/present" > "$work/extra"
while IFS= read -r extra; do
  [ -n "$extra" ] && problem "$extra: not recorded in the custody log"
done < "$work/extra"

if [ "$status" -eq 0 ]; then
  echo "RESULT: intact"
else
  echo "RESULT: PROBLEMS FOUND"
fi
exit "$status"
