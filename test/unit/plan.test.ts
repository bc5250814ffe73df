import { describe, expect, it } from 'vitest';
import { buildPlan, type BuildPlanInput } from '../../src/domain/plan.js';
import { parseImages } from '../../src/domain/productmd.js';
import type { ComposeImage, ComposeInfo } from '../../src/domain/types.js';
import { domainErrorOf } from './helpers/domain-error.js';

const FILE = '/srv/compose/metadata/images.json';
const ROOT = '/srv/compose';
const info: ComposeInfo = { composeId: 'Fedora-40-20240501.n.0', releaseShort: 'Fedora', releaseVersion: '40' };
const repositories = {
  Container_Base: 'fedora',
  Container_Minimal_Base: 'fedora-minimal',
  Container_Toolbox: 'fedora-toolbox',
};
const architectures = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' };

let counter = 0;
function image(subvariant: string, arch: string, overrides: Partial<ComposeImage> = {}): ComposeImage {
  counter += 1;
  const name = `Fedora-${subvariant.replaceAll('_', '-')}-Generic-40-20240501.n.0.${arch}.oci.tar.xz`;
  const jsonPath = `payload.images.Container.${arch}[${counter}]`;
  return {
    variant: 'Container',
    arch,
    subvariant,
    type: 'docker',
    format: 'tar.xz',
    fileName: name,
    location: `${ROOT}/Container/${arch}/images/${name}`,
    size: 1000 + counter,
    sha256: counter.toString(16).padStart(64, '0'),
    checksumAlgorithms: ['sha256'],
    origin: { file: FILE, jsonPath, locationPath: `${jsonPath}.path` },
    ...overrides,
  };
}

function input(images: ComposeImage[], overrides: Partial<BuildPlanInput> = {}): BuildPlanInput {
  return { info, images, repositories, architectures, releases: { latest: '40', rawhide: '41' }, ...overrides };
}

