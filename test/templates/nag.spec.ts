/**
 * cdk-nag's AwsSolutions and NIST 800-53 R5 packs on the synthesized templates, as a second pass after the construct-tree
 * run at synth (lib/app.ts): see nag.ts for what only this pass sees. Run by `npm run test:templates`.
 */
import * as fs from 'node:fs';
import { acknowledgementsIn, nagTemplate } from './nag';
import { TARGET_NAMES, target } from './targets';

const templatesOf = (name: string) => target(name).templates;
const key = (f: { rule: string; logicalId: string }) => `${f.logicalId} ${f.rule}`;

describe.each(TARGET_NAMES)('%s', (name) => {
  test('every template has zero unacknowledged cdk-nag findings', () => {
    for (const file of templatesOf(name)) expect({ file, findings: nagTemplate(file).map(key) }).toEqual({ file, findings: [] });
  });

  test('reads the acknowledgements each template carries, which cdk-nag v3 itself ignores: without them, findings return', () => {
    let returned = 0;
    for (const file of templatesOf(name)) {
      const acknowledged = new Set(acknowledgementsIn(JSON.parse(fs.readFileSync(file, 'utf8'))).map(key));
      const findings = nagTemplate(file, { honourAcknowledgements: false }).map(key);
      expect({ file, notAcknowledged: findings.filter((f) => !acknowledged.has(f)) }).toEqual({ file, notAcknowledged: [] });
      returned += findings.length;
    }
    expect(returned).toBeGreaterThan(0);
  });
});
