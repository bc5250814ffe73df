import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/domain/plan.js';
import { parseComposeInfo, parseImages } from '../../src/domain/productmd.js';
import type { ComposeImage } from '../../src/domain/types.js';
import { domainErrorOf } from './helpers/domain-error.js';

const INFO_FILE = 'https://kojipkgs.example.org/compose/40/Fedora-40-20240501.n.0/compose/metadata/composeinfo.json';
const IMAGES_FILE = '/srv/composes/Fedora-40-20240501.n.0/compose/metadata/images.json';
const HTTP_ROOT = 'https://kojipkgs.example.org/compose/40/Fedora-40-20240501.n.0/compose';
const LOCAL_ROOT = '/srv/composes/Fedora-40-20240501.n.0/compose';

const SHA_X86 = 'a3f1c0b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f';
const SHA_ARM = '0b1c2d3e4f5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const SHA_ISO = '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592';

function composeInfo(version: string, releaseVersion = '40', id = 'Fedora-40-20240501.n.0') {
  return {
    header: { type: 'productmd.composeinfo', version },
    payload: {
      compose: { date: id.split('-').at(-1)?.slice(0, 8), id, respin: 0, type: 'nightly' },
      release: { is_layered: false, name: 'Fedora', short: 'Fedora', type: 'ga', version: releaseVersion },
      variants: {
        Container: {
          arches: ['aarch64', 'x86_64'],
          id: 'Container',
          name: 'Container',
          type: 'variant',
          uid: 'Container',
        },
      },
    },
  };
}

const compose = { date: '20240501', id: 'Fedora-40-20240501.n.0', respin: 0, type: 'nightly' };

/** The plan of a parsed document: parsing is lenient, and the plan refuses what it would publish from a bad entry. */
function planOf(document: unknown) {
  return buildPlan({
    info: { composeId: compose.id, releaseShort: 'Fedora', releaseVersion: '40' },
    images: parseImages(document, IMAGES_FILE, LOCAL_ROOT),
    repositories: {
      Container_Base: 'fedora',
      Container_Minimal_Base: 'fedora-minimal',
      Container_Toolbox: 'fedora-toolbox',
    },
    architectures: { x86_64: 'amd64', aarch64: 'arm64' },
    releases: {},
  });
}

function containerV1(arch: string, subvariant: string, sha256: string, size: number) {
  return {
    arch,
    bootable: false,
    checksums: { sha256 },
    disc_count: 1,
    disc_number: 1,
    format: 'tar.xz',
    implant_md5: null,
    mtime: 1714560000,
    path: `Container/${arch}/images/Fedora-${subvariant.replace('Container_', 'Container-').replace('_', '-')}-Generic-40-20240501.n.0.${arch}.oci.tar.xz`,
    size,
    subvariant,
    type: 'docker',
    volume_id: null,
  };
}

function imagesV1() {
  return {
    header: { type: 'productmd.images', version: '1.2' },
    payload: {
      compose,
      images: {
        Container: {
          aarch64: [containerV1('aarch64', 'Container_Base', SHA_ARM, 48_234_496)],
          x86_64: [containerV1('x86_64', 'Container_Base', SHA_X86.toUpperCase(), 50_331_648)],
        },
        Everything: {
          x86_64: [
            {
              arch: 'x86_64',
              bootable: true,
              checksums: { md5: '5d41402abc4b2a76b9719d911017c592' },
              disc_count: 1,
              disc_number: 1,
              format: 'iso',
              implant_md5: '5d41402abc4b2a76b9719d911017c592',
              mtime: 1714560000,
              path: 'Everything/x86_64/iso/Fedora-Everything-netinst-x86_64-40-20240501.n.0.iso',
              size: 'unknown',
              type: 'boot',
              volume_id: 'Fedora-E-dvd-x86_64-40',
            },
          ],
        },
      },
    },
  };
}

