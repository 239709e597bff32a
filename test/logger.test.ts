import { describe, expect, it } from 'vitest';
import { warnOnce } from '../src/logger.js';
import { captureLogs } from './support/logs.js';

describe('warnOnce', () => {
  it('logs each key once', () => {
    const { logger, lines } = captureLogs();
    const warn = warnOnce();
    for (let i = 0; i < 3; i++) {
      warn(logger, 'a', { k: 'a' }, 'problem a');
      warn(logger, 'b', { k: 'b' }, 'problem b');
    }
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'problem a'],
      ['warn', 'problem b'],
    ]);
  });

  it('remembers a bounded number of keys: endless new keys cannot grow memory, the oldest may be logged again', () => {
    const { logger, lines } = captureLogs();
    const warn = warnOnce(2);
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) warn(logger, key, {}, key);
    // a, b logged; a remembered; c evicts b (a was used more recently); a remembered; b logged again.
    expect(lines().map((l) => l.msg)).toEqual(['a', 'b', 'c', 'b']);
  });
});
