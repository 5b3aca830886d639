import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { END, REFERENCE_FILE, START, referenceRows, renderReference, writeReference } from '../../lib/config/reference';

const ROOT = path.join(__dirname, '..', '..');

test('documents every field, with what it does and what is allowed', () => {
  const rows = referenceRows();
  expect(rows.map((r) => r.field)).toEqual(expect.arrayContaining(['cpu', 'domain.recordName', 'pipeline.source.connectionArn']));
  for (const row of rows) {
    expect(row.description.length).toBeGreaterThan(10);
    expect(row.allowed.length).toBeGreaterThan(3);
  }
});

test('does not depend on any environment: renamed, resized or added environments render the same reference', () => {
  const reference = renderReference();
  const variants = [
    {},
    { staging: { envName: 'staging', cpu: 4096, memoryLimitMiB: 30720, maxCapacity: 10, networkProfile: 'private' } },
  ];
  for (const environments of variants) {
    jest.isolateModules(() => {
      jest.doMock('../../lib/config/environments', () => ({ environments, DEFAULT_ENVIRONMENT: 'staging' }));
      expect(require('../../lib/config/reference').renderReference()).toBe(reference);
    });
  }
});

test(`${REFERENCE_FILE} carries the generated reference (run \`npm run docs\` after changing lib/config/schema.ts)`, () => {
  const text = fs.readFileSync(path.join(ROOT, REFERENCE_FILE), 'utf8');
  const section = text.slice(text.indexOf(START) + START.length, text.indexOf(END)).trim();
  expect(section).toBe(renderReference());
});

test('writing the reference reports whether the file changed', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reference-')), 'doc.md');
  fs.writeFileSync(file, `# Doc\n\n${START}\nold\n${END}\n\nafter\n`);
  expect(writeReference(file)).toBe(true);
  const once = fs.readFileSync(file, 'utf8');
  expect(once).toBe(`# Doc\n\n${START}\n${renderReference()}\n${END}\n\nafter\n`);
  expect(writeReference(file)).toBe(false);
  expect(fs.readFileSync(file, 'utf8')).toBe(once);
});

test('fails when the file has no reference markers', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reference-')), 'doc.md');
  fs.writeFileSync(file, '# Doc\n');
  expect(() => writeReference(file)).toThrow(`${file} has no ${START} … ${END} section`);
});
