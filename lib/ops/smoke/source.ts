import { type CodeCommitClient, CreateCommitCommand, GetBranchCommand } from '@aws-sdk/client-codecommit';
import { EXIT, OpsError } from '../errors';
import { retrying } from '../retry';

/**
 * The file the smoke commit writes. It lies inside `app/service/`, which the release stage of `app/Dockerfile` copies,
 * so the pushed commit builds an image with a new digest: the rollback then really changes what the tasks run.
 */
export const SMOKE_FILE = 'app/service/smoke-test.txt';

/** The repository name in the Registry stack's `SourceCloneUrl` output (`codecommit::<region>://<name>`). */
export function repositoryNameFromCloneUrl(cloneUrl: string | undefined): string {
  const name = cloneUrl?.match(/^codecommit::[^:]*:\/\/(?:[^@]+@)?([\w.-]+)$/)?.[1];
  if (!name) {
    throw new OpsError(
      `the registry stack's SourceCloneUrl output is '${cloneUrl ?? ''}', not codecommit::<region>://<name>: the smoke test needs the codecommit source`,
      EXIT.FAILED,
    );
  }
  return name;
}

/** The commit at the tip of a branch. */
export async function branchHead(codecommit: CodeCommitClient, repositoryName: string, branchName: string): Promise<string> {
  const { branch } = await retrying(() => codecommit.send(new GetBranchCommand({ repositoryName, branchName })));
  if (!branch?.commitId) throw new OpsError(`branch ${branchName} of ${repositoryName} has no commit`, EXIT.FAILED);
  return branch.commitId;
}

/**
 * Pushes one commit on top of the branch with the CodeCommit API (CreateCommit), not with git.
 *
 * Why the API: the smoke test already runs on Node with the AWS SDK, which resolves the same credentials as `cdk`
 * (SSO, profiles, environment). `git push` to CodeCommit needs more on the user's machine: the AWS CLI for the HTTPS
 * credential helper (https://docs.aws.amazon.com/cli/latest/reference/codecommit/credential-helper), or
 * git-remote-codecommit (pip) for the `codecommit::` URL; and on macOS the system git's Keychain helper caches
 * CodeCommit's short-lived HTTPS password, so pushes fail with 403 once it expires (the macOS note in
 * https://docs.aws.amazon.com/codecommit/latest/userguide/setting-up-https-unixes.html). CreateCommit moves the branch
 * like a push does, which is the referenceUpdated event that starts the pipeline
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeCommit.html; CDK's
 * CodeCommitSourceAction defaults to the EVENTS trigger).
 */
export async function pushSmokeCommit(
  codecommit: CodeCommitClient,
  repositoryName: string,
  branchName: string,
  runId: string,
): Promise<{ parent: string; commitId: string }> {
  const parent = await branchHead(codecommit, repositoryName, branchName);
  const { commitId } = await retrying(() =>
    codecommit.send(
      new CreateCommitCommand({
        repositoryName,
        branchName,
        parentCommitId: parent,
        authorName: 'aws-smoke',
        commitMessage: `Smoke test ${runId}: a change that ships a new image`,
        putFiles: [{ filePath: SMOKE_FILE, fileContent: new TextEncoder().encode(`smoke test run ${runId}\n`) }],
      }),
    ),
  );
  if (!commitId) throw new OpsError(`CreateCommit on ${repositoryName} returned no commit ID`, EXIT.FAILED);
  return { parent, commitId };
}
