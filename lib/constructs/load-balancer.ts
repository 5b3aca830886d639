import * as cdk from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DomainConfig } from '../config';

/** The ALB's idle timeout. gunicorn's keep-alive (65 s) must stay above it, or the ALB reuses closed connections: 502s. */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** Deletion protection, for production. */
  readonly deletionProtection: boolean;
  /** Days to keep access logs. */
  readonly accessLogRetentionDays: number;
  /**
   * Serve HTTPS on this domain, with an ACM certificate, and redirect HTTP to HTTPS.
   * @default - no domain: `allowPlainHttp` must be true
   */
  readonly domain?: DomainConfig;
  /**
   * Serve plain HTTP on the load balancer's DNS name. The configuration's explicit choice when there is no domain.
   * @default false
   */
  readonly allowPlainHttp?: boolean;
}

/**
 * An internet-facing Application Load Balancer that drops invalid headers and logs every request
 * to an encrypted bucket. Traffic goes through `listener`; its default action answers 404 so that
 * only the service's own listener rule forwards to the app (ECS-native blue/green needs a rule).
 */
export class LoadBalancer extends Construct {
  /** The load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that carries production traffic: HTTPS with a domain, HTTP without. */
  public readonly listener: elbv2.ApplicationListener;
  /** The service's base URL. */
  public readonly url: string;
  /** The access-log bucket. */
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support only SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: cdk.Duration.days(props.accessLogRetentionDays),
          noncurrentVersionExpiration: cdk.Duration.days(1),
          abortIncompleteMultipartUploadAfter: cdk.Duration.days(1),
        },
      ],
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    cdk.Validations.of(this.accessLogBucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason: 'This is the access-log destination; logging it to yet another bucket only moves the problem',
      },
      {
        id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
        reason: 'This is the access-log destination; logging it to yet another bucket only moves the problem',
      },
      {
        id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
        reason: 'ALB access-log delivery supports only SSE-S3 (Amazon S3-managed keys)',
      },
      {
        id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
        reason:
          'Access logs expire on a lifecycle rule; replicating them to a second region doubles cost with no recovery objective',
      },
    );

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      idleTimeout: cdk.Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
      deletionProtection: props.deletionProtection,
    });
    cdk.Validations.of(this.loadBalancer.connections.securityGroups[0]).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'Internet-facing load balancer: it admits the world on its listener ports only, by design',
    });
    cdk.Validations.of(this.loadBalancer).acknowledge({
      id: 'NIST.800.53.R5-ALBWAFEnabled',
      reason:
        'A WAF web ACL (about $5/month plus rules) is a per-service decision; associate one with wafv2.CfnWebACLAssociation',
    });
    if (!props.deletionProtection) {
      cdk.Validations.of(this.loadBalancer).acknowledge({
        id: 'NIST.800.53.R5-ELBDeletionProtectionEnabled',
        reason: 'Non-production environments are torn down freely; production turns deletion protection on',
      });
    }
    this.enableAccessLogs('alb');

    const notFound = elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found' });
    if (props.domain) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.domain.hostedZoneId,
        zoneName: props.domain.zoneName,
      });
      const certificate = new acm.Certificate(this, 'Certificate', {
        domainName: props.domain.recordName,
        validation: acm.CertificateValidation.fromDns(zone),
      });
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: notFound,
      });
      const redirect = this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
      cdk.Validations.of(redirect).acknowledge({
        id: 'NIST.800.53.R5-ELBv2ACMCertificateRequired',
        reason: 'Port 80 serves nothing: it only redirects to the HTTPS listener, which uses the ACM certificate',
      });
      new route53.ARecord(this, 'Alias', {
        zone,
        recordName: props.domain.recordName,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
      });
      this.url = `https://${props.domain.recordName}`;
    } else {
      if (!props.allowPlainHttp) {
        throw new Error(`${this.node.path}: no domain, and plain HTTP was not allowed; set domain, or allowPlainHttp: true`);
      }
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: notFound,
      });
      const noDomain =
        "Plain HTTP is the configuration's explicit choice (allowPlainHttp: true, validated to need no domain); setting `domain` serves HTTPS and redirects HTTP";
      cdk.Validations.of(this.listener).acknowledge(
        { id: 'NIST.800.53.R5-ALBHttpToHttpsRedirection', reason: noDomain },
        { id: 'NIST.800.53.R5-ELBv2ACMCertificateRequired', reason: noDomain },
      );
      this.url = `http://${this.loadBalancer.loadBalancerDnsName}`;
    }
  }

  /**
   * Access logs, delivered by the ELB log-delivery service principal in every region, whether or not the stack has one.
   *
   * aws-cdk-lib's `logAccessLogs` grants a regional ELB account where its region table has one, needs a region at synth,
   * and also grants `delivery.logs.amazonaws.com`, which ALB access logs do not use. ELB's documentation now gives the
   * service-principal policy for every region: "Previously, for Regions available before August 2022, we required a
   * policy that granted permissions to an ELB account that was specific to the Region. This legacy policy is still
   * supported, but we recommend that you replace it with the newer policy above", and "Regions that are not in this list
   * never supported the legacy bucket policy"
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/enable-access-logs.html#attach-bucket-policy, and
   * the same words for ALB connection logs, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-connection-logging.html;
   * ALB access logs: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
   * The ALB guide's document history dates the change: "Prior to this release, the bucket policy that you used depended on
   * whether the Region was available before or after August 2022. With this release, the newer bucket policy is
   * supported in all Regions. Note that the legacy bucket policy is still supported." (September 10, 2025,
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/doc-history.html). So one statement, decided at synth, serves old regions, regions newer than this aws-cdk-lib release, and
   * environment-agnostic stacks alike: no region mapping, no condition. The account ID in the resource path is what
   * keeps other accounts' load balancers out, as the same page says. A wrong policy fails loudly: ELB writes a test file
   * when logging is switched on and rejects the attribute change if it cannot (step 4 of the page above).
   * The pages cited cover the `aws` and `aws-us-gov` partitions; China regions are not covered by them.
   */
  private enableAccessLogs(prefix: string): void {
    this.accessLogBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ElbAccessLogDelivery',
        actions: ['s3:PutObject'],
        principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
        resources: [this.accessLogBucket.arnForObjects(`${prefix}/AWSLogs/${cdk.Stack.of(this).account}/*`)],
      }),
    );
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogBucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    // ELB checks the bucket policy when logging is switched on, so the policy must exist first.
    const policy = this.accessLogBucket.policy?.node.defaultChild as cdk.CfnResource | undefined;
    if (!policy) throw new Error(`${this.node.path}: the access-log bucket has no policy`);
    (this.loadBalancer.node.defaultChild as cdk.CfnResource).addResourceDependency(policy);
  }
}
