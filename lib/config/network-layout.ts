/** The network profiles: `public` has no NAT gateway, `private` puts the tasks behind NAT. */
export const NETWORK_PROFILES = ['public', 'private'] as const;
type Profile = (typeof NETWORK_PROFILES)[number];

/**
 * The subnets each network profile creates, in the order `ec2.Vpc` allocates them: one subnet of each group per
 * availability zone. `lib/constructs/network.ts` builds its VPC from these numbers, and validation checks `vpcCidr`
 * against them, so the two cannot drift apart.
 */
export const AVAILABILITY_ZONES = 2;
export const SUBNET_LAYOUT: Readonly<Record<Profile, readonly { readonly name: string; readonly cidrMask: number }[]>> = {
  public: [{ name: 'Public', cidrMask: 24 }],
  private: [
    { name: 'Public', cidrMask: 24 },
    { name: 'App', cidrMask: 22 },
  ],
};

/**
 * The longest VPC prefix (the smallest VPC) that holds the profile's subnets. It follows aws-cdk-lib's allocator
 * (`NetworkBuilder` in aws-ec2/lib/network-util.ts): subnets are placed one after another, each starting at the next
 * address aligned to its own size.
 */
export function longestVpcPrefix(profile: Profile): number {
  let end = 0;
  for (const { cidrMask } of SUBNET_LAYOUT[profile]) {
    const size = 2 ** (32 - cidrMask);
    for (let az = 0; az < AVAILABILITY_ZONES; az++) end = Math.ceil(end / size) * size + size;
  }
  return 32 - Math.ceil(Math.log2(end));
}
