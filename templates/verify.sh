#!/bin/sh
# verify.sh - check a forensic case folder with nothing but POSIX sh, sha256sum and openssl.
# Usage: sh verify.sh [CASE_FOLDER] [--expect-key FINGERPRINT] [--trust-root SHA256]...
#   (default folder: the one this script is in). --expect-key: the examiner key fingerprint
#   (or its start) you were given apart from the case, e.g. from the report's hash sheet;
#   --trust-root: a TSA root certificate's SHA-256 (of its DER) you trust beyond the shipped ones.
# Exit: 0 intact, 1 a problem was found (each one printed), 3 a required tool is missing.
# Format: docs/format.md of the forensic project (custody log v1, object store v1).
# Every name is printed escaped (control characters as \ooo, like git); the last line, RESULT,
# is printed by the output filter alone, so nothing in the folder can imitate it.
set -u
LC_ALL=C
export LC_ALL
case_dir=
expect_key=
extra_roots=
while [ $# -gt 0 ]; do
  case $1 in
    --expect-key|--trust-root)
      [ $# -ge 2 ] || { echo "usage: sh verify.sh [FOLDER] [--expect-key FP] [--trust-root SHA256]"; exit 3; }
      if [ "$1" = --expect-key ]; then expect_key=$2; else extra_roots="$extra_roots $2"; fi
      shift 2 ;;
    *) case_dir=$1; shift ;;
  esac
