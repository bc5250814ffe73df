import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byteLength,
  composeIndex,
  describeInstance,
  DOCKER_MANIFEST_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  type InstanceDescriptor,
} from '../../src/domain/compose-index.js';
import { COMPOSE_ID_ANNOTATION } from '../../src/domain/types.js';
import { domainErrorOf } from './helpers/domain-error.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const amd64: InstanceDescriptor = {
  digest: digest(1),
  mediaType: OCI_MANIFEST_MEDIA_TYPE,
  size: 491,
  platform: { architecture: 'amd64', os: 'linux' },
  composeId: 'Fedora-40-20240501.n.0',
};
const arm64: InstanceDescriptor = {
  digest: digest(2),
  mediaType: OCI_MANIFEST_MEDIA_TYPE,
  size: 492,
  platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
};

describe('composeIndex', () => {
  it('writes an OCI index with one descriptor per instance, in order, as buildah annotated it', () => {
    expect(JSON.parse(composeIndex([amd64, arm64]))).toEqual({
      schemaVersion: 2,
      mediaType: OCI_INDEX_MEDIA_TYPE,
      manifests: [
        {
          mediaType: OCI_MANIFEST_MEDIA_TYPE,
          digest: digest(1),
          size: 491,
          annotations: { [COMPOSE_ID_ANNOTATION]: 'Fedora-40-20240501.n.0' },
          platform: { architecture: 'amd64', os: 'linux' },
        },
        {
          mediaType: OCI_MANIFEST_MEDIA_TYPE,
          digest: digest(2),
          size: 492,
          platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
        },
      ],
    });
  });

  it('refuses what is not an index of images: none, a duplicate, a bad digest or size, a nested index', () => {
    expect(domainErrorOf(() => composeIndex([])).message).toMatch(/at least one instance/);
    expect(domainErrorOf(() => composeIndex([amd64, { ...arm64, digest: amd64.digest }])).message).toMatch(
      /listed twice/,
    );
    expect(domainErrorOf(() => composeIndex([{ ...amd64, digest: 'sha256:abc' }])).type).toBe('InvalidInput');
    expect(domainErrorOf(() => composeIndex([{ ...amd64, size: 0 }])).message).toMatch(/not a byte count/);
    expect(domainErrorOf(() => composeIndex([{ ...amd64, mediaType: OCI_INDEX_MEDIA_TYPE }])).message).toMatch(
      /lists image manifests/,
    );
    expect(
      domainErrorOf(() => composeIndex([{ ...amd64, platform: { architecture: '', os: 'linux' } }])).message,
    ).toMatch(/no platform/);
  });

  it('property: every instance round-trips, annotated iff it has a compose id, and the same input gives the same bytes', () => {
    const platform = fc.record(
      {
        architecture: fc.constantFrom('amd64', 'arm64', 'ppc64le', 's390x', 'riscv64'),
        os: fc.constant('linux'),
        variant: fc.constantFrom('v8', 'v7'),
      },
      { requiredKeys: ['architecture', 'os'] },
    );
    const instances = fc
      .uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 8 })
      .chain((ids) =>
        fc.tuple(
          ...ids.map((id) =>
            fc.record(
              {
                digest: fc.constant(digest(id)),
                mediaType: fc.constantFrom(OCI_MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE),
                size: fc.integer({ min: 1, max: 2 ** 31 }),
                platform,
                composeId: fc.stringMatching(/^Fedora-4[0-3]-2024\d{4}\.n\.\d$/),
              },
              { requiredKeys: ['digest', 'mediaType', 'size', 'platform'] },
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(instances, (list: InstanceDescriptor[]) => {
        const text = composeIndex(list);
        expect(composeIndex(list.map((i) => ({ ...i })))).toBe(text);
        const index = JSON.parse(text) as {
          schemaVersion: number;
          mediaType: string;
          manifests: Array<{
            mediaType: string;
            digest: string;
            size: number;
            annotations?: Record<string, string>;
            platform: { architecture: string; os: string; variant?: string };
          }>;
        };
        expect(index.schemaVersion).toBe(2);
        expect(index.mediaType).toBe(OCI_INDEX_MEDIA_TYPE);
        expect(index.manifests.map((m) => m.digest)).toEqual(list.map((i) => i.digest));
        index.manifests.forEach((m, n) => {
          const instance = list[n]!;
          expect(m.mediaType).toBe(instance.mediaType);
          expect(m.size).toBe(instance.size);
          expect(m.platform).toEqual(instance.platform);
          expect(m.annotations).toEqual(
            instance.composeId ? { [COMPOSE_ID_ANNOTATION]: instance.composeId } : undefined,
          );
        });
      }),
    );
  });
});

describe('describeInstance', () => {
  const ociManifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(9), size: 10 },
    layers: [],
  });

  it('takes the media type and byte size from the raw manifest and the platform from the config', () => {
    expect(
      describeInstance({
        digest: digest(1),
        rawManifest: ociManifest,
        platform: JSON.stringify({ architecture: 'arm64', os: 'linux', variant: 'v8', rootfs: {} }),
        composeId: 'Fedora-40-20240501.n.0',
      }),
    ).toEqual({
      digest: digest(1),
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      size: byteLength(ociManifest),
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      composeId: 'Fedora-40-20240501.n.0',
    });
  });

  it('counts bytes, not characters, and guesses the media type of a manifest without one from its config', () => {
    const raw = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json' },
      note: 'é',
    });
    const described = describeInstance({
      digest: digest(1),
      rawManifest: raw,
      platform: { architecture: 'amd64', os: 'linux' },
    });
    expect(described.size).toBe(raw.length + 1);
    expect(described.mediaType).toBe(DOCKER_MANIFEST_MEDIA_TYPE);
    expect(
      describeInstance({
        digest: digest(1),
        rawManifest: '{"schemaVersion":2}',
        platform: { architecture: 'amd64', os: 'linux' },
      }).mediaType,
    ).toBe(OCI_MANIFEST_MEDIA_TYPE);
  });

  it('refuses a nested index and a config without a platform', () => {
    expect(
      domainErrorOf(() => describeInstance({ digest: digest(1), rawManifest: '{"manifests":[]}', platform: '{}' }))
        .message,
    ).toMatch(/itself an index/);
    expect(
      domainErrorOf(() => describeInstance({ digest: digest(1), rawManifest: ociManifest, platform: '{"os":"linux"}' }))
        .message,
    ).toMatch(/no architecture and os/);
  });
});