describe('buildPlan', () => {
  it('plans every configured repository, with the container images the compose built', () => {
    const base = ['s390x', 'x86_64', 'aarch64', 'ppc64le'].map((arch) => image('Container_Base', arch));
    const minimal = [image('Container_Minimal_Base', 'x86_64'), image('Container_Minimal_Base', 'aarch64')];
    const plan = buildPlan(input([...base, ...minimal]));

    expect(plan.composeId).toBe('Fedora-40-20240501.n.0');
    expect(plan.release).toBe('40');
    expect(plan.manifestTags).toEqual(['40', 'latest']);
    expect(
      plan.repositories.map((r) => [r.repository, r.subvariant, r.images.map((i) => `${i.ociArch}=${i.composeArch}`)]),
    ).toEqual([
      ['fedora', 'Container_Base', ['amd64=x86_64', 'arm64=aarch64', 'ppc64le=ppc64le', 's390x=s390x']],
      ['fedora-minimal', 'Container_Minimal_Base', ['amd64=x86_64', 'arm64=aarch64']],
      // Toolbox failed on every arch: absent from images.json, present in the plan with no images.
      ['fedora-toolbox', 'Container_Toolbox', []],
    ]);
  });

  it('carries each image as an artifact', () => {
    const x86 = image('Container_Base', 'x86_64');
    const plan = buildPlan(input([x86]));
    expect(plan.repositories[0]?.images).toEqual([
      {
        composeArch: 'x86_64',
        ociArch: 'amd64',
        location: x86.location,
        fileName: x86.fileName,
        size: x86.size,
        sha256: x86.sha256,
        compression: 'xz',
        entry: { variant: 'Container', subvariant: 'Container_Base' },
      },
    ]);
  });

  it('ignores unconfigured subvariants and non-container entries, even with unmapped arches or oci:// locations', () => {
    const plan = buildPlan(
      input([
        image('Container_Init', 'riscv64'),
        image('Container_Init', 'x86_64', { location: 'oci://quay.io/fedora/init:40' }),
        image('Container_Base', 'riscv64', { type: 'qcow2', format: 'qcow2' }),
        image('Cloud_Base', 'x86_64', { type: 'qcow2', format: 'qcow2', sha256: undefined }),
        image('Container_Base', 'x86_64'),
      ]),
    );
    expect(plan.repositories.flatMap((r) => r.images.map((i) => `${r.repository}:${i.ociArch}`))).toEqual([
      'fedora:amd64',
    ]);
  });

  it('fails on an unmapped arch of a selected image, naming the entry and the config line', () => {
    const riscv = image('Container_Base', 'riscv64');
    const error = domainErrorOf(() => buildPlan(input([image('Container_Base', 'x86_64'), riscv])));
    expect(error.type).toBe('UnmappedArchitecture');
    expect(error.message).toContain(`${FILE}: ${riscv.origin.jsonPath}`);
    expect(error.message).toContain('[architectures] riscv64 = "<OCI arch name>"');
  });

  it('fails on two images for the same repository and arch, naming both entries', () => {
    const first = image('Container_Base', 'x86_64');
    const second = image('Container_Base', 'x86_64');
    const error = domainErrorOf(() => buildPlan(input([first, image('Container_Base', 'aarch64'), second])));
    expect(error.type).toBe('DuplicateImage');
    expect(error.message).toContain(FILE);
    expect(error.message).toContain(first.origin.jsonPath);
    expect(error.message).toContain(second.origin.jsonPath);
    expect(error.message).toContain('fedora:40');
    expect(error.message).toContain('Fix:');
  });

  it('fails when two compose arches map to the same OCI arch', () => {
    const error = domainErrorOf(() =>
      buildPlan(
        input([image('Container_Base', 'x86_64'), image('Container_Base', 'x86_64_v2')], {
          architectures: { ...architectures, x86_64_v2: 'amd64' },
        }),
      ),
    );
    expect(error.type).toBe('DuplicateImage');
    expect(error.message).toContain('compose arches x86_64 and x86_64_v2');
    expect(error.message).toContain('[architectures]');
  });

  it('fails on a selected image stored as an oci:// reference', () => {
    const toolbox = image('Container_Toolbox', 'x86_64', {
      location: 'oci://quay.io/fedora/fedora-toolbox:40-x86_64@sha256:9f86',
      origin: {
        file: FILE,
        jsonPath: 'payload.images.Container.x86_64[3]',
        locationPath: 'payload.images.Container.x86_64[3].location.url',
      },
    });
    const error = domainErrorOf(() => buildPlan(input([toolbox])));
    expect(error.type).toBe('UnsupportedImageLocation');
    expect(error.message).toContain(
      `${FILE}: payload.images.Container.x86_64[3].location.url is "oci://quay.io/fedora/fedora-toolbox:40-x86_64@sha256:9f86"`,
    );
    expect(error.message).toContain('Fix:');
  });

  it('fails on a selected image without a sha256', () => {
    const error = domainErrorOf(() =>
      buildPlan(input([image('Container_Base', 'x86_64', { sha256: undefined, checksumAlgorithms: [] })])),
    );
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toContain('has no sha256 checksum (it lists no checksum)');
    expect(error.message).toContain('media_checksums setting must include "sha256"');
    expect(error.message).toContain(FILE);
  });

  it('publishes a Rawhide compose as the configured release', () => {
    const plan = buildPlan(
      input([image('Container_Base', 'x86_64')], {
        info: { ...info, composeId: 'Fedora-Rawhide-20240501.n.1', releaseVersion: 'Rawhide' },
      }),
    );
    expect(plan.release).toBe('41');
    expect(plan.manifestTags).toEqual(['41', 'rawhide']);
  });

  it('fails a Rawhide compose when [releases] rawhide is not configured', () => {
    const error = domainErrorOf(() =>
      buildPlan(
        input([], {
          info: { ...info, composeId: 'Fedora-Rawhide-20240501.n.1', releaseVersion: 'Rawhide' },
          releases: { latest: '40' },
        }),
      ),
    );
    expect(error.type).toBe('ReleaseNotConfigured');
    expect(error.message).toContain('[releases] rawhide');
  });

  it('fails on a compose id without the productmd shape', () => {
    expect(domainErrorOf(() => buildPlan(input([], { info: { ...info, composeId: 'latest' } }))).type).toBe(
      'InvalidComposeId',
    );
  });

  it('lets two subvariants feed one repository when only one of them is built (a renamed subvariant)', () => {
    const plan = buildPlan(
      input([image('Container_Base_New', 'x86_64')], {
        repositories: { Container_Base: 'fedora', Container_Base_New: 'fedora' },
      }),
    );
    expect(plan.repositories).toHaveLength(1);
    expect(plan.repositories[0]?.subvariant).toBe('Container_Base_New');
    expect(
      buildPlan(input([], { repositories: { Container_Base_New: 'fedora', Container_Base: 'fedora' } })).repositories[0]
        ?.subvariant,
    ).toBe('Container_Base');
  });

  it('fails when one repository would mix images of two subvariants', () => {
    const error = domainErrorOf(() =>
      buildPlan(
        input([image('Container_Base', 'x86_64'), image('Container_Base_New', 'aarch64')], {
          repositories: { Container_Base: 'fedora', Container_Base_New: 'fedora' },
        }),
      ),
    );
    expect(error.type).toBe('DuplicateImage');
    expect(error.message).toContain('Container_Base and Container_Base_New');
  });

  it('plans straight from a parsed images.json', () => {
    const sha = (n: number) => String(n).repeat(64);
    const entry = (arch: string, n: number) => ({
      arch,
      checksums: { sha256: sha(n) },
      format: 'tar.xz',
      path: `Container/${arch}/images/Fedora-Container-Base-Generic-40-20240501.n.0.${arch}.oci.tar.xz`,
      size: n,
      subvariant: 'Container_Base',
      type: 'docker',
    });
    const doc = {
      header: { type: 'productmd.images', version: '1.2' },
      payload: { images: { Container: { x86_64: [entry('x86_64', 1)], aarch64: [entry('aarch64', 2)] } } },
    };
    const plan = buildPlan(input(parseImages(doc, FILE, ROOT)));
    expect(plan.repositories[0]?.images.map((i) => [i.ociArch, i.location, i.sha256])).toEqual([
      [
        'amd64',
        `${ROOT}/Container/x86_64/images/Fedora-Container-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz`,
        sha(1),
      ],
      [
        'arm64',
        `${ROOT}/Container/aarch64/images/Fedora-Container-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz`,
        sha(2),
      ],
    ]);
  });
});
