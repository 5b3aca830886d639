import { GetTemplateCommand, paginateListStackResources, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import type { Clients } from '../clients';
import { retrying } from '../retry';

/** Something a run leaves in the account, with the commands that delete it. */
export interface Leftover {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
  /** Why it stays. */
  readonly reason: string;
}

interface TemplateResource {
  readonly Type?: string;
  readonly DeletionPolicy?: string;
  readonly Properties?: { LoggingConfig?: { LogGroup?: unknown } };
}

// Retain keeps the resource on stack deletion; RetainExceptOnCreate keeps it too, once its stack was created.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
const RETAINING = new Set(['Retain', 'RetainExceptOnCreate']);

/**
 * What `cdk destroy` will leave behind from one stack, read before it is destroyed: the resources whose
 * DeletionPolicy retains them, and the log groups that Lambda creates on its own for functions without a LoggingConfig
 * log group (`/aws/lambda/<function name>`, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html):
 * CloudFormation never owned those, so it does not delete them.
 */
export async function leftoversOf(clients: Clients, stackName: string): Promise<Leftover[]> {
  const { TemplateBody = '{}' } = await retrying(() =>
    clients.cloudformation.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' })),
  );
  // CDK deploys JSON templates.
  const resources = (JSON.parse(TemplateBody) as { Resources?: Record<string, TemplateResource> }).Resources ?? {};
  const summaries: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources({ client: clients.cloudformation }, { StackName: stackName })) {
    summaries.push(...(page.StackResourceSummaries ?? []));
  }
  const leftovers: Leftover[] = [];
  for (const s of summaries) {
    const logicalId = s.LogicalResourceId ?? '';
    const physicalId = s.PhysicalResourceId ?? '';
    if (!physicalId || s.ResourceStatus === 'DELETE_COMPLETE') continue;
    const resource = resources[logicalId] ?? {};
    const type = s.ResourceType ?? resource.Type ?? '';
    if (resource.DeletionPolicy && RETAINING.has(resource.DeletionPolicy)) {
      leftovers.push({ stack: stackName, logicalId, type, physicalId, reason: `DeletionPolicy ${resource.DeletionPolicy}` });
    }
    if (type === 'AWS::Lambda::Function' && !resource.Properties?.LoggingConfig?.LogGroup) {
      leftovers.push({
        stack: stackName,
        logicalId: `${logicalId} (its log group)`,
        type: 'AWS::Logs::LogGroup',
        physicalId: `/aws/lambda/${physicalId}`,
        reason: 'created by Lambda, not by CloudFormation',
      });
    }
  }
  return leftovers;
}

const TYPE_NAMES: Record<string, string> = {
  'AWS::S3::Bucket': 'S3 bucket',
  'AWS::KMS::Key': 'KMS key',
  'AWS::ECR::Repository': 'ECR repository',
  'AWS::CodeCommit::Repository': 'CodeCommit repository',
  'AWS::Logs::LogGroup': 'log group',
};

export function describeLeftover(l: Leftover): string {
  return `${TYPE_NAMES[l.type] ?? l.type} ${l.physicalId}  (${l.stack} ${l.logicalId}: ${l.reason})`;
}

/** The shell commands (AWS CLI v2) that delete a leftover. */
export function deleteCommands(l: Leftover, region: string): string[] {
  const r = `--region ${region}`;
  switch (l.type) {
    case 'AWS::S3::Bucket': {
      // Versioned: every version and delete marker must go before the bucket can. One delete-objects call takes up to
      // 1000 keys, far more than a smoke run writes.
      const query = "'{Objects: [Versions, DeleteMarkers][].{Key: Key, VersionId: VersionId}, Quiet: `true`}'";
      return [
        `aws s3api list-object-versions ${r} --bucket ${l.physicalId} --output json --query ${query} > /tmp/${l.physicalId}.json`,
        `grep -q '"Key"' /tmp/${l.physicalId}.json && aws s3api delete-objects ${r} --bucket ${l.physicalId} --delete file:///tmp/${l.physicalId}.json`,
        `aws s3api delete-bucket ${r} --bucket ${l.physicalId}`,
      ];
    }
    case 'AWS::KMS::Key':
      // Seven days is the shortest waiting period KMS allows.
      return [`aws kms schedule-key-deletion ${r} --key-id ${l.physicalId} --pending-window-in-days 7`];
    case 'AWS::ECR::Repository':
      return [`aws ecr delete-repository ${r} --repository-name ${l.physicalId} --force`];
    case 'AWS::CodeCommit::Repository':
      return [`aws codecommit delete-repository ${r} --repository-name ${l.physicalId}`];
    case 'AWS::Logs::LogGroup':
      return [`aws logs delete-log-group ${r} --log-group-name ${l.physicalId}`];
    case 'AWS::CloudFormation::Stack':
      return [`aws cloudformation delete-stack ${r} --stack-name ${l.physicalId}`];
    default:
      return [`# delete ${l.type} ${l.physicalId} in the console or with its service's CLI`];
  }
}

/** Keys last: the retained artifact bucket's objects are encrypted with the retained key. */
export function deletionOrder(leftovers: readonly Leftover[]): Leftover[] {
  const rank = (l: Leftover) => (l.type === 'AWS::CloudFormation::Stack' ? 0 : l.type === 'AWS::KMS::Key' ? 2 : 1);
  return [...leftovers].sort((a, b) => rank(a) - rank(b));
}
