#!/usr/bin/env bash
# Fails the pipeline when the image's scan has findings at or above a severity threshold, and lists them. Fails closed:
# an image whose findings are not known (scan failed, unsupported, not finished in time, not covered) never passes, and
# neither does one with an Inspector finding not yet rated (UNTRIAGED) or with no known severity; basic scanning's
# UNDEFINED findings are listed as a warning instead (see below).
#
# It reads the registry's scanning configuration and follows it:
# - BASIC: ECR's own scan, which covers operating-system packages only (it says so in its output);
# - ENHANCED: Amazon Inspector, which scans continuously. ECR then reports ACTIVE, never COMPLETE, so
#   `aws ecr wait image-scan-complete` times out (aws/aws-sdk#288), and a scan-on-push image can read COMPLETE before
#   its findings exist (aws/aws-sdk#289). The gate therefore waits for Inspector's own coverage record of the image
#   (ACTIVE with a lastScannedAt) and reads the findings from Inspector, filtered by the image digest.
#
# In:  REPOSITORY_NAME, IMAGE_TAG (the tag Deploy will deploy: the commit, set by the pipeline), IMAGE_DIGEST (what
#      Build reported), SCAN_SEVERITY_THRESHOLD (LOW, MEDIUM, HIGH or CRITICAL; default CRITICAL),
#      SCAN_TIMEOUT_SECONDS (default 600), SCAN_POLL_SECONDS (default 10)
# Any failure exits non-zero with one line on stderr, prefixed `scan-gate:`.
set -euo pipefail

fail() {
  echo "scan-gate: $*" >&2
  exit 1
}

: "${REPOSITORY_NAME:?REPOSITORY_NAME is required}"
: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${IMAGE_DIGEST:?IMAGE_DIGEST is required}"
threshold="${SCAN_SEVERITY_THRESHOLD:-CRITICAL}"
case "$threshold" in
  LOW | MEDIUM | HIGH | CRITICAL) ;;
  *) fail "SCAN_SEVERITY_THRESHOLD '$threshold' is not one of LOW, MEDIUM, HIGH, CRITICAL" ;;
esac
timeout="${SCAN_TIMEOUT_SECONDS:-600}"
poll="${SCAN_POLL_SECONDS:-10}"
deadline=$((SECONDS + timeout))
err="$(mktemp)"
trap 'rm -f "$err"' EXIT

# Waits one poll interval, or fails closed when the findings are still unknown at the deadline.
wait_for() {
  local remaining=$((deadline - SECONDS))
  ((remaining > 0)) ||
    fail "the findings of $IMAGE_DIGEST were still unknown after ${timeout}s ($1); failing closed: re-run this stage once the scan has finished"
  sleep "$((poll < remaining ? poll : remaining))"
}

# ECR scan statuses after which the findings will never be known
# (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanStatus.html).
fail_closed_on() {
  case "$1" in
    FAILED | UNSUPPORTED_IMAGE | FINDINGS_UNAVAILABLE | SCAN_ELIGIBILITY_EXPIRED | LIMIT_EXCEEDED | IMAGE_ARCHIVED)
      fail "the scan of $IMAGE_DIGEST ended $1 (${2:-no description}): its findings are unknown, so the gate fails closed"
      ;;
  esac
}

# The image's ECR scan record, every page of findings (the CLI follows nextToken itself,
# https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-pagination.html), or the status NOT_STARTED while ECR has
# none yet (scan on push starts asynchronously).
scan_record() {
  if aws ecr describe-image-scan-findings --repository-name "$REPOSITORY_NAME" --image-id "imageDigest=$IMAGE_DIGEST" "$@" \
    --output json 2>"$err"; then
    return 0
  fi
  grep -q ScanNotFoundException "$err" || fail "could not read the scan of $IMAGE_DIGEST: $(tail -n 1 "$err")"
  echo '{"imageScanStatus": {"status": "NOT_STARTED", "description": "no scan yet"}}'
}

# The digest to scan must be the one the tag Deploy will deploy points to: Build runs the pushed commit's code, so its
# report alone could name a clean image while the tag holds another. ECR answers which tags the reported digest carries;
# a tag names one image, and the repository's tags are immutable (all but the build cache's), so once the digest carries
# the tag, the tag can never point elsewhere (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html).
tags="$(aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids "imageDigest=$IMAGE_DIGEST" \
  --query 'imageDetails[0].imageTags' --output text 2>"$err")" ||
  fail "could not read the image $IMAGE_DIGEST that Build reported: $(tail -n 1 "$err")"
