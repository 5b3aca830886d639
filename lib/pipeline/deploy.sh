#!/usr/bin/env bash
# Ships an image by updating the Service stack's ImageTag parameter, and nothing else: the previous template, every
# other parameter's previous value. CloudFormation stays the only owner of the running image (no ECS deploy action).
#
# In:  SERVICE_STACK_NAME, IMAGE_TAG
# Any failure, a rollback included, exits non-zero with one line on stderr, prefixed `deploy:`.
set -euo pipefail

fail() {
  echo "deploy: $*" >&2
  exit 1
}

: "${SERVICE_STACK_NAME:?SERVICE_STACK_NAME is required}"
: "${IMAGE_TAG:?IMAGE_TAG is required}"
stack="$SERVICE_STACK_NAME"

keys="$(aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Parameters[].ParameterKey' --output text)" ||
  fail "stack $stack was not found; deploy it first with: npx cdk deploy --all"

parameters=()
has_tag=false
for key in $keys; do
  if [[ "$key" == ImageTag ]]; then
    parameters+=("ParameterKey=ImageTag,ParameterValue=$IMAGE_TAG")
    has_tag=true
  else
    parameters+=("ParameterKey=$key,UsePreviousValue=true")
  fi
done
[[ "$has_tag" == true ]] || fail "stack $stack has no ImageTag parameter"

if ! output="$(aws cloudformation update-stack --stack-name "$stack" --use-previous-template \
  --parameters "${parameters[@]}" --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND 2>&1)"; then
  if grep -q 'No updates are to be performed' <<<"$output"; then
    echo "deploy: $stack already runs $IMAGE_TAG"
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
echo "deploy: $stack now runs $IMAGE_TAG"