done
case_dir=${case_dir:-$(dirname "$0")}
cd "$case_dir" || { echo "cannot enter the case folder"; exit 3; }
for tool in sha256sum openssl sed grep awk cut sort head tail tr xargs find od comm wc mktemp ls; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool"; exit 3; }
done
# The TSA roots shipped with forensic (templates/tsa/), by the SHA-256 of their DER encoding:
# DigiCert Trusted Root G4, USERTrust RSA Certification Authority. Names are never compared.
shipped_roots="552f7bdcf1a7af9e6ce672017f4f12abf77240c78e761ac203d1d9d20ac89988
e793c9b02fd8aa13e21c31228accb08119643b749c898964b1746d46c3d4cbd2"
shown='# The one writer of the screen: every byte the check prints passes here. Control characters
# (C0, DEL, C1), CR, LF inside a name, TAB and invalid UTF-8 are shown as \ooo (octal, as git
# quotes paths), a backslash as \\; a line that begins with RESULT is indented; the last line,
# the verdict, is printed by this filter alone.
function esc(s, bs,   out, i, n, c, o, k, j, ok, o2) {
  out = ""; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1); o = ord[c]
    if (o < 32 || o == 127) { out = out sprintf("\\%03o", o); continue }
    if (c == "\\") { out = out (bs ? "\\\\" : "\\"); continue }
    if (o < 128) { out = out c; continue }
    k = (o >= 194 && o <= 223) ? 1 : (o >= 224 && o <= 239) ? 2 : (o >= 240 && o <= 244) ? 3 : 0
    ok = k > 0 && i + k <= n
    for (j = 1; ok && j <= k; j++) { o2 = ord[substr(s, i + j, 1)]; if (o2 < 128 || o2 > 191) ok = 0 }
    if (ok) {
      o2 = ord[substr(s, i + 1, 1)]
      if ((o == 224 && o2 < 160) || (o == 237 && o2 > 159) || (o == 240 && o2 < 144) \
          || (o == 244 && o2 > 143)) ok = 0
    }
    if (!ok) { out = out sprintf("\\%03o", o); continue }
    if (o == 194 && o2 < 160) { out = out sprintf("\\%03o\\%03o", o, o2); i++; continue }
    out = out substr(s, i, k + 1); i += k
  }
  return out
}
BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
'
# Control characters (C0 and DEL) for find patterns: names holding one are never listed raw.
ctl=$(printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\177')
mark=$(printf '\001')
work=$(mktemp -d) || exit 3
trap 'rm -rf "$work"' EXIT
trap 'rm -rf "$work"; exit 3' INT TERM
status=0
# say TEXT...: one line, as given (echo would read backslashes in a name as escapes).
say() { printf '%s\n' "$*"; }
problem() { say "PROBLEM: $*"; status=1; }
# finish RC VERDICT: hand the verdict to the output filter and stop.
finish() { printf '%s\n' "$2" > "$work/verdict"; echo "$1" > "$work/rc"; exit "$1"; }
# inventory TOP PREFIX: names with control characters (escaped here, never listed raw),
# symbolic links, hard links and special files under TOP are problems; $work/regular gets
# every other regular file (PREFIX stripped), the only files that are ever opened.
inventory() {
  find "$1" -path "*[$ctl]*" -prune -exec sh -c \
    'for f do printf "%s" "$f" | od -An -v -to1; echo .; done' sh {} + 2>/dev/null \
    | awk -v mark="$mark" "$shown"'
      $0 == "." { sub(/^\.\//, "", name); print mark "PROBLEM: \"" esc(name, 1) "\": a name" \
        " with control characters (forensic never makes one)"; name = ""; next }
      { for (i = 1; i <= NF; i++) { v = 0; d = $i
          while (d != "") { v = v * 8 + substr(d, 1, 1); d = substr(d, 2) }
          name = name sprintf("%c", v) } }' > "$work/odd"
  find "$1" ! -path "*[$ctl]*" \( -type l -o -type f -links +1 -o ! -type f ! -type d \) \
    | sed "s|^$2||" | sort > "$work/odd.l"
  while IFS= read -r odd; do
    if [ -h "./$odd" ]; then
      say "PROBLEM: $odd: a symbolic link (forensic never makes one; it is not followed)"
    elif [ -f "./$odd" ]; then
      say "PROBLEM: $odd: a hard link (link count above 1: the same file has another name)"
    else
      say "PROBLEM: $odd: a special file (fifo, device or socket)"
    fi
  done < "$work/odd.l" >> "$work/odd"
  find "$1" ! -path "*[$ctl]*" -type f | sed "s|^$2||" | sort > "$work/regular"
  if [ -s "$work/odd" ]; then cat "$work/odd"; status=1; fi
  rm -f "$work/odd" "$work/odd.l"
}
# hash_list LIST DIR LABEL PREFIX: re-hash "SHA256  PATH" lines (PATH relative to DIR, named
# PREFIX/PATH and found in $work/regular as PREFIX/PATH) by value;
# only regular files are opened, each as ./PATH (no name is read as an option or as stdin).
hash_list() {
  awk -v reg="$work/regular" -v pre="$4" -v out="$work/tohash" -v label="$3" '
    BEGIN { while ((getline r < reg) > 0) ok[r] = 1; printf "" > out }
    { p = substr($0, 67)
      if (p ~ /^\// || p ~ /(^|\/)\.\.(\/|$)/ || p == "") {
        print "PROBLEM: " pre p ": a path outside the folder" label; next }
      if ((pre p) in ok) print substr($0, 1, 66) "./" p > out
      else print "PROBLEM: " pre p ": FAILED open or read (missing or not a regular file)" label }' "$1"
  if [ -s "$work/tohash" ]; then
    (cd "$2" && sha256sum -c "$work/tohash" < /dev/null 2>/dev/null) | grep -v ': OK$' \
      | sed "s|^\(\\\\\{0,1\}\)\./|\1$4|; s|\$|$3|; s|^|PROBLEM: |"
  fi
}
# check_tokens PREFIX: each RFC 3161 token against the shipped roots (or --trust-root), by the
# SHA-256 of the root certificate's DER; a token that verifies only under its own chain's root
# is UNTRUSTED, said loudly: its time proves nothing until that fingerprint is checked.
check_tokens() {
  d=$1
  tokens=0
  untrusted=0
  trust=$(printf '%s\n' $shipped_roots $extra_roots | tr 'A-F' 'a-f' | tr -d ':')
  [ -s "$work/tokens" ] || return 0
  while IFS= read -r tok; do
    tokens=$((tokens + 1))
    # The record's fields, as sed '.*"NAME":"\(...\)"' would take them (the last match).
    printf '%s\n' "$tok" | awk -v sep="$mark" '
      function f(re, lead,   s, v) { s = $0; v = ""
        while (match(s, re)) { v = substr(s, RSTART + lead, RLENGTH - lead - 1); s = substr(s, RSTART + 1) }
        return v }
      { printf "%s", f("\"tsr\":\"[^\"]*\"", 7) sep f("\"chain\":\"[^\"]*\"", 9) sep \
          f("\"head_hash\":\"[0-9a-f]*\"", 13) sep f("\"head_seq\":[0-9]*,", 11) sep \
          f("\"tsa\":\"[^\"]*\"", 7) sep f("\"root_sha256\":\"[0-9a-f]*\"", 15) sep "\n" }' \
      > "$work/tok"
    IFS=$mark read -r tsr chain hh hs tsa recroot rest < "$work/tok"
    at=$(grep "^${hs:-x} " "$work/heads" | head -n 1 | cut -d' ' -f2)
    [ -n "$hh" ] && [ "$at" = "$hh" ] || \
      problem "$d$tsr: stamps head_hash ${hh:-?}, but log entry ${hs:-?} hashes to ${at:-?}"
    if ! grep -qxF "$d$tsr" "$work/regular"; then
      problem "$d$tsr: timestamp token missing or not a regular file"; continue
    fi
    if [ -z "$chain" ] || ! grep -qxF "$d$chain" "$work/regular"; then
      problem "$d$tsr: no certificate chain (${chain:-none}) to verify it with"; continue
    fi
    # Each certificate of the chain: its PEM, and its DER (base64 decoded here, as the
    # signatures are) for one sha256sum: the fingerprints, by value.
    rm -f "$work"/cert.*
    awk -v w="$work" -v B64="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" '
      function octal(s,   i, l, v, q, c, out, pad) {
        out = ""; l = length(s)
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
      /-----BEGIN CERTIFICATE-----/ { n++; inside = 1; body = "" }
      inside { print > (w "/cert." n ".pem") }
      inside && !/-----/ { gsub(/[^A-Za-z0-9+\/=]/, ""); body = body $0 }
      /-----END CERTIFICATE-----/ { inside = 0; close(w "/cert." n ".pem")
        if (length(body) % 4 == 0 && body ~ /^[A-Za-z0-9+\/]*=*$/) print n, octal(body)
        else print n, "x" }' "./$d$chain" < /dev/null > "$work/certs"
    while read -r cn coct; do
      [ "$coct" = x ] || printf "$coct" > "$work/cert.$cn.der"
    done < "$work/certs"
    anchor=; anchorfp=; own=; ownfp=; last=; lastfp=
    if [ -s "$work/certs" ]; then
      (cd "$work" && ls cert.*.der 2>/dev/null | xargs sha256sum 2>/dev/null) > "$work/certs.fp"
      while read -r cfp cname; do
        cert=$work/${cname%.der}.pem
        if printf '%s\n' "$trust" | grep -qx "$cfp"; then anchor=$cert; anchorfp=$cfp; fi
        if [ "$cfp" = "$recroot" ]; then own=$cert; ownfp=$cfp; fi
        last=$cert; lastfp=$cfp
      done < "$work/certs.fp"
      # the root the log recorded, else the chain's last certificate (its root)
      [ -n "$own" ] || { own=$last; ownfp=$lastfp; }
    fi
    [ -n "$own" ] || { problem "$d$chain: holds no certificate"; continue; }
    # Certificates are checked as of the time the TSA signed (its genTime), not today.
    gt=$(openssl ts -reply -in "./$d$tsr" -text 2>/dev/null < /dev/null \
      | sed -n 's/^Time stamp: //p' | head -n 1)
    epoch=$(printf '%s\n' "$gt" | awk 'NF >= 4 {
      split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", names, " ")
      mon = 0; for (i = 1; i <= 12; i++) if (names[i] == $1) mon = i
      split($3, t, ":"); y = $4 + 0
      if (mon <= 2) { y = y - 1; mm = mon + 9 } else { mm = mon - 3 }
      era = int(y / 400); yoe = y - era * 400
      doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + int((153 * mm + 2) / 5) + $2 - 1
      if (mon > 0) printf "%d\n", (era * 146097 + doe - 719468) * 86400 \
        + t[1] * 3600 + t[2] * 60 + int(t[3]) }')
    verified=
    for try in "$anchor" "$own"; do
      [ -n "$try" ] || continue
      set -- -digest "$hh" -in "./$d$tsr" -CAfile "$try" -untrusted "./$d$chain"
      [ -n "$epoch" ] && set -- "$@" -attime "$epoch"
      if openssl ts -verify "$@" > "$work/ts.out" 2>&1 < /dev/null; then verified=$try; break; fi
    done
    if [ -z "$verified" ]; then
      problem "$d$tsr: timestamp token does not verify ($(tr '\n' ' ' < "$work/ts.out" | cut -c 1-200))"
    elif [ "$verified" = "$anchor" ]; then
      say "timestamp token $d$tsr ($tsa) verifies for log entry $hs, time $gt" \
        "(certificates checked as of epoch ${epoch:-now}); root SHA-256 $anchorfp, a trusted root"
    else
      untrusted=$((untrusted + 1))
      case $tok in *'"demo":true'*) demo=" (a demo TSA)" ;; *) demo= ;; esac
      say "UNTRUSTED: timestamp token $d$tsr ($tsa$demo) verifies for log entry $hs, time $gt" \
        "(certificates checked as of epoch ${epoch:-now}) but chains only to root SHA-256" \
        "$ownfp, not a shipped trust root: its time proves nothing until that fingerprint" \
        "is checked with the authority (then: --trust-root $ownfp)"
    fi
  done < "$work/tokens"
}
check() {
log=custody/log.jsonl
sigs=custody/log.sig
inventory . './'
for must in "$log" "$sigs" examiner.pub.pem; do
  grep -qxF "$must" "$work/regular" || { problem "$must: missing"; finish 1 "RESULT: PROBLEMS FOUND"; }
done

# 1. The examiner key: its fingerprint is the actor of every line.
fp=$(openssl pkey -pubin -in ./examiner.pub.pem -outform DER 2>/dev/null < /dev/null \
  | sha256sum | cut -d' ' -f1)
echo "examiner key fingerprint: $fp"
if [ -n "$expect_key" ]; then
  case $fp in
    "$(printf '%s' "$expect_key" | tr 'A-F' 'a-f')"*) echo "examiner key: the expected one" ;;
    *) problem "examiner.pub.pem: key fingerprint $fp is not the expected $expect_key" ;;
  esac
