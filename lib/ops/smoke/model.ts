/**
 * The push-to-live time the model gives for `dev`, rounded out to whole minutes: `npm run model:push-to-live`
 * (lib/ops/push-to-live.ts, printed in docs/cost-and-speed.md). The smoke test prints its measurement next to this;
 * test/ops/push-to-live.test.ts fails when the model moves and this does not.
 */
export const PUSH_TO_LIVE_MODEL_MINUTES: { readonly min: number; readonly max: number; readonly source: string } = {
  min: 8,
  max: 9,
  source: 'npm run model:push-to-live, dev',
};
