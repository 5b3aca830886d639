#!/usr/bin/env bash
# Builds, tests, smoke-tests and pushes the app image. CodeBuild runs it (privileged); the tests run it with stub
# `docker`, `aws` and `curl` commands on PATH.
#
# In:  REPOSITORY_URI   <account>.dkr.ecr.<region>.amazonaws.com/<name>
#      IMAGE_TAG        the commit SHA: tags are immutable, there is no `latest`
#      AWS_REGION
#      TARGET_PLATFORM  linux/arm64 or linux/amd64, the task's CPU architecture (default linux/arm64)
#      APP_DIR (app), CONTAINER_PORT (8080), HEALTH_PATH (/health), BUILDKIT_IMAGE (BuildKit from ECR Public),
#      SMOKE_START_SECONDS (30), SMOKE_STOP_SECONDS (10), OUTPUT_ENV (pipeline.env)
# Out: OUTPUT_ENV with IMAGE_TAG, IMAGE_DIGEST and IMAGE_URI, which the buildspec exports as pipeline variables.
# Any failure exits non-zero with one line on stderr, prefixed `build:`.
set -euo pipefail

fail() {
  echo "build: $*" >&2
  exit 1
}

: "${REPOSITORY_URI:?REPOSITORY_URI is required}"
: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${AWS_REGION:?AWS_REGION is required}"
platform="${TARGET_PLATFORM:-linux/arm64}"
app_dir="${APP_DIR:-app}"
port="${CONTAINER_PORT:-8080}"
health_path="${HEALTH_PATH:-/health}"
start_limit="${SMOKE_START_SECONDS:-30}"
stop_limit="${SMOKE_STOP_SECONDS:-10}"
output_env="${OUTPUT_ENV:-pipeline.env}"

registry="${REPOSITORY_URI%%/*}"
repository_name="${REPOSITORY_URI#*/}"
image="$REPOSITORY_URI:$IMAGE_TAG"
cache="type=registry,ref=$REPOSITORY_URI:buildcache"

# The digest ECR holds for the tag, or nothing.
ecr_digest() {
  aws ecr describe-images --repository-name "$repository_name" --image-ids "imageTag=$IMAGE_TAG" \
    --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || true
}

write_outputs() {
  printf 'IMAGE_TAG=%s\nIMAGE_DIGEST=%s\nIMAGE_URI=%s\n' "$IMAGE_TAG" "$1" "$REPOSITORY_URI@$1" >"$output_env"
  echo "build: $image is $1"
}

# 1. Log in. (`aws ecr get-login`, removed in AWS CLI v2, is not used.)
aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$registry" >/dev/null ||
  fail "could not log in to $registry"

# A re-run for a commit that is already built is not an error: the tag is immutable, so reuse it.
existing="$(ecr_digest)"
if [[ "$existing" == sha256:* ]]; then
  echo "build: $image already exists; tags are immutable, so it is not rebuilt"
  write_outputs "$existing"
  exit 0
fi

# 2. Build the test target (unit tests run inside it), then the release target, sharing an ECR-backed layer cache.
# BuildKit's own image comes from ECR Public too: Docker Hub rate-limits CodeBuild's shared addresses.
buildkit_image="${BUILDKIT_IMAGE:-public.ecr.aws/vend/moby/buildkit:buildx-stable-1}"
docker buildx inspect ci >/dev/null 2>&1 ||
  docker buildx create --name ci --driver docker-container --driver-opt "image=$buildkit_image" >/dev/null
docker buildx build --builder ci --platform "$platform" --target test --cache-from "$cache" --progress plain "$app_dir" ||
  fail "the unit tests failed in the Dockerfile's test stage (their output is above)"
docker buildx build --builder ci --platform "$platform" --target release --cache-from "$cache" \
  --cache-to "$cache,mode=max,image-manifest=true,oci-mediatypes=true" --tag "$image" --load --progress plain "$app_dir" ||
  fail "the release image did not build (the build output is above)"

# 3. Smoke test: the image must answer on the health path, let its user write a temporary file, and exit promptly on
# SIGTERM, as ECS will ask it to. It runs as Fargate runs it: read-only root, and the task's /tmp volume mounted as
# Fargate mounts a bind volume. That is an empty root-owned 0755 directory, unless the image declares VOLUME /tmp: then
# ECS copies the image's /tmp into the volume ("the data in the VOLUME directive path is copied to the data volume",
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html). A Docker anonymous volume makes the
# same copy, owner and mode included. (`--tmpfs /tmp` is mode 1777 and would hide a /tmp the app user cannot write.)
tmp_dir=""
if [[ "$(docker image inspect --format '{{json .Config.Volumes}}' "$image")" == *'"/tmp"'* ]]; then
  tmp_mount=(--volume /tmp)
else
  tmp_dir="$(mktemp -d)"
  chmod 0755 "$tmp_dir"
  tmp_mount=(--volume "$tmp_dir:/tmp")
fi
container="$(docker run --detach --read-only "${tmp_mount[@]}" --env "APP_VERSION=$IMAGE_TAG" --env "HEALTH_CHECK_PATH=$health_path" --publish "127.0.0.1::$port" "$image")" ||
  fail "the release image did not start"
cleanup() {
  docker rm --force --volumes "$container" >/dev/null 2>&1 || true
  [[ -z "$tmp_dir" ]] || rm -rf "$tmp_dir"
}
trap cleanup EXIT
host_port="$(docker port "$container" "$port/tcp" | head -n 1)"
host_port="${host_port##*:}"
url="http://127.0.0.1:$host_port$health_path"

deadline=$((SECONDS + start_limit))
until curl --fail --silent --show-error --max-time 2 "$url" >/dev/null 2>&1; do
  if [[ "$(docker inspect --format '{{.State.Running}}' "$container")" != true ]]; then
    docker logs --tail 30 "$container" >&2 || true
    fail "smoke test: the container exited before answering $health_path (its last log lines are above)"
  fi
  if ((SECONDS >= deadline)); then
    docker logs --tail 30 "$container" >&2 || true
    fail "smoke test: $health_path did not answer on port $port within ${start_limit}s"
  fi
  sleep 1
done
echo "build: smoke test: $health_path answered"

# Flask spools large uploads to tempfile: the app's user must be able to write in /tmp.
docker exec "$container" python -c 'import tempfile; tempfile.TemporaryFile().close()' ||
  fail "smoke test: the app's user cannot create a temporary file in /tmp (the error is above)"
echo "build: smoke test: the app's user can write in /tmp"

docker kill --signal TERM "$container" >/dev/null
stopped=false
for ((i = 0; i < stop_limit * 10; i++)); do
  if [[ "$(docker inspect --format '{{.State.Running}}' "$container")" != true ]]; then
    stopped=true
    break
  fi
  sleep 0.1
done
[[ "$stopped" == true ]] ||
  fail "smoke test: the app was still running ${stop_limit}s after SIGTERM; ECS would kill it mid-request"
echo "build: smoke test: exited on SIGTERM"

# 4. Push. Another run may have pushed the same commit meanwhile: that is fine, the tag is immutable.
if ! docker push "$image"; then
  [[ "$(ecr_digest)" == sha256:* ]] || fail "could not push $image"
  echo "build: $image was pushed by another run"
fi

# 5. Export the tag and digest.
digest="$(ecr_digest)"
[[ "$digest" == sha256:* ]] || fail "$image is not in ECR after the push"
write_outputs "$digest"
