#!/usr/bin/env bash
# Ships an image by updating the Service stack's ImageTag parameter, and nothing else: the previous template, every
# other parameter's previous value. CloudFormation stays the only owner of the running image (no ECS deploy action).
#
# It first reads the image from ECR, so that a deploy of an image that is gone fails before anything changes. Once the
# stack runs it, it raises the service to its scaling floor if it is below it (only ever after the first image), and
# tags the image `deployed-<env>-<tag>` (same manifest, so the same digest): the repository's lifecycle policy keeps
# marked images ahead of its "last N images" rule, so ECR never expires the image that runs
# (lib/constructs/image-repository.ts).
#
# CloudFormation applies the update with STACK_ROLE_ARN, the Service stack's image-deploy role, which can change the
# image and nothing else: never the CDK bootstrap's execution role (lib/constructs/image-deploy-role.ts). The pipeline
# runs this file from its own stack's asset, never from the pushed commit (lib/constructs/step-code.ts).
#
# In:  SERVICE_STACK_NAME, STACK_ROLE_ARN, IMAGE_TAG, IMAGE_DIGEST (the digest ScanGate passed), REPOSITORY_NAME,
#      ENV_NAME
# Any failure, a rollback included, exits non-zero with one line on stderr, prefixed `deploy:`.
set -euo pipefail

fail() {
  echo "deploy: $*" >&2
  exit 1
}

: "${SERVICE_STACK_NAME:?SERVICE_STACK_NAME is required}"
: "${STACK_ROLE_ARN:?STACK_ROLE_ARN is required}"
: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${IMAGE_DIGEST:?IMAGE_DIGEST is required}"
: "${REPOSITORY_NAME:?REPOSITORY_NAME is required}"
: "${ENV_NAME:?ENV_NAME is required}"
stack="$SERVICE_STACK_NAME"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Says what made `aws cloudformation describe-stacks` fail: only a missing stack means "deploy it first".
describe_failed() {
  local err="$1" line
  line="$(grep -v '^[[:space:]]*$' <<<"$err" | tail -n 1)"
  case "$err" in
    *"does not exist"*) fail "stack $stack was not found; deploy it first with: npx cdk deploy --all" ;;
    *"must specify a region"*) fail "could not read stack $stack: no AWS region is set (AWS_REGION or AWS_DEFAULT_REGION): $line" ;;
    *"Unable to locate credentials"*) fail "could not read stack $stack: no AWS credentials were found: $line" ;;
    *ExpiredToken* | *InvalidClientTokenId* | *"security token included in the request is"*)
      fail "could not read stack $stack: the AWS credentials are expired or invalid: $line" ;;
    *AccessDenied* | *"not authorized to perform"*)
      fail "could not read stack $stack: access denied; the Deploy role needs cloudformation:DescribeStacks on it: $line" ;;
    *Throttl* | *"Rate exceeded"*)
      fail "could not read stack $stack: AWS throttled the request even after the CLI's retries; run the stage again: $line" ;;
    *) fail "could not read stack $stack: ${line:-aws exited without a message}" ;;
  esac
}

if ! described="$(aws cloudformation describe-stacks --stack-name "$stack" --output json 2>"$work/err")"; then
  describe_failed "$(cat "$work/err")"
fi
parameters=()
has_tag=false
cluster=''
service=''
while IFS=$'\t' read -r kind name value; do
  case "$kind:$name" in
    parameter:ImageTag)
      parameters+=("ParameterKey=ImageTag,ParameterValue=$IMAGE_TAG")
      has_tag=true
      ;;
    parameter:*) parameters+=("ParameterKey=$name,UsePreviousValue=true") ;;
    output:ClusterName) cluster="$value" ;;
    output:ServiceName) service="$value" ;;
  esac