function imagesV2() {
  return {
    header: { type: 'productmd.images', version: '2.0' },
    payload: {
      compose,
      images: {
        Cloud: {
          x86_64: [
            {
              arch: 'x86_64',
              bootable: false,
              format: 'qcow2',
              mtime: 1714560000,
              subvariant: 'Cloud_Base',
              type: 'qcow2',
              volume_id: null,
              location: {
                url: 'oci://quay.io/fedora/cloud:40-x86_64@sha256:3c4d',
                size: 512_000_000,
                checksum: `sha512:${'ab'.repeat(64)}`,
                local_path: 'Cloud/x86_64/images/Fedora-Cloud-Base-Generic-40-20240501.n.0.x86_64.qcow2',
              },
            },
          ],
        },
        Container: {
          aarch64: [
            {
              arch: 'aarch64',
              bootable: false,
              format: 'tar.xz',
              mtime: 1714560000,
              subvariant: 'Container_Minimal_Base',
              type: 'docker',
              volume_id: null,
              location: {
                url: 'https://cdn.example.org/pub/fedora/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz',
                size: 30_000_000,
                checksum: `sha256:${SHA_ARM}`,
                local_path:
                  'Container/aarch64/images/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz',
              },
            },
          ],
          x86_64: [
            {
              arch: 'x86_64',
              bootable: false,
              format: 'tar.xz',
              mtime: 1714560000,
              subvariant: 'Container_Minimal_Base',
              type: 'docker',
              volume_id: null,
              location: {
                url: 'Container/x86_64/images/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz',
                size: 31_000_000,
                checksum: `sha256:${SHA_X86}`,
                local_path:
                  'Container/x86_64/images/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz',
              },
            },
            {
              arch: 'x86_64',
              bootable: false,
              format: 'tar.xz',
              mtime: 1714560000,
              subvariant: 'Container_Toolbox',
              type: 'docker',
              volume_id: null,
              location: {
                url: 'oci://registry.example.org/fedora/toolbox:40-x86_64@sha256:9f86',
                size: 900_000_000,
                checksum: `sha256:${SHA_ISO}`,
                local_path: 'Container/x86_64/images/Fedora-Container-Toolbox-40-20240501.n.0.x86_64.oci.tar.xz',
              },
            },
          ],
        },
      },
    },
  };
}

/** Deep-copies a value and lets a test break one field of it. */
function edited<T>(value: T, edit: (copy: T) => void): unknown {
  const copy = structuredClone(value);
  edit(copy);
  return copy;
}

describe('parseComposeInfo', () => {
  it.each(['1.0', '1.2', '2.0'])('reads productmd %s composeinfo.json', (version) => {
    expect(parseComposeInfo(composeInfo(version), INFO_FILE)).toEqual({
      composeId: 'Fedora-40-20240501.n.0',
      releaseShort: 'Fedora',
      releaseVersion: '40',
    });
  });

  it('reads a Rawhide compose', () => {
    expect(parseComposeInfo(composeInfo('1.2', 'Rawhide', 'Fedora-Rawhide-20240501.n.1'), INFO_FILE)).toEqual({
      composeId: 'Fedora-Rawhide-20240501.n.1',
      releaseShort: 'Fedora',
      releaseVersion: 'Rawhide',
    });
  });

  it('names the file, the field and the fix when a field is missing', () => {
    const error = domainErrorOf(() =>
      parseComposeInfo(
        edited(composeInfo('1.2'), (c) => delete (c.payload.release as Partial<typeof c.payload.release>).version),
        INFO_FILE,
      ),
    );
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toContain(INFO_FILE);
    expect(error.message).toContain('payload.release.version is missing');
    expect(error.message).toContain('Fix:');
  });

  it('rejects a productmd version it does not read', () => {
    const error = domainErrorOf(() => parseComposeInfo(composeInfo('3.0'), INFO_FILE));
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toContain(`${INFO_FILE}: header.version is "3.0"`);
    expect(error.message).toContain('Fix: publish a compose whose metadata is productmd 1.x or 2.0');
  });

  it('rejects a document that is not an object', () => {
    const error = domainErrorOf(() => parseComposeInfo(null, INFO_FILE));
    expect(error.message).toContain(`${INFO_FILE}: (the top level) is null, expected an object`);
  });

  it('rejects a compose id without the productmd shape', () => {
    const error = domainErrorOf(() => parseComposeInfo(composeInfo('1.2', '40', 'Fedora-40-latest'), INFO_FILE));
    expect(error.type).toBe('InvalidComposeId');
    expect(error.message).toContain(`${INFO_FILE}: payload.compose.id "Fedora-40-latest"`);
    expect(error.message).toContain('<release>-<YYYYMMDD>[.n|.t|.ci|.d].<respin>');
    expect(error.message).toContain('Fix:');
  });
});

