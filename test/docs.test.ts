// Section citations in code, configs and the README point at sections that
// exist. A citation names a file under docs/ and optionally sections of it:
// `docs/<name>.md §2`, `§1–2, §4`, `§1, §2 and §4`, `§2.1`; each section must be
// a heading `## §N …` of that file. Citations of the team notes that used to
// live outside the repository (METHOD/DESIGN with ".md", or METHOD followed by
// § or "section") must not remain: a user who clones the repo cannot read them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/docs.test.js: the repository root is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What is scanned: these folders (recursively) and files, relative to the root. */
const SCANNED = ['src', 'test', 'bench', 'native', 'configs', 'scripts', 'README.md'];
/** Folders never scanned: build outputs, dependencies, hidden folders. */
const SKIPPED_DIRS = new Set(['node_modules', 'build', 'dist', '__pycache__']);

interface Citation {
  /** The doc's path relative to the root, e.g. docs/method.md. */
  doc: string;
  /** Cited section numbers ('2', '2.1'); empty when the whole doc is cited. */
  sections: string[];
  /** 1-based line of the doc's name. */
  line: number;
  /** The citation as written. */
  text: string;
}

interface Legacy {
  line: number;
  /** The whole source line, trimmed. */
  text: string;
}

const DOC = /docs\/([\w.-]+)\.md/g;
/** Between the doc's name and its first §: spaces and punctuation, or one line break and a comment leader. */
const LEAD = /^[ \t,:(]*(?:\r?\n[ \t]*(?:\/\/+|#+|\*|--)?[ \t]*)?/;
/** One section, or a range `§1–2` (en dash, em dash or hyphen; the second § optional). */
const SECTION = /^§{1,2}[ \t]*(\d+(?:\.\d+)*)(?:[ \t]*[–—-][ \t]*§?(\d+(?:\.\d+)*))?/;
/** What joins further sections to the first: `, §4`, ` and §4`, ` & §4`, `/§4`. */
const JOIN = /^(?:[ \t]*,)?[ \t]*(?:and[ \t]+|&[ \t]*|\/[ \t]*)?(?=§)/;
/** Names of the team notes (case-sensitive, so docs/method.md does not match). */
const LEGACY = /\b(?:METHOD|DESIGN)(?:\.md\b|[ \t]*(?:§|sections?\b))/g;

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Expands `a–b` to a, a+1, …, b when both are whole numbers; otherwise just the two ends. */
function expand(from: string, to: string | undefined): string[] {
  if (to === undefined) return [from];
  const a = Number(from);
  const b = Number(to);
  if (Number.isInteger(a) && Number.isInteger(b) && a <= b && b - a < 100) {
    return Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
  }
  return [from, to];
}

/** Every citation of a file under docs/ in `text`, with the sections it names. */
function findCitations(text: string): Citation[] {
  const found: Citation[] = [];
  for (const m of text.matchAll(DOC)) {
    const start = m.index!;
    let rest = text.slice(start + m[0].length);
    let consumed = m[0].length;
    const sections: string[] = [];
    const lead = LEAD.exec(rest)![0];
    let section = SECTION.exec(rest.slice(lead.length));
    if (section) {
      rest = rest.slice(lead.length);
      consumed += lead.length;
      for (;;) {
        sections.push(...expand(section[1]!, section[2]));
        rest = rest.slice(section[0].length);
        consumed += section[0].length;
        const join = JOIN.exec(rest);
        const next = join ? SECTION.exec(rest.slice(join[0].length)) : null;
        if (!join || !next) break;
        rest = rest.slice(join[0].length);
        consumed += join[0].length;
        section = next;
      }
    }
    found.push({ doc: `docs/${m[1]}.md`, sections, line: lineAt(text, start), text: text.slice(start, start + consumed).replace(/\s+/g, ' ') });
  }
  return found;
}

/** Every leftover citation of the old team notes in `text`, one per line. */
function findLegacy(text: string): Legacy[] {
  const lines = new Map<number, Legacy>();
  for (const m of text.matchAll(LEGACY)) {
    const line = lineAt(text, m.index!);
    if (!lines.has(line)) lines.set(line, { line, text: text.split('\n')[line - 1]!.trim() });
  }
  return [...lines.values()];
}

/** The section numbers a markdown file defines as headings `#… §N title`, outside code fences. */
function sectionHeadings(markdown: string): Set<string> {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  return new Set([...prose.matchAll(/^#{1,6}[ \t]+§(\d+(?:\.\d+)*)(?![\d.]*\d)/gm)].map((m) => m[1]!));
}

/** Problems with the citations in one file's text, as `file:line: message`. */
function checkCitations(file: string, text: string, docs: (doc: string) => Set<string> | null): string[] {
  const problems: string[] = [];
  for (const c of findCitations(text)) {
    const defined = docs(c.doc);
    if (defined === null) {
      problems.push(`${file}:${c.line}: ${c.text}: ${c.doc} does not exist`);
      continue;
    }
    const missing = c.sections.filter((s) => !defined.has(s));
    if (missing.length > 0) problems.push(`${file}:${c.line}: ${c.text}: ${c.doc} has no ${missing.map((s) => `§${s}`).join(', ')}`);
  }
  return problems;
}

/** The scanned text files, as [path relative to the root, text]. */
function scannedFiles(): [string, string][] {
  const files: [string, string][] = [];
  const visit = (rel: string): void => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) {
        if (name.startsWith('.') || (SKIPPED_DIRS.has(name) && statSync(path.join(abs, name)).isDirectory())) continue;
        visit(path.join(rel, name));
      }
      return;
    }
    const bytes = readFileSync(abs);
    if (bytes.subarray(0, 8192).includes(0)) return; // binary
    files.push([rel.split(path.sep).join('/'), bytes.toString('utf8')]);
  };
  for (const rel of SCANNED) visit(rel);
  return files;
}

const headingCache = new Map<string, Set<string> | null>();
function docSections(doc: string): Set<string> | null {
  if (!headingCache.has(doc)) {
    const abs = path.join(root, doc);
    headingCache.set(doc, existsSync(abs) ? sectionHeadings(readFileSync(abs, 'utf8')) : null);
  }
  return headingCache.get(doc)!;
}

// The examples are assembled at run time so that this file itself cites nothing.
const cite = (name: string, rest: string): string => `docs/${name}.md${rest}`;

test('citations are read with their sections', () => {
  const text = [
    `// ${cite('method', ' §2')}: the annealing`,
    `# (${cite('method', ' §1–2, §4')}) and ${cite('design', ', §9')}`,
    `see ${cite('method', ' §1, §2 and §4')}; ${cite('design', '')} for the rest; ${cite('method', ' §2.1')}`,
    `// as ${cite('method', '')}`,
    `//   §3 says, over a line break`,
    `${cite('method', ' §3, 2048 images')}`,
  ].join('\n');
  const got = findCitations(text).map((c) => [c.doc, c.line, c.sections.join(' ')]);
  assert.deepEqual(got, [
    ['docs/method.md', 1, '2'],
    ['docs/method.md', 2, '1 2 4'],
    ['docs/design.md', 2, '9'],
    ['docs/method.md', 3, '1 2 4'],
    ['docs/design.md', 3, ''],
    ['docs/method.md', 3, '2.1'],
    ['docs/method.md', 4, '3'],
    ['docs/method.md', 6, '3'],
  ]);
});

test('a citation of a missing section or doc is a problem, naming file and line', () => {
  const docs = (doc: string): Set<string> | null => (doc === 'docs/method.md' ? new Set(['1', '2', '3']) : null);
  const text = `ok ${cite('method', ' §1–3')}\nbad ${cite('method', ' §2, §9')}\n${cite('nowhere', ' §1')}`;
  assert.deepEqual(checkCitations('src/x.ts', text, docs), [
    `src/x.ts:2: ${cite('method', ' §2, §9')}: ${cite('method', '')} has no §9`,
    `src/x.ts:3: ${cite('nowhere', ' §1')}: ${cite('nowhere', '')} does not exist`,
  ]);
  assert.deepEqual(checkCitations('src/y.ts', `fine ${cite('method', ' §3')}`, docs), []);
});

test('old team-note citations are found, with their line', () => {
  const [m, d] = ['METHOD', 'DESIGN'];
  const text = [`a (${m} §2)`, `b ${m}.md §1–2`, `c ${d}.md, "Feature networks"`, `d ${m} section 2`, `e ${cite('method', ' §2')} ${m}OLOGY method`].join('\n');
  assert.deepEqual(findLegacy(text).map((l) => l.line), [1, 2, 3, 4]);
});

test('headings define sections; code fences do not', () => {
  const md = '# T\n## §1 One\ntext §5\n### §1.2 Sub\n```\n## §7 in a fence\n```\n## §10 Ten\n## Unnumbered\n';
  assert.deepEqual([...sectionHeadings(md)].sort(), ['1', '1.2', '10']);
});

test('docs/method.md numbers its sections §1–§7, as the code cites them', () => {
  assert.deepEqual([...(docSections('docs/method.md') ?? [])].sort(), ['1', '2', '3', '4', '5', '6', '7']);
  const design = [...(docSections('docs/design.md') ?? [])].map(Number).sort((a, b) => a - b);
  assert.ok(design.length > 0, 'docs/design.md has numbered sections');
  assert.deepEqual(design, design.map((_, i) => i + 1), 'docs/design.md numbers its sections 1, 2, 3, … without gaps');
});

test('every docs citation in the repository names an existing section', (t) => {
  const problems: string[] = [];
  let sections = 0;
  let whole = 0;
  for (const [file, text] of scannedFiles()) {
    for (const c of findCitations(text)) c.sections.length > 0 ? sections++ : whole++;
    problems.push(...checkCitations(file, text, docSections));
  }
  t.diagnostic(`${sections} section citations and ${whole} mentions of a whole doc checked`);
  if (problems.length > 0) assert.fail(`${problems.length} citations point nowhere:\n${problems.join('\n')}`);
});

test('no citation of the old team notes remains', () => {
  const problems: string[] = [];
  for (const [file, text] of scannedFiles()) {
    for (const l of findLegacy(text)) problems.push(`${file}:${l.line}: ${l.text}`);
  }
  if (problems.length > 0) {
    assert.fail(`${problems.length} lines cite team notes that are not in the repository; cite docs/method.md §N or docs/design.md §N instead:\n${problems.join('\n')}`);
  }
});
