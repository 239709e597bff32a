import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Nothing in src/ reads the wall clock or the machine's time zone except
 * through the injected clock (src/clock.ts, whose systemClock is the one
 * place that may call Date.now), so that the suite and the exporter mean the
 * same on every date and under every TZ. Read with the type checker, so a
 * local-time getter is found on any Date, whatever the variable is called.
 */
const SRC = new URL('../src/', import.meta.url).pathname;
const CLOCK_HOME = 'clock.ts';

/** Methods of Date that read or write in the process's time zone (their getUTC/setUTC twins do not). */
const LOCAL_TIME_METHODS = new Set([
  'getFullYear',
  'getYear',
  'getMonth',
  'getDate',
  'getDay',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
  'getTimezoneOffset',
  'setFullYear',
  'setYear',
  'setMonth',
  'setDate',
  'setHours',
  'setMinutes',
  'setSeconds',
  'setMilliseconds',
  'toString',
  'toDateString',
  'toTimeString',
  'toLocaleString',
  'toLocaleDateString',
  'toLocaleTimeString',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every wall-clock or local-time read in `files`, as `file:line: what`. */
function wallClockReads(files: string[], allowNowIn: string[] = []): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const found: string[] = [];
  for (const file of program.getSourceFiles().filter((f) => files.includes(f.fileName))) {
    const name = relative(SRC, file.fileName);
    const report = (node: ts.Node, what: string) => {
      const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
      found.push(`${name}:${line + 1}: ${what}`);
    };
    const isDateType = (node: ts.Expression) => checker.typeToString(checker.getApparentType(checker.getTypeAtLocation(node))) === 'Date';
    const isGlobal = (node: ts.Expression, global: string) => ts.isIdentifier(node) && node.text === global;
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) {
        const prop = node.name.text;
        if (isGlobal(node.expression, 'Date') && prop === 'now' && !allowNowIn.includes(name))
          report(node, 'Date.now (use the injected clock)');
        if (isGlobal(node.expression, 'Date') && prop === 'parse')
          report(node, 'Date.parse reads a date-time without an offset as local time (use src/dates.ts)');
        if (isGlobal(node.expression, 'performance') && prop === 'now') report(node, 'performance.now (use the injected clock)');
        if (isGlobal(node.expression, 'process') && prop === 'hrtime') report(node, 'process.hrtime (use the injected clock)');
        if (LOCAL_TIME_METHODS.has(prop) && isDateType(node.expression))
          report(node, `Date#${prop} is local time (use its UTC twin or toISOString)`);
      }
      if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && isGlobal(node.expression, 'Date')) {
        const args = node.arguments ?? ts.factory.createNodeArray();
        if (ts.isCallExpression(node)) report(node, 'Date() is the wall clock as local-time text');
        else if (args.length === 0) report(node, 'new Date() reads the wall clock (use the injected clock)');
        else if (args.length === 1 && checker.getTypeAtLocation(args[0] as ts.Expression).flags & ts.TypeFlags.StringLike)
          report(node, 'new Date(string) reads a date-time without an offset as local time (use src/dates.ts)');
        else if (args.length > 1) report(node, 'new Date(y, m, ...) is local time (use Date.UTC)');
      }
      if (ts.isPropertyAccessExpression(node) && isGlobal(node.expression, 'Intl'))
        report(node, `Intl.${node.name.text} uses the process's locale and time zone`);
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return found;
}

describe('time in src/', () => {
  it(`reads the wall clock only through the injected clock (${CLOCK_HOME}), and never the time zone`, () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(30);
    expect(wallClockReads(files, [CLOCK_HOME])).toEqual([]);
  });

  it('finds each kind of read it forbids (a check that finds nothing would pass on any code)', () => {
    const dir = new URL('./fixtures/wall-clock/', import.meta.url).pathname;
    const found = wallClockReads(sourceFiles(dir)).map((f) => f.replace(/^.*?fixtures\/wall-clock\//, ''));
    expect(found).toEqual([
      'bad.ts:2: Date.now (use the injected clock)',
      'bad.ts:3: new Date() reads the wall clock (use the injected clock)',
      'bad.ts:4: Date() is the wall clock as local-time text',
      'bad.ts:5: Date.parse reads a date-time without an offset as local time (use src/dates.ts)',
      'bad.ts:6: new Date(string) reads a date-time without an offset as local time (use src/dates.ts)',
      'bad.ts:7: new Date(y, m, ...) is local time (use Date.UTC)',
      'bad.ts:9: Date#getHours is local time (use its UTC twin or toISOString)',
      'bad.ts:10: Date#getTimezoneOffset is local time (use its UTC twin or toISOString)',
      'bad.ts:11: Date#toLocaleDateString is local time (use its UTC twin or toISOString)',
      'bad.ts:12: performance.now (use the injected clock)',
      "bad.ts:13: Intl.DateTimeFormat uses the process's locale and time zone",
    ]);
  });
});
