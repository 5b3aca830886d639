import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import type { Clients } from './clients';
import { EXIT, OpsError } from './errors';
import { retrying } from './retry';

export interface ImageInfo {
  readonly tag: string;
  readonly digest: string;
  readonly pushedAt?: Date;
  readonly scanStatus?: string;
  /** Scan findings by severity. */
  readonly findings: Record<string, number>;
}

/** The ECR image of a tag, or undefined when the repository has no such tag. */
export async function findImage(clients: Clients, repositoryName: string, tag: string): Promise<ImageInfo | undefined> {
  try {
    const { imageDetails } = await retrying(() =>
      clients.ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] })),
    );
    const image = imageDetails?.[0];
    if (!image) return undefined;
    return {
      tag,
      digest: image.imageDigest ?? '',
      pushedAt: image.imagePushedAt,
      scanStatus: image.imageScanStatus?.status,
      findings: image.imageScanFindingsSummary?.findingSeverityCounts ?? {},
    };
  } catch (error) {
    if ((error as Error).name === 'ImageNotFoundException') return undefined;
    throw error;
  }
}

/** The ECR image of a tag, or UNKNOWN_TAG. */
export async function requireImage(clients: Clients, repositoryName: string, tag: string): Promise<ImageInfo> {
  const image = await findImage(clients, repositoryName, tag);
  if (!image) {
    throw new OpsError(
      `image tag ${tag} is not in ECR repository ${repositoryName}: list the tags with \`aws ecr list-images --repository-name ${repositoryName}\``,
      EXIT.UNKNOWN_TAG,
    );
  }
  return image;
}

/** The repository name from a repository URI (`<registry>/<name>`). */
export function repositoryNameOf(uri: string): string {
  return uri.slice(uri.indexOf('/') + 1);
}
