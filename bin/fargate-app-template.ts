#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { ConfigError, DEFAULT_ENVIRONMENT, loadConfig } from '../lib/config';

// The only place that reads context: `-c env=NAME` picks the environment.
const app = new cdk.App();
const envName = String(app.node.tryGetContext('env') ?? DEFAULT_ENVIRONMENT);
try {
  buildApp(app, loadConfig(envName));
} catch (error) {
  if (error instanceof ConfigError) {
    // A configuration problem is the user's to fix: say what and where, without a stack trace.
    console.error(`Invalid configuration:\n${error.message}`);
    process.exit(1);
  }
  throw error;
}
