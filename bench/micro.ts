/**
 * Benchmarks of the pure code that runs on every compose: prints numbers, asserts nothing.
 * Run with `npm run bench` (with the end-to-end benchmark) or alone: `npx tsx bench/micro.ts`.
 */
import { performance } from 'node:perf_hooks';
import { compareComposeIds } from '../src/domain/compose-id.js';
import { decideGate } from '../src/domain/gate.js';
import { parseImages } from '../src/domain/productmd.js';
import type { PublishedTag } from '../src/domain/types.js';

function measure(name: string, iterations: number, body: (i: number) => void): void {
  for (let i = 0; i < Math.min(iterations, 100); i++) body(i);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) body(i);
  const ms = performance.now() - start;
  console.log(
    `${name.padEnd(48)} ${iterations.toString().padStart(7)} runs  ${(ms / iterations).toFixed(4).padStart(10)} ms/run  ${Math.round(
      (iterations / ms) * 1000,
    )
      .toString()
      .padStart(9)} runs/s`,
  );
}

const ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'];
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function publishedIndexes(registries: number, tags: number): PublishedTag[] {
  const out: PublishedTag[] = [];
  for (let r = 0; r < registries; r++) {
    for (let t = 0; t < tags; t++) {
      out.push({
        registry: `registry${r}.example.org/fedora`,
        repository: 'fedora',
        tag: `tag${t}`,
        digest: digest(1000 + r * 10 + t),
        instances: ARCHES.map((ociArch, i) => ({ ociArch, digest: digest(i), composeId: 'Fedora-40-20240501.n.0' })),
      });
    }
  }
  return out;
}

function imagesJson(containerEntries: number, otherEntries: number): unknown {
  const entry = (i: number, type: string) => ({
    arch: 'x86_64',
    bootable: false,
    disc_count: 1,
    disc_number: 1,
    format: type === 'docker' ? 'tar.xz' : 'qcow2',
    implant_md5: null,
    mtime: 1714550400,
    path: `Cloud/x86_64/images/image-${i}.${type}`,
    size: 123456789,
    subvariant: type === 'docker' ? `Container_${i}` : 'Cloud_Base',
    type,
    volume_id: null,
    checksums: { sha256: digest(i).slice(7) },
  });
  return {
    header: { type: 'productmd.images', version: '1.2' },
    payload: {
      compose: { date: '20240501', id: 'Fedora-40-20240501.n.0', respin: 0, type: 'nightly' },
      images: {
        Container: { x86_64: Array.from({ length: containerEntries }, (_, i) => entry(i, 'docker')) },
        Cloud: { x86_64: Array.from({ length: otherEntries }, (_, i) => entry(i, 'qcow2')) },
      },
    },
  };
}

const built = Object.fromEntries(ARCHES.map((arch, i) => [arch, digest(i)]));
const small = publishedIndexes(2, 2);
const large = publishedIndexes(10, 5);
measure('decideGate, 2 registries × 2 tags (noop)', 50_000, () =>
  decideGate({ repository: 'fedora', composeId: 'Fedora-40-20240502.n.0', built, published: small }),
);
measure('decideGate, 10 registries × 5 tags (noop)', 10_000, () =>
  decideGate({ repository: 'fedora', composeId: 'Fedora-40-20240502.n.0', built, published: large }),
);
measure('decideGate, missing arch (blocked)', 50_000, () =>
  decideGate({
    repository: 'fedora',
    composeId: 'Fedora-40-20240502.n.0',
    built: { amd64: undefined },
    published: small,
  }),
);

const typical = imagesJson(12, 60);
const huge = imagesJson(50, 2_000);
measure('parseImages, 12 containers + 60 other images', 2_000, () =>
  parseImages(typical, 'images.json', '/composes/Fedora-40-20240501.n.0/compose'),
);
measure('parseImages, 50 containers + 2000 other images', 50, () =>
  parseImages(huge, 'images.json', '/composes/Fedora-40-20240501.n.0/compose'),
);

const ids = Array.from(
  { length: 10_000 },
  (_, i) => `Fedora-40-2024${String((i % 12) + 1).padStart(2, '0')}${String((i % 28) + 1).padStart(2, '0')}.n.${i % 5}`,
);
measure('sort 10 000 compose ids', 20, () => [...ids].sort(compareComposeIds));
