import * as fs from 'node:fs';
import { acknowledgementsIn, nagTemplate } from './test/templates/nag';
const dir = process.argv[2];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
  const file = `${dir}/${f}`;
  const acks = acknowledgementsIn(JSON.parse(fs.readFileSync(file, 'utf8')));
  const raw = new Set(nagTemplate(file, { honourAcknowledgements: false }).map((x) => `${x.logicalId} ${x.rule}`));
  console.log(f, 'acks', acks.length, 'raw', raw.size, 'after', nagTemplate(file).length);
  for (const a of acks) if (!raw.has(`${a.logicalId} ${a.rule}`)) console.log('  unused ack:', a.logicalId, a.rule);
}
