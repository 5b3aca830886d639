/**
 * Snapshot serializer: masks asset hashes so that editing code (the CodeCommit seed, the app) does not churn
 * snapshots, while any change to the templates' structure still does.
 */
const HASH = /[0-9a-f]{64}/;
const MASKED = /\[HASH REMOVED\]/;

const serializer = {
  test: (value: unknown): boolean => typeof value === 'string' && HASH.test(value) && !MASKED.test(value),
  serialize: (value: string): string => JSON.stringify(value.replace(new RegExp(HASH.source, 'g'), '[HASH REMOVED]')),
};

module.exports = serializer;