describe('parseImages, productmd 1.x', () => {
  it('reads container and other entries, resolving paths against an http compose root', () => {
    const images = parseImages(imagesV1(), IMAGES_FILE, `${HTTP_ROOT}/`);
    expect(images).toEqual<ComposeImage[]>([
      {
        variant: 'Container',
        arch: 'aarch64',
        subvariant: 'Container_Base',
        type: 'docker',
        format: 'tar.xz',
        fileName: 'Fedora-Container-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz',
        location: `${HTTP_ROOT}/Container/aarch64/images/Fedora-Container-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz`,
        size: 48_234_496,
        sha256: SHA_ARM,
        checksumAlgorithms: ['sha256'],
        origin: {
          file: IMAGES_FILE,
          jsonPath: 'payload.images.Container.aarch64[0]',
          locationPath: 'payload.images.Container.aarch64[0].path',
        },
      },
      {
        variant: 'Container',
        arch: 'x86_64',
        subvariant: 'Container_Base',
        type: 'docker',
        format: 'tar.xz',
        fileName: 'Fedora-Container-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz',
        location: `${HTTP_ROOT}/Container/x86_64/images/Fedora-Container-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz`,
        size: 50_331_648,
        sha256: SHA_X86,
        checksumAlgorithms: ['sha256'],
        origin: {
          file: IMAGES_FILE,
          jsonPath: 'payload.images.Container.x86_64[0]',
          locationPath: 'payload.images.Container.x86_64[0].path',
        },
      },
      {
        variant: 'Everything',
        arch: 'x86_64',
        subvariant: '',
        type: 'boot',
        format: 'iso',
        fileName: 'Fedora-Everything-netinst-x86_64-40-20240501.n.0.iso',
        location: `${HTTP_ROOT}/Everything/x86_64/iso/Fedora-Everything-netinst-x86_64-40-20240501.n.0.iso`,
        size: 'unknown',
        checksumAlgorithms: ['md5'],
        origin: {
          file: IMAGES_FILE,
          jsonPath: 'payload.images.Everything.x86_64[0]',
          locationPath: 'payload.images.Everything.x86_64[0].path',
        },
      },
    ]);
  });

  it('resolves paths against a local compose directory', () => {
    const [first] = parseImages(imagesV1(), IMAGES_FILE, LOCAL_ROOT);
    expect(first?.location).toBe(
      `${LOCAL_ROOT}/Container/aarch64/images/Fedora-Container-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz`,
    );
  });

  it('reads an entry without sha256, and refuses it once selected, naming the file, the JSON path and the Pungi fix', () => {
    const doc = edited(imagesV1(), (d) => {
      d.payload.images.Container.x86_64[0]!.checksums = { md5: '5d41402abc4b2a76b9719d911017c592' } as never;
    });
    expect(parseImages(doc, IMAGES_FILE, LOCAL_ROOT)[1]).toMatchObject({ checksumAlgorithms: ['md5'] });
    const error = domainErrorOf(() => planOf(doc));
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toContain(IMAGES_FILE);
    expect(error.message).toContain('payload.images.Container.x86_64[0].checksums.sha256 is missing');
    expect(error.message).toContain('it lists only md5');
    expect(error.message).toContain('media_checksums setting must include "sha256"');
  });

  it('refuses a selected image whose sha256 is not 64 hex digits', () => {
    const doc = edited(imagesV1(), (d) => {
      d.payload.images.Container.aarch64[0]!.checksums.sha256 = SHA_ARM.slice(1);
    });
    const error = domainErrorOf(() => planOf(doc));
    expect(error.message).toContain(
      `${IMAGES_FILE}: payload.images.Container.aarch64[0].checksums.sha256 is "${SHA_ARM.slice(1)}": must be the sha256 of the image file, 64 hex digits`,
    );
  });

  it('refuses a selected image without a size', () => {
    const doc = edited(imagesV1(), (d) => {
      d.payload.images.Container.aarch64[0]!.size = -1;
    });
    expect(domainErrorOf(() => planOf(doc)).message).toContain('payload.images.Container.aarch64[0].size is -1');
  });

  it('refuses a selected image whose path leaves the compose', () => {
    const doc = edited(imagesV1(), (d) => {
      d.payload.images.Container.aarch64[0]!.path = '../../../etc/shadow';
    });
    expect(parseImages(doc, IMAGES_FILE, LOCAL_ROOT)[0]?.location).toBeUndefined();
    const error = domainErrorOf(() => planOf(doc));
    expect(error.message).toContain(
      `${IMAGES_FILE}: payload.images.Container.aarch64[0].path names a file outside the compose`,
    );
    expect(error.message).toContain('Fix:');
  });

  it('reads a non-container entry without checksums or size', () => {
    const doc = edited(imagesV1(), (d) => {
      const iso = d.payload.images.Everything.x86_64[0] as { checksums?: unknown; size?: unknown };
      delete iso.checksums;
      delete iso.size;
    });
    const iso = parseImages(doc, IMAGES_FILE, LOCAL_ROOT)[2];
    expect(iso?.type).toBe('boot');
    expect(iso).not.toHaveProperty('sha256');
    expect(iso).not.toHaveProperty('size');
  });

  it('says which field is missing and which is not an integer on a selected entry', () => {
    const missing = edited(imagesV1(), (d) => {
      delete (d.payload.images.Container.x86_64[0] as { checksums?: unknown }).checksums;
    });
    expect(domainErrorOf(() => planOf(missing)).message).toContain(
      `${IMAGES_FILE}: payload.images.Container.x86_64[0].checksums.sha256 is missing`,
    );
    const fractional = edited(imagesV1(), (d) => {
      d.payload.images.Container.x86_64[0]!.size = 1.5;
    });
    expect(domainErrorOf(() => planOf(fractional)).message).toContain(
      "payload.images.Container.x86_64[0].size is 1.5, expected the image file's size in bytes",
    );
  });

  it('requires the common fields on every entry', () => {
    const doc = edited(imagesV1(), (d) => {
      delete (d.payload.images.Everything.x86_64[0] as { type?: string }).type;
    });
    expect(domainErrorOf(() => parseImages(doc, IMAGES_FILE, LOCAL_ROOT)).message).toContain(
      `${IMAGES_FILE}: payload.images.Everything.x86_64[0].type is missing (expected a string)`,
    );
  });

  it('rejects images that are not grouped by variant and arch', () => {
    const doc = edited(imagesV1(), (d) => {
      (d.payload.images as Record<string, unknown>).Container = [];
    });
    expect(domainErrorOf(() => parseImages(doc, IMAGES_FILE, LOCAL_ROOT)).message).toContain(
      'payload.images.Container is an array, expected an object',
    );
  });

  it('rejects a compose root that is neither a URL nor an absolute path', () => {
    expect(domainErrorOf(() => parseImages(imagesV1(), IMAGES_FILE, 'compose')).type).toBe('UnsupportedImageLocation');
  });
});

