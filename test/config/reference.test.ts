import * as fs from 'node:fs';
import * as path from 'node:path';
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

test('the README carries the generated reference (run `npm run docs` after changing it)', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- config-reference:start');
  const end = readme.indexOf('<!-- config-reference:end -->');
  const section = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
  expect(section).toBe(renderReference());
});
