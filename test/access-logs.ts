/** Template readers for the load balancer's access logs: test/constructs/load-balancer.test.ts and the stack tests. */

/** The bucket-policy statements that let someone write access logs under an `AWSLogs/` prefix. */
export function accessLogDelivery(template: Record<string, any>): any[] {
  return Object.values<any>(template.Resources)
    .filter((r) => r.Type === 'AWS::S3::BucketPolicy')
    .flatMap((r) => r.Properties.PolicyDocument.Statement)
    .filter(
      (st: any) =>
        st.Effect === 'Allow' && [st.Action].flat().includes('s3:PutObject') && JSON.stringify(st.Resource).includes('/AWSLogs/'),
    );
}

/**
 * Every `Fn::FindInMap` that CloudFormation could not resolve in `region`: it fails the deployment there
 * ("Fn::FindInMap - Key '<region>' not found in Mapping"). An empty list means the template has no lookup that region misses.
 */
export function findInMapsFor(template: Record<string, any>, region: string): string[] {
  const missing: string[] = [];
  const key = (k: unknown) => (typeof k === 'object' && k !== null && (k as any).Ref === 'AWS::Region' ? region : k);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const lookup = (node as any)['Fn::FindInMap'];
    if (lookup) {
      const [map, top, second] = [lookup[0], key(lookup[1]), key(lookup[2])];
      if (typeof top !== 'string' || template.Mappings?.[map]?.[top]?.[second as string] === undefined) {
        missing.push(`${map}[${JSON.stringify(top)}][${JSON.stringify(second)}]`);
      }
    }
    Object.values(node).forEach(walk);
  };
  walk(template.Resources);
  walk(template.Outputs ?? {});
  return missing;
}
