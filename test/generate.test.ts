import { describe, expect, it } from 'vitest';
import { generate } from '../scripts/generate.js';

describe('npm run generate', () => {
  it('has nothing to regenerate: dashboards, the chart, the settings and endpoint tables are those the code makes', () => {
    expect(generate(true), 'out of date: run `npm run generate`').toEqual([]);
  });
});
