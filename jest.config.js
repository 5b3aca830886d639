module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest'],
  },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean', '<rootDir>/test/setup/quiet-sdk.ts'],
  snapshotSerializers: ['<rootDir>/test/setup/mask-hashes.ts'],
  testTimeout: 60000,
  // Most suites wait on synthesis or child processes: use both cores of a 2-core machine.
  maxWorkers: 2,
};