fi

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
# Parties (docs/format.md, "Parties and hand-overs"): a party-add line carries the new party's
# public key; each is written out here and its fingerprint computed by value. A line may be
# signed only by the examiner key or by a party that a party added on a line before it.
mkdir "$work/p"
head -n "$complete" "$log" | tr -d '\000' | awk -v dir="$work/p" '
  /^[{]"action":"party-add",/ {
    if (match($0, /"public_key_pem":"-----BEGIN PUBLIC KEY-----\\n[A-Za-z0-9+\/=]*\\n-----END PUBLIC KEY-----\\n"/)) {
      k = substr($0, RSTART + 18, RLENGTH - 19); gsub(/\\n/, "\n", k)
      f = dir "/" NR ".pem"; printf "%s", k > f; close(f) } }'
(cd "$work/p" && for f in *.pem; do
  [ -f "$f" ] || continue
  printf '%s %s\n' "${f%.pem}" "$(openssl pkey -pubin -in "./$f" -outform DER 2>/dev/null < /dev/null \
    | sha256sum | cut -d' ' -f1)"
done) > "$work/pfp"
# Fields as sed would read them from the line (the last "seq" and "prev" match, as with '.*').
head -n "$complete" "$log" | tr -d '\000' | awk -v logf="$log" -v sigs="$sigs" -v fp="$fp" -v pfpf="$work/pfp" \
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
# The JSON string right after PRE in s (its escapes kept as they are).
function after(s, pre,   at, t) {
  at = index(s, pre); if (!at) return ""
  t = substr(s, at + length(pre))
  return match(t, /^([^"\\]|\\.)*/) ? substr(t, 1, RLENGTH) : ""
}
# "seq hash" of the first {"hash":"...","seq":N} object named NAME in s ("" when none).
function ref(s, name,   m, l) {
  if (!match(s, "\"" name "\":[{]\"hash\":\"[0-9a-f]*\",\"seq\":[0-9]*[}]")) return ""
  m = substr(s, RSTART + length(name) + 12, RLENGTH - length(name) - 13)
  l = index(m, "\"")
  if (l != 65) return ""
  return substr(m, 73) " " substr(m, 1, 64)
}
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
  while ((getline row < pfpf) > 0) { sp = index(row, " "); keyfp[substr(row, 1, sp - 1)] = substr(row, sp + 1) }
  party[fp] = "e"; parties = 1
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
  if (!(actor in party)) {
    if ($0 ~ /^[{]"action":"party-add",/)
      say(n, 3, logf ":" n ": a party-add by " substr(actor, 1, 16) "..., which is not a party at this line: nobody is added")
    else say(n, 3, logf ":" n ": actor " substr(actor, 1, 16) "... is neither the examiner key nor a party added before this line")
  } else if ($0 ~ /^[{]"action":"party-add",/) {
    pf = match($0, /"party":[{]"fingerprint":"[0-9a-f]*"/) ? substr($0, RSTART + 24, RLENGTH - 25) : ""
    if (!(n in keyfp)) say(n, 3, logf ":" n ": a party-add without a readable Ed25519 public key")
    else if (keyfp[n] != pf) say(n, 3, logf ":" n ": the key of the added party has fingerprint " keyfp[n] ", not the " pf " the line names")
    else if (!(pf in party)) {
      party[pf] = n; parties++
      print "party added at " logf ":" n ": " after($0, "\"fingerprint\":\"" pf "\",\"name\":\"") " (" after($0, "\"role\":\"") "), key " pf > (work "/custody")
    }
  }
  if ($0 ~ /^[{]"action":"handover",/ && seq != "") {
    hh = ref($0, "head"); ht = match($0, /"to":[{]"fingerprint":"[0-9a-f]*"/) ? substr($0, RSTART + 21, RLENGTH - 22) : ""
    if (hh == "" || length(ht) != 64) say(n, 3, logf ":" n ": a hand-over without its head or receiver")
    else { hto[seq] = ht; hhead[seq] = hh; hline[seq] = n; nh++; hl[nh] = seq; waiting[ht]++
      hname[seq] = after($0, "\"to\":{\"fingerprint\":\"" ht "\",\"name\":\"") }
  }
  if ($0 !~ /^[{]"action":"receipt",/ && waiting[actor] > 0)
    say(n, 3, logf ":" n ": signed by the receiver of a hand-over before its receipt")
  if ($0 ~ /^[{]"action":"receipt",/) {
    rh = ref($0, "handover"); rs = rh; sub(/ .*/, "", rs); rd = rh; sub(/.* /, "", rd)
    if (rh == "" || !(rs in hto)) say(n, 3, logf ":" n ": a receipt that names no hand-over before it")
    else if (hash[hline[rs]] != rd) say(n, 3, logf ":" n ": a receipt that names another hand-over line than " logf ":" hline[rs])
    else if (ref($0, "head") != hhead[rs]) say(n, 3, logf ":" n ": a receipt over another head than the one the hand-over at " logf ":" hline[rs] " names")
    else if (actor != hto[rs]) say(n, 3, logf ":" n ": a receipt not signed by the receiver named at " logf ":" hline[rs])
    else if (rs in got) say(n, 3, logf ":" n ": a second receipt for the hand-over at " logf ":" hline[rs])
    else { got[rs] = n; waiting[actor]-- }
  }
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
    signer = (actor in party) ? party[actor] : "e"
    if (canonical(b64)) print n, "o", signer, octal(b64) > (work "/jobs." (n % cpus))
    else {
      say(n, 5, logf ":" n ": its signature line (seq " shown ") is not canonical base64 (edited)")
      printf "%s\n", b64 > (work "/b/" n); close(work "/b/" n)
      print n, "r", signer > (work "/jobs." (n % cpus))
    }
  }
  prev = hash[n]
  print key, prev > (work "/heads")
}
END {
  for (i = 1; i <= nh; i++) {
    s = hl[i]
    if (s in got) print "hand-over at " logf ":" hline[s] " to " hname[s] " (key " hto[s] "): received, receipt at " logf ":" got[s] > (work "/custody")
    else print "hand-over at " logf ":" hline[s] " to " hname[s] " (key " hto[s] "): NOT YET RECEIVED (no receipt in this copy)" > (work "/custody")
  }
  print "parties: " parties > (work "/custody")
  print (NR ? prev : "0000000000000000000000000000000000000000000000000000000000000000") > (work "/head")
}
'
# verify_sigs JOBS SIG: one openssl pkeyutl per signature; a failure is noted for its line.
verify_sigs() {
  [ -f "$1" ] || return 0
  while read -r vn vmode vkey voct; do
    if [ "$vmode" = o ]; then
      printf "$voct" > "$2"
    else
      openssl base64 -d -A -in "$work/b/$vn" > "$2" 2>/dev/null
    fi
    vpem=./examiner.pub.pem
    [ "$vkey" = e ] || vpem=$work/p/$vkey.pem
    if ! openssl pkeyutl -verify -pubin -inkey "$vpem" -rawin \
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
# Who signed: the parties added and each hand-over with its receipt, or NOT YET RECEIVED.
if [ -s "$work/custody" ]; then cat "$work/custody"; fi
n=$complete
if [ "$(tail -n "+$((n + 1))" "$log" | tr -d '\000' | wc -c)" -gt 0 ]; then
  problem "$log:$((n + 1)): line torn (no newline): interrupted write"
fi
prev=$(cat "$work/head")
# Files and objects that the entries vouch for.
head -n "$complete" "$log" | tr -d '\000' > "$work/committed"
grep -o '{"path":"[^"]*",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"[0-9a-f]*","size":[0-9]*}' "$work/committed" \
  | sed 's/^{"path":"\([^"]*\)",\("plaintext_sha256":"[0-9a-f]*","plaintext_size":[0-9]*,\)\{0,1\}"sha256":"\([0-9a-f]*\)".*/\3  \1/' > "$work/files"
grep '^{"action":"timestamp"' "$work/committed" \
  | grep -o '{"chain":[^{}]*"tsr":"[^"]*"[^{}]*}' > "$work/tokens"
# Objects the items lie in now, in log order: a capture (or any entry) naming an object makes it
# expected; only an "encrypt" or "share" entry (docs/format.md section 16) replaces one with new
# ciphertext ("from" -> "to"). A "from" in any other entry (recover's quarantined_objects) means
# nothing here. Ciphertext objects are named by the SHA-256 of the ciphertext, so the re-hash
# below checks them without any key.
awk '
  function each(s, re, val,   p) {
    while (match(s, re)) {
      p = substr(s, RSTART, RLENGTH); sub(/^"[a-z]*":"/, "", p); sub(/"$/, "", p)
      cur[p] = val; s = substr(s, RSTART + RLENGTH)
    }
  }
  /^[{]"action":"(encrypt|share)",/ {
    each($0, "\"from\":\"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*\"", 0)
    each($0, "\"to\":\"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*\"", 1)
    next
  }
  { each($0, "\"object\":\"objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]*\"", 1) }
  END { for (p in cur) if (cur[p]) { n = p; sub(/.*\//, "", n); print n "  " p } }
' "$work/committed" | sort -u > "$work/objects.sorted"
sigcount=$(wc -l < "$sigs")
[ "$sigcount" -le "$n" ] || \
  problem "$log:$((n + 1)): missing ($sigs has $sigcount signatures for $n lines: a line was deleted?)"
echo "log lines: $n"
echo "log head: $prev"
encrypted=$(grep -c '"encrypted":{' "$work/committed")

# The data/ folder of an export bag (../bagit.txt, ../manifest-sha256.txt and ../bag-info.txt
# stating this log's head): files the export adds are known, the wrapped case key is never shipped.
in_bag=
if [ "${PWD##*/}" = data ] && [ -f ../bagit.txt ] && [ -f ../manifest-sha256.txt ] \
    && grep -qx "Forensic-Log-Head: $prev" ../bag-info.txt 2>/dev/null; then
  in_bag=1
  echo "checked as the data/ folder of an export bag: run ../verify.sh to check the whole bag"
fi

# 3. Every recorded object and file re-hashed (the last record of a file path wins), and every
# object present named by the SHA-256 of its bytes, whatever the log says.
awk '{ last[substr($0, 67)] = $0 } END { for (p in last) print last[p] }' "$work/files" \
  | sort > "$work/files.last"
if [ -n "$in_bag" ]; then
  grep -v '  keys/case-identity\.age$' "$work/files.last" > "$work/files.bag"
  mv "$work/files.bag" "$work/files.last"
fi
grep '^objects/sha256/[0-9a-f][0-9a-f]/[0-9a-f]\{64\}$' "$work/regular" \
  | awk '{ n = $0; sub(/.*\//, "", n); print n "  " $0 }' > "$work/objects.present"
sort -u "$work/objects.sorted" "$work/files.last" > "$work/expected"
if [ -n "$in_bag" ]; then
  # Added by the export: case-uco.jsonld (vouched for by the bag's payload manifest only) and
  # export --decrypt's plaintext, checked by value (item names, the log's plaintext_sha256).
  sed -n 's/^\([0-9a-f]\{64\}\)  data\/\(case-uco\.jsonld\)$/\1  \2/p' ../manifest-sha256.txt \
    >> "$work/expected"
  grep '^plaintext/sha256/[0-9a-f][0-9a-f]/[0-9a-f]\{64\}$' "$work/regular" \
    | awk '{ n = $0; sub(/.*\//, "", n); print n "  " $0 }' >> "$work/expected"
  grep -o '"encrypted":{"plaintext_sha256":"[0-9a-f]*"' "$work/committed" \
    | sed 's/.*:"\([0-9a-f]*\)"$/\1/' | sort -u > "$work/items.enc"
  awk -v items="$work/items.enc" 'BEGIN { while ((getline r < items) > 0) ok[r] = 1 }
    /^plaintext\/sha256\// { n = $0; sub(/.*\//, "", n)
      if (!(n in ok)) print "PROBLEM: " $0 ": not an encrypted item of the custody log" }' \
    "$work/regular"
  grep -o '"path":"[^"]*","plaintext_sha256":"[0-9a-f]*"' "$work/committed" \
    | sed 's/^"path":"\([^"]*\)","plaintext_sha256":"\([0-9a-f]*\)"$/\2  plaintext\/\1/' \
    | awk '{ last[substr($0, 67)] = $0 } END { for (p in last) print last[p] }' \
    | awk -v reg="$work/regular" 'BEGIN { while ((getline r < reg) > 0) ok[r] = 1 }
        substr($0, 67) in ok' >> "$work/expected"
fi
cut -c 67- "$work/expected" | sort -u > "$work/known"
sort -u "$work/expected" "$work/objects.present" > "$work/tohash.all"
hash_list "$work/tohash.all" . "" "" > "$work/badsums"
if [ -s "$work/badsums" ]; then cat "$work/badsums"; status=1; fi
echo "objects: $(wc -l < "$work/objects.sorted")"
if [ "$encrypted" -gt 0 ] || grep -q '^{"action":"encrypt"' "$work/committed"; then
  echo "encrypted case: objects were checked as age ciphertext (SHA-256 of the stored bytes)."
  echo "  Their plaintext cannot be checked without the case key: run 'forensic verify --decrypt'."
fi

# 4. RFC 3161 timestamp tokens over log heads, against the shipped trust roots by fingerprint.
check_tokens ""
echo "timestamp tokens: $tokens"

# 5. Nothing unrecorded: every file in the folder must be accounted for.
printf '%s\n' custody/log.jsonl custody/log.sig .lock >> "$work/known"
sort -u -o "$work/known" "$work/known"
comm -23 "$work/regular" "$work/known" > "$work/extra"
while IFS= read -r extra; do
  [ -n "$extra" ] && problem "$extra: not recorded in the custody log"
done < "$work/extra"

if [ "$status" -ne 0 ]; then
  finish 1 "RESULT: PROBLEMS FOUND"
elif [ "$untrusted" -gt 0 ]; then
  finish 0 "RESULT: intact, but $untrusted of $tokens timestamp tokens UNTRUSTED (see above: their times prove nothing)"
fi
finish 0 "RESULT: intact"
}
check 2>&1 | awk -v mark="$mark" -v verdict="$work/verdict" "$shown"'
  { raw = substr($0, 1, 1) == mark; line = esc(raw ? substr($0, 2) : $0, !raw)
    if (line ~ /^RESULT/) line = "  " line
    print line }
  END { if ((getline v < verdict) > 0) print v
        else print "RESULT: NOT CHECKED (the check stopped before its end)" }'
rc=$(cat "$work/rc" 2>/dev/null) || rc=3
exit "${rc:-3}"
