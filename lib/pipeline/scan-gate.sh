#!/usr/bin/env bash
# Fails the pipeline when the image's scan has findings at or above a severity threshold, and lists them.
#
# In:  REPOSITORY_NAME, IMAGE_DIGEST, SCAN_SEVERITY_THRESHOLD (LOW, MEDIUM, HIGH or CRITICAL; default CRITICAL)
# Any failure exits non-zero with one line on stderr, prefixed `scan-gate:`.
set -euo pipefail

fail() {
  echo "scan-gate: $*" >&2
  exit 1
}

: "${REPOSITORY_NAME:?REPOSITORY_NAME is required}"
: "${IMAGE_DIGEST:?IMAGE_DIGEST is required}"
threshold="${SCAN_SEVERITY_THRESHOLD:-CRITICAL}"
case "$threshold" in
  LOW | MEDIUM | HIGH | CRITICAL) ;;
  *) fail "SCAN_SEVERITY_THRESHOLD '$threshold' is not one of LOW, MEDIUM, HIGH, CRITICAL" ;;
esac

image=(--repository-name "$REPOSITORY_NAME" --image-id "imageDigest=$IMAGE_DIGEST")
aws ecr wait image-scan-complete "${image[@]}" || fail "the scan of $IMAGE_DIGEST did not complete"
findings="$(aws ecr describe-image-scan-findings "${image[@]}" --output json)" ||
  fail "could not read the scan findings of $IMAGE_DIGEST"

report="$(jq -r --arg threshold "$threshold" '
  ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as $order
  | ($order | index($threshold)) as $floor
  | .imageScanFindings as $scan
  | (($scan.findings // []) | map({ id: .name, severity, package: ((.attributes // []) | map(select(.key == "package_name")) | .[0].value // "") }))
    + (($scan.enhancedFindings // []) | map({ id: (.packageVulnerabilityDetails.vulnerabilityId // .title), severity,
        package: ((.packageVulnerabilityDetails.vulnerablePackages // []) | map(.name) | join(",")) }))
  | map(. as $f | select(($order | index($f.severity)) >= $floor)) as $blocking
  | ($scan.findingSeverityCounts // {}) as $counts
  | [$order | reverse | .[] | . as $s | select(($order | index($s)) >= $floor and $counts[$s] != null) | "\($s): \($counts[$s])"]
  as $summary
  | "BLOCKING=\($blocking | length)",
    "SUMMARY=\($summary | join(", "))",
    ($blocking[] | "FINDING=\(.severity)\t\(.id)\t\(.package)")
' <<<"$findings")" || fail "could not parse the scan findings"

blocking="$(sed -n 's/^BLOCKING=//p' <<<"$report")"
summary="$(sed -n 's/^SUMMARY=//p' <<<"$report")"
if ((blocking > 0)); then
  echo "Findings at or above $threshold:" >&2
  sed -n 's/^FINDING=/  /p' <<<"$report" >&2
  fail "$blocking finding(s) at or above $threshold ($summary) in $IMAGE_DIGEST"
fi
echo "scan-gate: no findings at or above $threshold in $IMAGE_DIGEST"