describe('parseImages, productmd 2.0', () => {
  const images = () => parseImages(imagesV2(), IMAGES_FILE, LOCAL_ROOT);

  it('keeps https and oci:// URLs and resolves relative ones', () => {
    expect(images().map((image) => [image.subvariant, image.arch, image.location])).toEqual([
      ['Cloud_Base', 'x86_64', 'oci://quay.io/fedora/cloud:40-x86_64@sha256:3c4d'],
      [
        'Container_Minimal_Base',
        'aarch64',
        'https://cdn.example.org/pub/fedora/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.aarch64.oci.tar.xz',
      ],
      [
        'Container_Minimal_Base',
        'x86_64',
        `${LOCAL_ROOT}/Container/x86_64/images/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz`,
      ],
      ['Container_Toolbox', 'x86_64', 'oci://registry.example.org/fedora/toolbox:40-x86_64@sha256:9f86'],
    ]);
  });

  it('reads size and sha256 from the location and the file name from local_path', () => {
    expect(images()[2]).toEqual<ComposeImage>({
      variant: 'Container',
      arch: 'x86_64',
      subvariant: 'Container_Minimal_Base',
      type: 'docker',
      format: 'tar.xz',
      fileName: 'Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz',
      location: `${LOCAL_ROOT}/Container/x86_64/images/Fedora-Container-Minimal-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz`,
      size: 31_000_000,
      sha256: SHA_X86,
      checksumAlgorithms: ['sha256'],
      origin: {
        file: IMAGES_FILE,
        jsonPath: 'payload.images.Container.x86_64[0]',
        locationPath: 'payload.images.Container.x86_64[0].location.url',
      },
    });
    expect(images()[3]?.fileName).toBe('Fedora-Container-Toolbox-40-20240501.n.0.x86_64.oci.tar.xz');
  });

  it('reads a non-container entry leniently (sha512 checksum: no sha256)', () => {
    const [cloud] = images();
    expect(cloud?.sha256).toBeUndefined();
    expect(cloud?.size).toBe(512_000_000);
  });

  it('reads a non-container location without checksum or size', () => {
    const doc = edited(imagesV2(), (d) => {
      const location = d.payload.images.Cloud.x86_64[0]!.location as { checksum?: unknown; size?: unknown };
      delete location.checksum;
      delete location.size;
    });
    const [cloud] = parseImages(doc, IMAGES_FILE, LOCAL_ROOT);
    expect(cloud?.location).toBe('oci://quay.io/fedora/cloud:40-x86_64@sha256:3c4d');
    expect(cloud).not.toHaveProperty('sha256');
    expect(cloud).not.toHaveProperty('size');
  });

  it('refuses a selected image whose only checksum is not sha256, naming the file, the JSON path and the fix', () => {
    const doc = edited(imagesV2(), (d) => {
      d.payload.images.Container.x86_64[0]!.location.checksum = `md5:${'0'.repeat(32)}`;
    });
    const error = domainErrorOf(() => planOf(doc));
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toContain(`${IMAGES_FILE}: payload.images.Container.x86_64[0].location.checksum is missing`);
    expect(error.message).toContain('it lists only md5');
    expect(error.message).toContain('Fix:');
  });

  it('requires location.url', () => {
    const doc = edited(imagesV2(), (d) => {
      delete (d.payload.images.Cloud.x86_64[0]!.location as { url?: string }).url;
    });
    expect(domainErrorOf(() => parseImages(doc, IMAGES_FILE, LOCAL_ROOT)).message).toContain(
      'payload.images.Cloud.x86_64[0].location.url is missing',
    );
  });

  it('does not read 1.x path fields in a 2.0 document', () => {
    const doc = {
      header: { type: 'productmd.images', version: '2.0' },
      payload: { images: { Container: { x86_64: [containerV1('x86_64', 'Container_Base', SHA_X86, 1)] } } },
    };
    expect(domainErrorOf(() => parseImages(doc, IMAGES_FILE, LOCAL_ROOT)).message).toContain(
      'payload.images.Container.x86_64[0].location is missing',
    );
  });
});

