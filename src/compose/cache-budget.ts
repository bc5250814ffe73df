import { existsSync, readdirSync, statSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { layoutSize } from './oci-layout.js';

/** An image's OCI layout directory, or (from versions before layouts) its OCI archive. */
const CACHED_IMAGE = /^[0-9a-f]{64}\.oci(\.tar)?$/;

/**
 * Keeps a worker's image cache under a size: images in use by a running activity are pinned; when a use ends, the
 * least recently used unpinned images are removed until the cache fits. "Used" is the entry's mtime, touched on
 * every use. One instance per work dir and process (the worker's).
 */
export class CacheBudget {
  private readonly pinned = new Map<string, number>();

  constructor(
    private readonly cacheDir: string,
    readonly maxBytes: number,
  ) {}

  /** Runs `body` with the cached image at `archive` pinned (it cannot be evicted meanwhile), then trims the cache. */
  async using<T>(archive: string, body: () => Promise<T>): Promise<T> {
    this.pinned.set(archive, (this.pinned.get(archive) ?? 0) + 1);
    try {
      return await body();
    } finally {
      const count = (this.pinned.get(archive) ?? 1) - 1;
      if (count === 0) this.pinned.delete(archive);
      else this.pinned.set(archive, count);
      touch(archive);
      this.trim();
    }
  }

  /** Removes least recently used, unpinned archives until the cache holds at most maxBytes. Returns what it removed. */
  trim(): string[] {
    return this.evict(this.maxBytes).removed;
  }

  /**
   * Removes every cached image no activity is using now, whatever the budget: what a worker whose disk is full
   * does before its step is retried. An image a later step of a run needs is fetched and verified again then.
   */
  evictUnused(): { removed: string[]; bytes: number } {
    return this.evict(0);
  }

  /** Bytes the cached images take now. */
  heldBytes(): number {
    return this.entries().reduce((sum, archive) => sum + archive.size, 0);
  }

  private evict(limit: number): { removed: string[]; bytes: number } {
    const archives = this.entries();
    let total = archives.reduce((sum, archive) => sum + archive.size, 0);
    const removed: string[] = [];
    let bytes = 0;
    for (const archive of archives) {
      if (total <= limit) break;
      if (this.pinned.has(archive.path)) continue;
      rmSync(archive.path, { recursive: true, force: true });
      total -= archive.size;
      bytes += archive.size;
      removed.push(archive.path);
    }
    return { removed, bytes };
  }

  /** The cached images, least recently used first. */
  private entries(): Array<{ path: string; size: number; mtimeMs: number }> {
    if (!existsSync(this.cacheDir)) return [];
    return readdirSync(this.cacheDir)
      .filter((name) => CACHED_IMAGE.test(name))
      .flatMap((name) => {
        const path = join(this.cacheDir, name);
        try {
          const stats = statSync(path);
          return [{ path, size: stats.isDirectory() ? layoutSize(path) : stats.size, mtimeMs: stats.mtimeMs }];
        } catch {
          return [];
        }
      })
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
  }
}

function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // Removed meanwhile (an earlier trim of another use): nothing to mark.
  }
}
