import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageSelectionSettings } from '../../src/domain/image-selection.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseComposeInfo, parseImages } from '../../src/domain/productmd.js';
import { domainErrorOf } from './helpers/domain-error.js';

// Metadata written by productmd's own API, in the shapes Fedora's composes have (see test/fixtures/README.md).
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'productmd');
const ROOT = '/srv/compose';
const repositories = {
  Container_Base: 'fedora',
  Container_Minimal_Base: 'fedora-minimal',
  Container_Toolbox: 'fedora-toolbox',
};
const architectures = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' };

function read(fixture: string, file: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, fixture, file), 'utf8')) as unknown;
}

function planFor(
  fixture: string,
  options: { root?: string; selection?: ImageSelectionSettings; repositories?: Record<string, string> } = {},
) {
  const root = options.root ?? ROOT;
  const info = parseComposeInfo(read(fixture, 'composeinfo.json'), `${root}/metadata/composeinfo.json`);
  const images = parseImages(read(fixture, 'images.json'), `${root}/metadata/images.json`, root);
  return buildPlan({
    info,
    images,
    repositories: options.repositories ?? repositories,
    architectures,
    releases: { latest: '43', rawhide: '44' },
    ...(options.selection ? { selection: options.selection } : {}),
  });
}

const archesOf = (plan: ReturnType<typeof planFor>) =>
  plan.repositories.map((r) => [r.repository, r.images.map((i) => i.ociArch)]);
const ALL = ['amd64', 'arm64', 'ppc64le', 's390x'];

describe("Fedora's composes, as productmd writes them", () => {
  it('Fedora 43 (type container): every repository with four arches, tagged 43 and latest', () => {
    const plan = planFor('fedora-43');
    expect(plan.composeId).toBe('Fedora-43-20251023.0');
    expect(plan.manifestTags).toEqual(['43', 'latest']);
    expect(archesOf(plan)).toEqual([
      ['fedora', ALL],
      ['fedora-minimal', ALL],
      ['fedora-toolbox', ALL],
    ]);
    const s390x = plan.repositories[0]!.images.find((i) => i.composeArch === 's390x')!;
    expect(s390x).toMatchObject({
      location: `${ROOT}/Container/s390x/images/Fedora-Container-Base-Generic-43-1.6.s390x.oci.tar.xz`,
      fileName: 'Fedora-Container-Base-Generic-43-1.6.s390x.oci.tar.xz',
      compression: 'xz',
      entry: { variant: 'Container', subvariant: 'Container_Base' },
    });
    expect(s390x.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.repositories.every((r) => r.skipped === undefined)).toBe(true);
  });

  it('Fedora 42 (type container) leaves the WSL rootfs (type docker) alone unless WSL_Base is configured', () => {
    expect(archesOf(planFor('fedora-42'))).toEqual([
      ['fedora', ALL],
      ['fedora-minimal', ALL],
      ['fedora-toolbox', ALL],
    ]);
    // Configured, the WSL entry is selected by its type; what the file holds is checked before anything moves.
    const withWsl = planFor('fedora-42', { repositories: { ...repositories, WSL_Base: 'fedora-wsl' } });
    expect(
      withWsl.repositories
        .find((r) => r.repository === 'fedora-wsl')
        ?.images.map((i) => [i.composeArch, i.compression]),
    ).toEqual([['x86_64', 'xz']]);
  });

  it('Fedora 41 (type docker) publishes its containers; the GCE tarballs (docker, tar.gz) are not its subvariants', () => {
    const plan = planFor('fedora-41');
    expect(plan.manifestTags).toEqual(['41']);
    expect(archesOf(plan)).toEqual([
      ['fedora', ALL],
      ['fedora-minimal', ALL],
      ['fedora-toolbox', ALL],
    ]);
    const gce = planFor('fedora-41', { repositories: { Cloud_Base: 'fedora-cloud' } });
    expect(gce.repositories[0]?.images.map((i) => [i.composeArch, i.compression])).toEqual([
      ['x86_64', 'gzip'],
      ['aarch64', 'gzip'],
    ]);
  });

  it('Fedora 39 (type docker, archives without .oci in the name)', () => {
    const plan = planFor('fedora-39');
    expect(archesOf(plan)).toEqual([
      ['fedora', ALL],
      ['fedora-minimal', ALL],
      ['fedora-toolbox', []],
    ]);
    expect(plan.repositories[0]!.images[0]!.fileName).toBe('Fedora-Container-Base-39-1.5.x86_64.tar.xz');
  });

  it('refuses a compose whose selected images have only sha512, naming the entry and the Pungi setting', () => {
    const error = domainErrorOf(() => planFor('sha512-only'));
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toMatch(/payload\.images\.Container\.\w+\[\d\]\.checksums\.sha256 is missing/);
    expect(error.message).toContain('it lists only sha512');
    expect(error.message).toContain('media_checksums setting must include "sha256"');
  });

  it('does not care that entries it does not publish lack sha256', () => {
    expect(archesOf(planFor('no-sha256-elsewhere'))).toEqual([
      ['fedora', ALL],
      ['fedora-minimal', ALL],
      ['fedora-toolbox', ALL],
    ]);
  });

  it('reads productmd 2.0 with relative and with https locations', () => {
    const relative = planFor('fedora-43-v2-relative');
    expect(relative.repositories[0]!.images[0]!.location).toBe(
      `${ROOT}/Container/x86_64/images/Fedora-Container-Base-Generic-43-1.6.x86_64.oci.tar.xz`,
    );
    const https = planFor('fedora-43-v2-https');
    expect(https.repositories[0]!.images[0]!.location).toBe(
      'https://kojipkgs.fedoraproject.org/compose/43/Fedora-43-20251023.0/compose/Container/x86_64/images/Fedora-Container-Base-Generic-43-1.6.x86_64.oci.tar.xz',
    );
    const v1 = planFor('fedora-43');
    const shapes = (plan: typeof v1) =>
      plan.repositories.map((r) => r.images.map((i) => [i.ociArch, i.sha256, i.size, i.compression]));
    expect(shapes(relative)).toEqual(shapes(v1));
    expect(shapes(https)).toEqual(shapes(v1));
  });

  it('says why a configured repository gets nothing when its entries are not of a container type', () => {
    const plan = planFor('fedora-43', { selection: { types: ['docker'], ignoreArches: [] } });
    expect(plan.repositories.map((r) => [r.repository, r.images.length, r.skipped])).toEqual([
      [
        'fedora',
        0,
        ['Container_Base: 4 entries of type container skipped, not a container image type ([images] types: docker)'],
      ],
      [
        'fedora-minimal',
        0,
        [
          'Container_Minimal_Base: 4 entries of type container skipped, not a container image type ([images] types: docker)',
        ],
      ],
      [
        'fedora-toolbox',
        0,
        ['Container_Toolbox: 4 entries of type container skipped, not a container image type ([images] types: docker)'],
      ],
    ]);
  });

  it('leaves an ignored arch out, and says so', () => {
    const plan = planFor('fedora-43', { selection: { types: ['container'], ignoreArches: ['s390x'] } });
    expect(plan.repositories[0]).toMatchObject({
      images: [{ ociArch: 'amd64' }, { ociArch: 'arm64' }, { ociArch: 'ppc64le' }],
      skipped: [
        'Container_Base: 1 entry for arch s390x skipped, an arch the configuration leaves out ([images] ignore_arches)',
      ],
    });
  });
});
