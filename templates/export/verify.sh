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
for tool in sha256sum openssl sed grep awk cut sort find wc mktemp comm cmp; do
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
  grep -n '' "$1" | while IFS= read -r numbered; do
    num=${numbered%%:*}
    entry=${numbered#*:}
    if printf '%s\n' "$entry" | grep -q '^[0-9a-f]\{64\}  [^ ].*$'; then
      printf '%s\n' "$entry" >> "$work/wellformed"
    else
      echo "PROBLEM: $1:$num: malformed manifest line"
      echo x >> "$work/bad"
    fi
  done
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
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
expected=0
: > "$work/files"
: > "$work/objects"
: > "$work/heads"
complete=$(wc -l < "$log")
while IFS= read -r line || [ -n "$line" ]; do
  n=$((n + 1))
  if [ "$n" -gt "$complete" ]; then
    problem "$log:$n: line torn (no newline)"
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
  [ "$actor" = "$fp" ] || problem "$log:$n: actor is not the examiner key $pem"
  # Line n of the signature file signs seq n - 1 (signatures are appended in log order).
  atn=$(sed -n "${n}p" "$sigs")
  [ "${atn%% *}" = "$((n - 1))" ] || problem "$sigs:$n: signature line is not for seq $((n - 1))"
  sigline=$(grep "^${seq:-x} " "$sigs" | head -n 1)
  if [ -z "$sigline" ]; then
    problem "$log:$n: no signature for seq ${seq:-?} in $sigs"
  else
    printf '%s' "$sigline" | cut -d' ' -f2 | openssl base64 -d -A > "$work/sig" 2>/dev/null
    # Only the canonical base64 counts (unused bits before '=' must not hide an edit).
    if [ "$(openssl base64 -A -in "$work/sig")" != "$(printf '%s' "$sigline" | cut -d' ' -f2)" ]; then
      problem "$log:$n: its signature line (seq ${seq:-?}) is not canonical base64 (edited)"
    fi
    if ! openssl pkeyutl -verify -pubin -inkey "$pem" -rawin \
        -in "$work/line" -sigfile "$work/sig" >/dev/null 2>&1; then
      problem "$log:$n: signature in $sigs does not verify"
    fi
  fi
  prev=$(sha256sum "$work/line" | cut -d' ' -f1)
  echo "${seq:-x} $prev" >> "$work/heads"
  printf '%s\n' "$line" | grep -o '{"path":"[^"]*",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"[0-9a-f]*","size":[0-9]*}' \
    | sed 's/^{"path":"\([^"]*\)",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"\([0-9a-f]*\)".*/\3  \1/' >> "$work/files"
  printf '%s\n' "$line" | grep -o '"object":"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*"' \
    | sed 's/^"object":"\(objects[^"]*\/\([0-9a-f]*\)\)"$/\2  \1/' >> "$work/objects"
  case $line in
    '{"action":"timestamp"'*)
      printf '%s\n' "$line" | grep -o '{"chain":[^{}]*"tsr":"[^"]*"[^{}]*}' >> "$work/tokens"
      ;;
  esac
done < "$log"
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
  np=0
  while IFS= read -r pf; do
    np=$((np + 1))
    name=${pf##*/}
    sum=$(sha256sum "$d/$pf" | cut -d' ' -f1)
    [ "$sum" = "$name" ] || problem "$d/$pf: SHA-256 is $sum, not its name (altered)"
    grep -qx "$name" "$work/items.enc" || problem "$d/$pf: not an encrypted item of the custody log"
  done < "$work/plain.present"
  echo "decrypted items (data/plaintext/): $np, each named by its SHA-256 as recorded in the log"
  # Decrypted derived files (data/plaintext/<case path>): the SHA-256 must be the
  # plaintext_sha256 the latest log record of that case path states.
  grep -o '"path":"[^"]*","plaintext_sha256":"[0-9a-f]*"' "$log" \
    | sed 's/^"path":"\([^"]*\)","plaintext_sha256":"\([0-9a-f]*\)"$/\1 \2/' \
    | awk '{ last[$1] = $2 } END { for (p in last) print p, last[p] }' > "$work/derived.plain"
  (cd "$d" && find plaintext -type f ! -path 'plaintext/sha256/*') | sort > "$work/derived.present"
  nd=0
  while IFS= read -r pf; do
    nd=$((nd + 1))
    rel=${pf#plaintext/}
    sum=$(sha256sum "$d/$pf" | cut -d' ' -f1)
    want=$(awk -v p="$rel" '$1 == p { print $2 }' "$work/derived.plain")
    if [ -z "$want" ]; then
      problem "$d/$pf: no encrypted case file $rel in the custody log"
    elif [ "$sum" != "$want" ]; then
      problem "$d/$pf: SHA-256 is $sum, the log records $want for $rel (altered)"
    fi
  done < "$work/derived.present"
  echo "decrypted derived files (data/plaintext/<case path>): $nd, each checked against the log"
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
