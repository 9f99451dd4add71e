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
for tool in sha256sum openssl sed grep awk cut sort; do
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
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
expected=0
: > "$work/files"
: > "$work/objects"
complete=$(wc -l < "$log")
while IFS= read -r line || [ -n "$line" ]; do
  n=$((n + 1))
  if [ "$n" -gt "$complete" ]; then
    problem "$log:$n: line torn (no newline): interrupted write"
    n=$((n - 1))
    break
  fi
  printf '%s' "$line" > "$work/line"
  seq=$(printf '%s' "$line" | sed -n 's/.*"seq":\([0-9][0-9]*\),"subject".*/\1/p')
  lprev=$(printf '%s' "$line" | sed -n 's/.*"prev":"\([0-9a-f]*\)","seq".*/\1/p')
  actor=$(printf '%s' "$line" | sed -n 's/^{"action":"[^"]*","actor":"\([0-9a-f]*\)".*/\1/p')
  if [ -z "$seq" ]; then
    problem "$log:$n: not a custody entry"
  else
    [ "$seq" = "$expected" ] || problem "$log:$n: expected seq $expected, found $seq"
    expected=$((seq + 1))
  fi
  [ "$lprev" = "$prev" ] || problem "$log:$n: chain broken (prev does not match line $((n - 1)))"
  [ "$actor" = "$fp" ] || problem "$log:$n: actor is not the examiner key"
  # Line n of the signature file signs seq n - 1 (signatures are appended in log order).
  atn=$(sed -n "${n}p" "$sigs")
  [ "${atn%% *}" = "$((n - 1))" ] || problem "$sigs:$n: signature line is not for seq $((n - 1))"
  sigline=$(grep "^${seq:-x} " "$sigs" | head -n 1)
  if [ -z "$sigline" ]; then
    problem "$log:$n: no signature for seq ${seq:-?}"
  else
    printf '%s' "$sigline" | cut -d' ' -f2 | openssl base64 -d -A > "$work/sig" 2>/dev/null
    # Only the canonical base64 counts (unused bits before '=' must not hide an edit).
    if [ "$(openssl base64 -A -in "$work/sig")" != "$(printf '%s' "$sigline" | cut -d' ' -f2)" ]; then
      problem "$log:$n: its signature line (seq ${seq:-?}) is not canonical base64 (edited)"
    fi
    if ! openssl pkeyutl -verify -pubin -inkey examiner.pub.pem -rawin \
        -in "$work/line" -sigfile "$work/sig" >/dev/null 2>&1; then
      problem "$log:$n: signature does not verify"
    fi
  fi
  prev=$(sha256sum "$work/line" | cut -d' ' -f1)
  # Files and objects that this entry vouches for.
  printf '%s\n' "$line" | grep -o '{"path":"[^"]*",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"[0-9a-f]*","size":[0-9]*}' \
    | sed 's/^{"path":"\([^"]*\)",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"\([0-9a-f]*\)".*/\3  \1/' >> "$work/files"
  printf '%s\n' "$line" | grep -o '"object":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' \
    | sed 's/^"object":"\(objects[^"]*\/\([0-9a-f]*\)\)"$/\2  \1/' >> "$work/objects"
done < "$log"
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
