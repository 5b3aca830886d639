/**
 * Link checking for the README and docs/*.md: every relative link must name an existing file, and every `#anchor` a
 * heading of the file it points to (GitHub's heading IDs). Links to other sites are not followed: this runs offline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The text outside fenced code blocks: headings and links inside ``` fences are not headings or links. */
export function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/**
 * GitHub's ID for a heading: lower-cased, inline-code backticks and punctuation dropped, each space a hyphen; a repeated
 * heading gets -1, -2, … (github/cmark-gfm's anchor rules, as github-slugger implements them).
 */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\- _]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, name] of markdown.matchAll(/<a name="([^"]+)"/g)) anchors.add(name);
  return anchors;
}

/** Every `[text](target)` of a file's prose, with inline code spans removed first. */
export function linksOf(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** One line per link that does not resolve, as `file: target (reason)`; files are paths relative to `root`. */
export function brokenLinks(root: string, files: readonly string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const markdown = fs.readFileSync(path.join(root, file), 'utf8');
    for (const target of linksOf(markdown)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [pathPart, anchor] = target.split('#', 2);
      const resolved = pathPart ? path.normalize(path.join(path.dirname(file), pathPart)) : file;
      const full = path.join(root, resolved);
      if (!fs.existsSync(full)) {
        broken.push(`${file}: ${target} (no file ${resolved})`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith('.md')) {
        broken.push(`${file}: ${target} (an anchor into ${resolved}, which is not Markdown)`);
      } else if (!anchorsOf(fs.readFileSync(full, 'utf8')).has(anchor)) {
        broken.push(`${file}: ${target} (${resolved} has no heading with the ID '${anchor}')`);
      }
    }
  }
  return broken;
}

/** The Markdown files reachable from `start` by relative links, `start` included. */
export function reachableFrom(root: string, start: string): Set<string> {
  const reached = new Set<string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    if (reached.has(file) || !fs.existsSync(path.join(root, file))) continue;
    reached.add(file);
    for (const target of linksOf(fs.readFileSync(path.join(root, file), 'utf8'))) {
      const pathPart = target.split('#')[0];
      if (/^[a-z]+:/i.test(target) || !pathPart.endsWith('.md')) continue;
      queue.push(path.normalize(path.join(path.dirname(file), pathPart)));
    }
  }
  return reached;
}
