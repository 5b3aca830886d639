/** `tsx test/templates/synth-variant.ts NAME OUTDIR`: synthesizes one variant (see targets.ts) into OUTDIR. */
import { VARIANTS, synthesizeVariant } from './targets';

const [name, outdir] = process.argv.slice(2);
const variant = VARIANTS[name];
if (!variant || !outdir) {
  console.error(`usage: synth-variant.ts NAME OUTDIR, with NAME one of ${Object.keys(VARIANTS).join(', ')}`);
  process.exit(2);
}
synthesizeVariant(variant(), outdir);
