import * as fs from 'node:fs';
import * as path from 'node:path';
import { END, REFERENCE_DOC, START } from '../../bin/config-reference';
import { FIELD_DOCS, errorFor, renderReference } from '../../lib/config/reference';

const ROOT = path.join(__dirname, '..', '..');

/** Every field path of the configuration types, read from lib/config/types.ts. */
function fieldsOfTypes(): string[] {
  const source = fs.readFileSync(path.join(ROOT, 'lib', 'config', 'types.ts'), 'utf8');
  const prefixes: Record<string, string> = {
    EnvironmentConfig: '',
    DomainConfig: 'domain.',
    PipelineConfig: 'pipeline.',
    CodeCommitSourceConfig: 'pipeline.source.',
    ConnectionSourceConfig: 'pipeline.source.',
  };
  const fields = new Set<string>();
  for (const [, name, body] of source.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
    for (const [, field] of body.matchAll(/^ {2}readonly (\w+)\??:/gm)) fields.add(`${prefixes[name]}${field}`);
  }
  // Objects documented through their fields.
  for (const parent of ['pipeline', 'pipeline.source']) fields.delete(parent);
  return [...fields].sort();
}

test('documents every configuration field', () => {
  expect(FIELD_DOCS.map((d) => d.field).sort()).toEqual(fieldsOfTypes());
});

test.each(FIELD_DOCS.map((d) => [d.field, d]))('%s: its wrong example is rejected with an error naming it', (field, doc) => {
  expect(errorFor(doc)).toMatch(new RegExp(`^dev\\.${field.replace(/\./g, '\\.')}\\b`));
});

test(`${REFERENCE_DOC} carries the generated reference (run \`npm run docs\` after changing it)`, () => {
  const doc = fs.readFileSync(path.join(ROOT, REFERENCE_DOC), 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  expect(doc.slice(start + START.length, end).trim()).toBe(renderReference());
});
