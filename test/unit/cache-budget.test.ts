import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CacheBudget } from '../../src/compose/cache-budget.js';
import { parseSize } from '../../src/domain/byte-size.js';
import { testTempDir } from './helpers/temp-dir.js';

/** A cache dir with archives of `size` bytes, the first the least recently used. */
function cacheWith(names: string[], size: number): string {
  const dir = testTempDir('cache-budget-');
  names.forEach((name, index) => {
    const path = join(dir, `${name.repeat(64)}.oci.tar`);
    writeFileSync(path, Buffer.alloc(size));
    utimesSync(path, new Date(1_000_000 + index * 1000), new Date(1_000_000 + index * 1000));
  });
  return dir;
}
const archive = (dir: string, name: string) => join(dir, `${name.repeat(64)}.oci.tar`);
const listed = (dir: string) =>
  readdirSync(dir)
    .map((file) => file[0])
    .sort();

describe('CacheBudget ([publish] cache_max_size)', () => {
  it('removes the least recently used archives until the cache fits', () => {
    const dir = cacheWith(['a', 'b', 'c', 'd'], 100);
    expect(new CacheBudget(dir, 250).trim().map((path) => path.split('/').at(-1)![0])).toEqual(['a', 'b']);
    expect(listed(dir)).toEqual(['c', 'd']);
  });

  it('never removes an archive in use, and marks an archive used when its use ends', async () => {
    const dir = cacheWith(['a', 'b', 'c'], 100);
    const budget = new CacheBudget(dir, 200);
    await budget.using(archive(dir, 'a'), () => {
      budget.trim();
      expect(listed(dir)).toEqual(['a', 'c']);
      return Promise.resolve();
    });
    // a was just used: c is now the least recently used one.
    new CacheBudget(dir, 100).trim();
    expect(listed(dir)).toEqual(['a']);
  });

  it('leaves files that are not cached archives alone (partial downloads are the worker start sweep’s)', () => {
    const dir = cacheWith(['a'], 100);
    writeFileSync(join(dir, `${'b'.repeat(64)}.oci.tar.1234.part`), Buffer.alloc(1000));
    new CacheBudget(dir, 0).trim();
    expect(readdirSync(dir)).toEqual([`${'b'.repeat(64)}.oci.tar.1234.part`]);
  });
});

describe('parseSize', () => {
  it.each([
    ['20GiB', 20 * 1024 ** 3],
    ['500 MB', 500e6],
    ['1024', 1024],
    ['1.5KiB', 1536],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(['', 'lots', '20 parsecs', '-1GB'])('%j is not a size', (text) => expect(parseSize(text)).toBeUndefined());

  it('counts an OCI layout directory by the files it holds, and removes it whole', () => {
    const dir = cacheWith(['a'], 100);
    const layout = join(dir, `${'b'.repeat(64)}.oci`);
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'index.json'), Buffer.alloc(50));
    writeFileSync(join(layout, 'blobs', 'sha256', 'c'.repeat(64)), Buffer.alloc(100));
    utimesSync(layout, new Date(900_000), new Date(900_000));
    expect(new CacheBudget(dir, 200).trim()).toEqual([layout]);
    expect(listed(dir)).toEqual(['a']);
    expect(new CacheBudget(dir, 100).trim()).toEqual([]);
  });
});
