import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clients } from '../../lib/ops/clients';

/** A repository URI as CloudFormation names it: the repository has no name in the template, so it is generated. */
export const REPOSITORY_URI =
  '123456789012.dkr.ecr.eu-west-1.amazonaws.com/fargate-app-dev-registry-imagesrepository2d0f5b9c-x7k2m9q4w1zd';

export const TAG = '3f2c1a9e0b7d4c6a8e5f1b2d3c4a5e6f7a8b9c0d';
export const OLD_TAG = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
export const DIGEST = 'sha256:5f2b1c9e0a7d4c6b8e5f1a2d3c4b5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d';
export const OLD_DIGEST = 'sha256:0000000000000000000000000000000000000000000000000000000000000001';
export const CLUSTER = 'fargate-app-dev-service-Cluster1234';
export const SERVICE = 'fargate-app-dev-service-WebService5678';
export const URL = 'http://fargate-app-dev-alb-123.eu-west-1.elb.amazonaws.com';

/** Mocked clients for every AWS service the ops code calls. */
export function mockedClients() {
  const mocks = {
    cloudformation: mockClient(CloudFormationClient),
    ecs: mockClient(ECSClient),
    ecr: mockClient(ECRClient),
    codepipeline: mockClient(CodePipelineClient),
    sts: mockClient(STSClient),
  };
  const region = 'eu-west-1';
  const clients: Clients = {
    cloudformation: new CloudFormationClient({ region, maxAttempts: 1 }),
    ecs: new ECSClient({ region, maxAttempts: 1 }),
    ecr: new ECRClient({ region, maxAttempts: 1 }),
    codepipeline: new CodePipelineClient({ region, maxAttempts: 1 }),
    sts: new STSClient({ region, maxAttempts: 1 }),
  };
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  return { mocks, clients };
}

/** A deployed Service stack running `tag`. */
export function serviceStack(tag: string, status = 'UPDATE_COMPLETE') {
  return {
    StackName: 'fargate-app-dev-service',
    StackStatus: status,
    CreationTime: new Date('2026-11-20T10:00:00Z'),
    LastUpdatedTime: new Date('2026-11-28T09:00:00Z'),
    Parameters: [
      { ParameterKey: 'ImageTag', ParameterValue: tag },
      { ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version' },
    ],
    Outputs: [
      { OutputKey: 'ClusterName', OutputValue: CLUSTER },
      { OutputKey: 'ServiceName', OutputValue: SERVICE },
      { OutputKey: 'ServiceUrl', OutputValue: URL },
    ],
  };
}

/** An ECS service whose running tasks run the given digests. */
export function ecsService(mocks: ReturnType<typeof mockedClients>['mocks'], digests: string[], rollout = 'COMPLETED') {
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: SERVICE,
        status: 'ACTIVE',
        runningCount: digests.length,
        desiredCount: digests.length,
        pendingCount: 0,
        deployments: [
          {
            status: 'PRIMARY',
            rolloutState: rollout as any,
            runningCount: digests.length,
            desiredCount: digests.length,
            pendingCount: 0,
            taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7',
            createdAt: new Date('2026-11-28T09:01:00Z'),
          },
        ],
        events: [{ createdAt: new Date('2026-11-28T09:05:00Z'), message: `(service ${SERVICE}) has reached a steady state.` }],
      },
    ],
  });
  mocks.ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: {
      containerDefinitions: [
        {
          name: 'app',
          image: `${REPOSITORY_URI}:${TAG}`,
        },
      ],
    },
  });
  // Two pages of task ARNs, to exercise pagination.
  const arns = digests.map((_, i) => `arn:aws:ecs:eu-west-1:123456789012:task/${CLUSTER}/task${i}`);
  const half = Math.ceil(arns.length / 2);
  mocks.ecs
    .on(ListTasksCommand)
    .resolves({ taskArns: arns.slice(0, half), nextToken: arns.length > half ? 'page2' : undefined })
    .on(ListTasksCommand, { nextToken: 'page2' })
    .resolves({ taskArns: arns.slice(half) });
  mocks.ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
    tasks: input.tasks.map((arn) => ({
      taskArn: arn,
      lastStatus: 'RUNNING',
      containers: [{ name: 'app', imageDigest: digests[Number(arn.slice(-1))] }],
    })),
  }));
}

export function stackResolves(mocks: ReturnType<typeof mockedClients>['mocks'], stack: unknown) {
  mocks.cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [stack as any] });
}
