#!/usr/bin/env node
// `npm run docs`: writes the configuration reference, rendered from lib/config/schema.ts, into REFERENCE_FILE.
import * as path from 'node:path';
import { REFERENCE_FILE, writeReference } from '../lib/config/reference';

const file = path.join(__dirname, '..', REFERENCE_FILE);
try {
  const changed = writeReference(file);
  console.log(`${REFERENCE_FILE}: configuration reference ${changed ? 'updated' : 'unchanged'}`);
} catch (error) {
  console.error(`npm run docs: ${(error as Error).message}`);
  process.exit(1);
}
