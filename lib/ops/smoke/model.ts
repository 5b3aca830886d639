/**
 * The push-to-live time the docs model for `dev` (docs/cost-and-speed.md, "Push to live, modelled": ≈ 9–13 min).
 * The smoke test prints its measurement next to this; point it at the model's source when the model moves into code.
 */
export const PUSH_TO_LIVE_MODEL_MINUTES: { readonly min: number; readonly max: number; readonly source: string } = {
  min: 9,
  max: 13,
  source: 'docs/cost-and-speed.md, Push to live, modelled',
};