done < <(jq -r '.Stacks[0] | ((.Parameters // [])[] | ["parameter", .ParameterKey, .ParameterValue // ""]),
  ((.Outputs // [])[] | ["output", .OutputKey, .OutputValue // ""]) | @tsv' <<<"$described")
[[ "$has_tag" == true ]] || fail "stack $stack has no ImageTag parameter"

# Mark the image as deployed: put-image with the manifest batch-get-image returns adds a tag to the same image
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html). --image-digest makes ECR refuse a manifest
# whose digest differs, so the marker can never land on another image. The manifest goes through a file, byte for byte.
marker="deployed-$ENV_NAME-$IMAGE_TAG"
image="$(aws ecr batch-get-image --repository-name "$REPOSITORY_NAME" --image-ids "imageTag=$IMAGE_TAG" \
  --accepted-media-types application/vnd.oci.image.index.v1+json application/vnd.oci.image.manifest.v1+json \
  application/vnd.docker.distribution.manifest.list.v2+json application/vnd.docker.distribution.manifest.v2+json \
  --output json)" || fail "could not read image $REPOSITORY_NAME:$IMAGE_TAG from ECR; nothing changed"
# `|` separates the fields: none contains it, and unlike a tab, two in a row keep an empty field.
IFS='|' read -r digest media_type failure < <(jq -r '[.images[0].imageId.imageDigest // "", .images[0].imageManifestMediaType // "",
  .failures[0].failureCode // "no image returned"] | join("|")' <<<"$image")
[[ -n "$digest" ]] || fail "image tag $IMAGE_TAG is not in ECR repository $REPOSITORY_NAME ($failure); nothing changed"
# The tag must still hold the image ScanGate passed. Tags are immutable, but an image the lifecycle policy expired frees
# its tag for another push while a run waits (at an approval, say): ship only what was scanned.
[[ "$digest" == "$IMAGE_DIGEST" ]] ||
  fail "$REPOSITORY_NAME:$IMAGE_TAG is now $digest, not the $IMAGE_DIGEST that ScanGate passed; nothing changed"
jq -j '.images[0].imageManifest' <<<"$image" >"$work/manifest.json"

# Marks the image as deployed, once it runs: put-image with the manifest batch-get-image returned adds a tag to the same
# image (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html). --image-digest makes ECR refuse a
# manifest whose digest differs, so the marker can never land on another image. Marking only after a successful update
# keeps failed attempts from taking the lifecycle policy's places for deployed images.
mark_deployed() {
  local output
  if ! output="$(aws ecr put-image --repository-name "$REPOSITORY_NAME" --image-tag "$marker" --image-digest "$digest" \
    --image-manifest "file://$work/manifest.json" ${media_type:+--image-manifest-media-type "$media_type"} 2>&1 >/dev/null)"; then
    # A redeploy of the same tag: the marker is already on this image. Reports differ on which of the two errors an
    # immutable repository returns for that (aws/containers-roadmap#2179, aws/aws-sdk#750), so both count.
    grep -Eq 'Image(Tag)?AlreadyExistsException' <<<"$output" ||
      fail "$stack runs $IMAGE_TAG, but tagging it $marker failed, so ECR may expire it: $(tail -n 1 <<<"$output")"
    # Already there: on this image, or pushed onto another one first (the build pushes to this repository), which would
    # leave the running image unprotected.
    local marked
    marked="$(aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids "imageTag=$marker" \
      --query 'imageDetails[0].imageDigest' --output text 2>&1)" ||
      fail "$stack runs $IMAGE_TAG, but $marker exists and could not be read, so ECR may expire it: $(tail -n 1 <<<"$marked")"
    [[ "$marked" == "$digest" ]] ||
      fail "$stack runs $IMAGE_TAG ($digest), but $marker is on another image ($marked), so ECR may expire the running one: delete that tag and re-run this stage"
  fi
  echo "deploy: $REPOSITORY_NAME@$digest is tagged $marker, so the lifecycle policy keeps it"
}

# Every deploy: bring the service up to its scaling floor if it is below it, which only happens after its first image.
# The template sets no DesiredCount once an image exists, so that a deploy never resets a scaled-out service
# (aws/aws-cdk#13130), and CloudFormation leaves the count of an existing service as it is (0 after `no-image`). Raising
# the scalable target's MinCapacity does not raise it either: Service Auto Scaling lifts a desired count below the
# minimum only when an alarm starts a scale-out ("If a service's desired count is set below its minimum capacity value,
# and an alarm initiates a scale-out activity, Service Auto Scaling scales the desired count up to the minimum capacity
# value", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html, quoted in
# aws/containers-roadmap#2626), and RegisterScalableTarget promises to move capacity into range only when a target is
# first registered (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
# A service with no tasks emits no CPU or request metrics, so no alarm ever fires. The check runs on every deploy, not
# only on the first, so that a first deploy interrupted after its stack update is repaired by the next run. A service at
# or above its floor is never touched: the count stays autoscaling's.
raise_to_floor() {
  local minimum desired
  [[ -n "$cluster" && -n "$service" ]] || fail "stack $stack has no ClusterName and ServiceName outputs"
  minimum="$(aws application-autoscaling describe-scalable-targets --service-namespace ecs \
    --resource-ids "service/$cluster/$service" --scalable-dimension ecs:service:DesiredCount \
    --query 'ScalableTargets[0].MinCapacity' --output text)" || fail "could not read the scaling floor of $service"
  desired="$(aws ecs describe-services --cluster "$cluster" --services "$service" \
    --query 'services[0].desiredCount' --output text)" || fail "could not read the desired count of $service"
  [[ "$minimum" =~ ^[0-9]+$ ]] || fail "$service has no scalable target (read '$minimum'); it would run no tasks"
  if ((desired < minimum)); then
    aws ecs update-service --cluster "$cluster" --service "$service" --desired-count "$minimum" >/dev/null ||
      fail "could not raise $service from $desired to its scaling floor of $minimum task(s)"
    echo "deploy: raised $service from $desired to its scaling floor of $minimum task(s)"
  fi
}

if ! output="$(aws cloudformation update-stack --stack-name "$stack" --use-previous-template --role-arn "$STACK_ROLE_ARN" \
  --parameters "${parameters[@]}" --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND 2>&1)"; then
  if grep -q 'No updates are to be performed' <<<"$output"; then
    echo "deploy: $stack already runs $IMAGE_TAG"
    raise_to_floor
    mark_deployed
    exit 0
  fi
  fail "CloudFormation refused the update of $stack: $(tail -n 1 <<<"$output")"
fi

echo "deploy: updating $stack to $IMAGE_TAG"
if ! aws cloudformation wait stack-update-complete --stack-name "$stack"; then
  status="$(aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].StackStatus' --output text || echo UNKNOWN)"
  cause="$(aws cloudformation describe-stack-events --stack-name "$stack" \
    --query "StackEvents[?ResourceStatus=='UPDATE_FAILED'] | [0].[LogicalResourceId, ResourceStatusReason]" --output text || true)"
  fail "the update of $stack to $IMAGE_TAG failed and ended $status: ${cause:-no failed resource reported}"
fi

raise_to_floor
mark_deployed
echo "deploy: $stack now runs $IMAGE_TAG"