[[ " $(tr -s '[:space:]' ' ' <<<"$tags") " == *" $IMAGE_TAG "* ]] ||
  fail "$IMAGE_DIGEST, which Build reported, is not $REPOSITORY_NAME:$IMAGE_TAG (its tags: ${tags:-none}): the gate scans what Deploy will deploy, so it stops here"

config="$(aws ecr get-registry-scanning-configuration --output json 2>"$err")" ||
  fail "could not read the registry's scanning configuration: $(tail -n 1 "$err")"
scan_type="$(jq -r '.scanningConfiguration.scanType // "BASIC"' <<<"$config")"

if [[ "$scan_type" == ENHANCED ]]; then
  # Inspector scans only the repositories a rule's wildcard filter matches
  # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html).
  frequency=''
  while IFS=$'\t' read -r rule_frequency filter; do
    # shellcheck disable=SC2053 # the filter is a wildcard pattern, matched as a glob on purpose
    if [[ -n "$filter" && "$REPOSITORY_NAME" == $filter ]]; then
      frequency="$rule_frequency"
      break
    fi
  done < <(jq -r '.scanningConfiguration.rules // [] | .[] | .scanFrequency as $f | .repositoryFilters[] | [$f, .filter] | @tsv' <<<"$config")
  [[ -n "$frequency" ]] ||
    fail "the registry uses ENHANCED scanning, but none of its scanning rules matches repository $REPOSITORY_NAME, so Inspector never scans its images; add the repository to a rule"
  echo "scan-gate: the registry uses ENHANCED scanning (Amazon Inspector, $frequency): operating-system and programming-language packages (the app's Python packages included)"

  for (( ; ; )); do
    status="$(scan_record --max-results 1 --no-paginate | jq -r '[.imageScanStatus.status // "UNKNOWN", .imageScanStatus.description // ""] | @tsv')"
    fail_closed_on "${status%%$'\t'*}" "${status#*$'\t'}"
    # Inspector's record of this image: ACTIVE with a lastScannedAt once its findings are known
    # (https://docs.aws.amazon.com/inspector/v2/APIReference/API_CoveredResource.html). The CLI follows every page
    # (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-pagination.html).
    coverage="$(aws inspector2 list-coverage --output json --filter-criteria "$(jq -cn --arg repo "$REPOSITORY_NAME" \
      '{ecrRepositoryName: [{comparison: "EQUALS", value: $repo}], resourceType: [{comparison: "EQUALS", value: "AWS_ECR_CONTAINER_IMAGE"}]}')" \
      2>"$err")" || fail "could not read Inspector's coverage of $REPOSITORY_NAME: $(tail -n 1 "$err")"
    record="$(jq -r --arg digest "$IMAGE_DIGEST" '[.coveredResources // [] | .[] | select(.resourceId | endswith("/" + $digest))][0]
      | if . == null then "NONE\tnot in Inspector coverage yet\t" else [.scanStatus.statusCode, .scanStatus.reason, .lastScannedAt // ""] | @tsv end' <<<"$coverage")"
    IFS=$'\t' read -r code reason scanned_at <<<"$record"
    [[ "$code" != INACTIVE ]] ||
      fail "Inspector does not scan $IMAGE_DIGEST ($reason): its findings are unknown, so the gate fails closed"
    [[ "$code" == ACTIVE && -n "$scanned_at" ]] && break
    wait_for "ECR: ${status%%$'\t'*}; Inspector: $code $reason"
  done

  filter="$(jq -cn --arg repo "$REPOSITORY_NAME" --arg digest "$IMAGE_DIGEST" '{
    ecrImageRepositoryName: [{comparison: "EQUALS", value: $repo}],
    ecrImageHash: [{comparison: "EQUALS", value: $digest}],
    findingStatus: [{comparison: "EQUALS", value: "ACTIVE"}]}')"
  inspector="$(aws inspector2 list-findings --filter-criteria "$filter" --output json 2>"$err")" ||
    fail "could not read Inspector's findings for $IMAGE_DIGEST: $(tail -n 1 "$err")"
  findings="$(jq '{findings: [.findings // [] | .[] | {id: (.packageVulnerabilityDetails.vulnerabilityId // .title), severity,
    package: ((.packageVulnerabilityDetails.vulnerablePackages // []) | map(.name) | join(","))}]}' <<<"$inspector")"
else
  echo "scan-gate: the registry uses BASIC scanning, which covers operating-system packages only: vulnerabilities in the app's Python packages (Flask, gunicorn, app/requirements.txt) are NOT checked; turn on enhanced scanning (Amazon Inspector) to gate them too"
  for (( ; ; )); do
    record="$(scan_record)"
    status="$(jq -r '[.imageScanStatus.status // "UNKNOWN", .imageScanStatus.description // ""] | @tsv' <<<"$record")"
    fail_closed_on "${status%%$'\t'*}" "${status#*$'\t'}"
    # COMPLETE counts once the scan has a completion time: a COMPLETE record without one has no findings yet (aws/aws-sdk#289).
    [[ "${status%%$'\t'*}" == COMPLETE && "$(jq -r '.imageScanFindings.imageScanCompletedAt // ""' <<<"$record")" != "" ]] && break
    wait_for "ECR: ${status%%$'\t'*}"
  done
  findings="$(jq '{findings: [.imageScanFindings | ((.findings // [])[] | {id: .name, severity,
      package: ((.attributes // []) | map(select(.key == "package_name")) | .[0].value // "")}),
    ((.enhancedFindings // [])[] | {id: (.packageVulnerabilityDetails.vulnerabilityId // .title), severity,
      package: ((.packageVulnerabilityDetails.vulnerablePackages // []) | map(.name) | join(","))})]}' <<<"$record")"
fi

# Findings without a rating. Inspector (enhanced scanning) reports UNTRIAGED for a vulnerability "the vendor has not
# assigned a severity yet" (https://docs.aws.amazon.com/inspector/v2/APIReference/API_Finding.html): it blocks at every
# threshold, since it may be critical and an Inspector suppression rule is the audited way past one (suppressed
# findings are not ACTIVE, and the gate reads only ACTIVE ones). A finding with no severity at all, or one this script
# does not know, blocks under both scanners: the gate fails closed on every unknown.
# ECR's basic scan reports UNDEFINED (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanFinding.html),
# which Debian-based images such as this one commonly carry. An UNDEFINED finding can hide a serious one: in
# https://github.com/aws/containers-roadmap/issues/553 a CVE rated HIGH elsewhere came back UNDEFINED. But basic
# scanning has no suppression mechanism, so blocking on them would stop every build with no way forward but a new base
# image: they are listed on every run as a warning instead. Enhanced scanning (recommended in docs/pipeline.md) rates
# what it can; what it cannot rate it reports UNTRIAGED, which blocks here until fixed or suppressed.
report="$(jq -r --arg threshold "$threshold" --arg scan_type "$scan_type" '
  ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as $order
  | ($order | index($threshold)) as $floor
  | (.findings | map(select($scan_type != "ENHANCED" and .severity == "UNDEFINED"))) as $warned
  | (.findings | map(select(($scan_type != "ENHANCED" and .severity == "UNDEFINED") | not))) as $all
  | ($all | map(. as $f | select(($order | index($f.severity)) == null))) as $unrated
  | ($all | map(. as $f | select(($order | index($f.severity)) != null and ($order | index($f.severity)) >= $floor))) as $rated
  | [($order | reverse | .[] | . as $s | select(($order | index($s)) >= $floor) | ($rated | map(select(.severity == $s)) | length) as $n
     | select($n > 0) | "\($s): \($n)"), (select($unrated | length > 0) | "no severity: \($unrated | length)")] as $summary
  | "BLOCKING=\($rated + $unrated | length)",
    "SUMMARY=\($summary | join(", "))",
    "UNRATED=\($unrated | length)",
    ($rated[], $unrated[] | "FINDING=\(.severity // "none")\t\(.id)\t\(.package)"),
    ($warned[] | "WARNED=\(.severity)\t\(.id)\t\(.package)")
' <<<"$findings")" || fail "could not parse the scan findings"

blocking="$(sed -n 's/^BLOCKING=//p' <<<"$report")"
summary="$(sed -n 's/^SUMMARY=//p' <<<"$report")"
unrated="$(sed -n 's/^UNRATED=//p' <<<"$report")"
warned="$(grep -c '^WARNED=' <<<"$report" || true)"
if ((warned > 0)); then
  echo "scan-gate: WARNING: basic scanning left $warned finding(s) UNDEFINED (unrated by the distribution); they do not block, because basic scanning offers no way to accept one; enhanced scanning rates them:" >&2
  sed -n 's/^WARNED=/  /p' <<<"$report" >&2
fi
((unrated == 0)) ||
  echo "scan-gate: $unrated finding(s) have no severity yet (UNTRIAGED or none): an unrated vulnerability may be critical, so they block at every threshold" >&2
if ((blocking > 0)); then
  echo "Findings at or above $threshold, or without a severity:" >&2
  sed -n 's/^FINDING=/  /p' <<<"$report" >&2
  fail "$blocking finding(s) at or above $threshold ($summary) in $IMAGE_DIGEST"
fi
echo "scan-gate: no findings at or above $threshold in $IMAGE_DIGEST"