describe('parseImages round trip (property)', () => {
  const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
  const entry = fc.record({
    subvariant: fc.constantFrom('Container_Base', 'Container_Minimal_Base', 'Container_Toolbox', 'Cloud_Base', ''),
    type: fc.constantFrom('docker', 'qcow2', 'dvd', 'raw-xz'),
    format: fc.constantFrom('tar.xz', 'qcow2', 'iso', 'raw.xz'),
    name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/),
    size: fc.nat(),
    sha256: hex64,
    upperCase: fc.boolean(),
    https: fc.boolean(),
  });
  const tree = fc.dictionary(
    fc.constantFrom('Container', 'Cloud', 'Everything', 'Server'),
    fc.dictionary(fc.constantFrom('x86_64', 'aarch64', 'ppc64le', 's390x'), fc.array(entry, { maxLength: 3 })),
  );
  const root = fc.constantFrom(HTTP_ROOT, `${HTTP_ROOT}/`, LOCAL_ROOT, `${LOCAL_ROOT}//`);

  type Tree = typeof tree extends fc.Arbitrary<infer T> ? T : never;
  type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

  function documentOf(version: '1.1' | '2.0', images: Tree): unknown {
    const toEntry = (arch: string, variant: string, e: Entry) => {
      const path = `${variant}/${arch}/images/${e.name}`;
      const common = {
        arch,
        bootable: false,
        format: e.format,
        mtime: 1714560000,
        subvariant: e.subvariant,
        type: e.type,
        volume_id: null,
      };
      const sha256 = e.upperCase ? e.sha256.toUpperCase() : e.sha256;
      if (version === '1.1') return { ...common, path, size: e.size, checksums: { sha256 } };
      return {
        ...common,
        location: {
          url: e.https ? `https://cdn.example.org/${path}` : path,
          size: e.size,
          checksum: `sha256:${sha256}`,
          local_path: path,
        },
      };
    };
    const payloadImages = Object.fromEntries(
      Object.entries(images).map(([variant, arches]) => [
        variant,
        Object.fromEntries(
          Object.entries(arches).map(([arch, entries]) => [arch, entries.map((e) => toEntry(arch, variant, e))]),
        ),
      ]),
    );
    return JSON.parse(
      JSON.stringify({ header: { type: 'productmd.images', version }, payload: { compose, images: payloadImages } }),
    ) as unknown;
  }

  function expected(version: '1.1' | '2.0', images: Tree, composeRoot: string): ComposeImage[] {
    const base = composeRoot.replace(/\/+$/, '');
    return Object.entries(images).flatMap(([variant, arches]) =>
      Object.entries(arches).flatMap(([arch, entries]) =>
        entries.map((e, index): ComposeImage => {
          const path = `${variant}/${arch}/images/${e.name}`;
          const jsonPath = `payload.images.${variant}.${arch}[${index}]`;
          return {
            variant,
            arch,
            subvariant: e.subvariant,
            type: e.type,
            format: e.format,
            fileName: e.name,
            location: version === '2.0' && e.https ? `https://cdn.example.org/${path}` : `${base}/${path}`,
            size: e.size,
            sha256: e.sha256,
            checksumAlgorithms: ['sha256'],
            origin: {
              file: IMAGES_FILE,
              jsonPath,
              locationPath: `${jsonPath}.${version === '1.1' ? 'path' : 'location.url'}`,
            },
          };
        }),
      ),
    );
  }

  it.each(['1.1', '2.0'] as const)(
    'parses generated productmd %s documents to the images they were made from',
    (version) => {
      fc.assert(
        fc.property(tree, root, (images, composeRoot) => {
          expect(parseImages(documentOf(version, images), IMAGES_FILE, composeRoot)).toStrictEqual(
            expected(version, images, composeRoot),
          );
        }),
      );
    },
  );

  it('reads the same images from a 1.x and a 2.0 document of the same compose', () => {
    fc.assert(
      fc.property(tree, root, (images, composeRoot) => {
        const withoutHttps = Object.fromEntries(
          Object.entries(images).map(([v, a]) => [
            v,
            Object.fromEntries(Object.entries(a).map(([arch, es]) => [arch, es.map((e) => ({ ...e, https: false }))])),
          ]),
        );
        const strip = (list: ComposeImage[]) => list.map(({ origin: _origin, ...rest }) => rest);
        expect(strip(parseImages(documentOf('2.0', withoutHttps), IMAGES_FILE, composeRoot))).toStrictEqual(
          strip(parseImages(documentOf('1.1', withoutHttps), IMAGES_FILE, composeRoot)),
        );
      }),
    );
  });
});
