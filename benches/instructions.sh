#!/usr/bin/env bash
# Instructions a line of each parser, counted by callgrind (they do not move with the
# machine's load, as times do): the parse bench's rows run under
# `valgrind --tool=callgrind`, and the instructions of `LineParser::parse` called from the
# bench loop divided by its calls (the cost of finding line ends left out).
#
#   benches/instructions.sh                 # every preset/ row
#   benches/instructions.sh combined caddy  # some of them
#   BENCH=old/parse benches/instructions.sh # a bench binary built before (to compare builds)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
bench=${BENCH:-$(cargo bench --bench parse --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "parse" and m.get("executable"):
        print(m["executable"])')}
rows=("$@")
if [ ${#rows[@]} -eq 0 ]; then
    rows=(combined common vcombined vcommon nginx custom_apache_combined custom_nginx_combined
        custom_nginx_timed alb elb s3 cloudfront w3c haproxy caddy traefik)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-24s %12s\n' row "instr/line"
for row in "${rows[@]}"; do
    valgrind --tool=callgrind --callgrind-out-file="$work/$row.out" \
        "$bench" --bench "preset/$row\$" --profile-time 1 >/dev/null 2>&1
    callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$work/$row.out" 2>/dev/null |
        python3 -c 'import re, sys
# Each block lists a function'"'"'s callers ("<"), then the function ("*"): add up the bench
# loop'"'"'s calls of LineParser::parse (one function may be listed under two file names).
# The loop is measured_parse (Bencher::iter in benches built before it).
ir = calls = 0
callers = []
for line in sys.stdin:
    if not line.strip():
        callers = []
    elif re.search(r"\*  \S*accesslens::parse::LineParser::parse\b", line):
        for c in callers:
            if "::measured_parse " in c or "Bencher<M>::iter" in c:
                ir += int(c.split()[0].replace(",", ""))
                calls += int(re.search(r"\(([\d,]+)x\)", c).group(1).replace(",", ""))
    elif "  < " in line:
        callers.append(line)
if calls == 0:
    sys.exit("%s: no call of LineParser::parse from the bench loop (inlined?)" % sys.argv[1])
print("%-24s %12d" % (sys.argv[1], round(ir / calls)))' "$row"
done
