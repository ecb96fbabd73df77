#!/usr/bin/env bash
# The body of perfgate's sticky pull request comment, from the report.md that the pull
# request's own job uploaded:
#
#   scripts/comment-body.sh REPORT_MD RUN_URL > BODY
#
# That job runs the pull request's code, so report.md is whatever the pull request wants it to
# be. .github/workflows/perf-comment.yml runs this script from a checkout of the base
# repository's default branch, never from the pull request. The body is:
#
# 1. the sticky marker, on the first line and nowhere else (the workflow finds its comment by
#    it);
# 2. a header written here, with the link to the run, saying that what follows is untrusted:
#    it comes before anything of the artifact's, so the artifact can neither hide it nor put
#    anything above it;
# 3. the report, with every construct that would notify someone or link somewhere broken by a
#    word joiner (U+2060, invisible, so the text reads as before): after the `@` of a mention,
#    the `#` of `#123` and `owner/repo#123`, the `GH-` of `GH-123`, the `&` of a character
#    reference (GitHub decodes `&#64;` into an `@` before it looks for mentions) and the `<`
#    of `<!--` (a comment could imitate the marker, and an unclosed one would hide the rest).
#    The joiner is inserted after the artifact was written, so nothing in it can take it out;
#    backticks around a mention, the other way, can be paired off by backticks of the
#    artifact's own;
# 4. capped in whole lines below GitHub's 65536 characters, with a note when cut.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 REPORT_MD RUN_URL" >&2
  exit 2
fi
report=$1
run_url=$2
if [ ! -f "$report" ] || [ -L "$report" ]; then
  echo "$0: $report is missing or not a plain file" >&2
  exit 2
fi
# The run's address comes from the event, not from the artifact; it is put into a link.
if ! [[ $run_url =~ ^https://[A-Za-z0-9._/-]+$ ]]; then
  echo "$0: RUN_URL is not a plain https:// address: $run_url" >&2
  exit 2
fi

# Bytes, not characters: the report need not be valid UTF-8, and a byte count is never below
# the character count GitHub limits.
export LC_ALL=C
wj=$'\xe2\x81\xa0'
marker='<!-- perfgate-report -->'
limit=60000

echo "$marker"
echo "**perfgate report** of [perf-gate run]($run_url). Everything below was produced by the pull request's own job, which runs the pull request's code: it is untrusted, the pull request's own account of itself."
echo
tr -d '\000' < "$report" |
  sed -E \
    -e "s/&([#A-Za-z])/\&${wj}\1/g" \
    -e "s/<!--/<${wj}!--/g" \
    -e "s/@([A-Za-z0-9])/@${wj}\1/g" \
    -e "s/#([0-9])/#${wj}\1/g" \
    -e "s/([Gg][Hh]-)([0-9])/\1${wj}\2/g" |
  awk -v limit="$limit" '
    # Reads to the end even when cut: an early exit would fail the pipeline (pipefail).
    cut { next }
    { n += length($0) + 1; if (n > limit) { cut = 1; next } print }
    END { if (cut) print "\n*Truncated: the full report is in the job summary and the perfgate-report artifact.*" }'
