import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'productmd');

interface ImagesEntry {
  arch: string;
  subvariant: string;
  type: string;
  path: string;
  size: number;
  checksums: Record<string, string>;
}
type ImagesDocument = { payload: { images: Record<string, Record<string, ImagesEntry[]>> } };

export interface FedoraCompose {
  /** The compose's top directory, e.g. …/Fedora-43-20251023.0 (its metadata is under compose/metadata). */
  top: string;
  /** The directory holding metadata/. */
  root: string;
  composeId: string;
}

/**
 * Lays out a compose from a committed productmd fixture (test/fixtures/productmd/<name>), Fedora's metadata as
 * productmd writes it, with real files for the entries `fileFor` returns one for: each is copied to the entry's
 * path and the entry's size and checksums are rewritten to match. Everything else stays as productmd wrote it.
 */
export function layOutFedoraCompose(
  fixture: string,
  dir: string,
  fileFor: (entry: { variant: string; arch: string; subvariant: string; type: string }) => string | undefined,
): FedoraCompose {
  const info = JSON.parse(readFileSync(join(FIXTURES, fixture, 'composeinfo.json'), 'utf8')) as {
    payload: { compose: { id: string } };
  };
  const images = JSON.parse(readFileSync(join(FIXTURES, fixture, 'images.json'), 'utf8')) as ImagesDocument;
  const composeId = info.payload.compose.id;
  const top = join(dir, composeId);
  const root = join(top, 'compose');
  for (const [variant, arches] of Object.entries(images.payload.images)) {
    for (const entries of Object.values(arches)) {
      for (const entry of entries) {
        const file = fileFor({ variant, arch: entry.arch, subvariant: entry.subvariant, type: entry.type });
        if (!file) continue;
        const target = join(root, entry.path);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(file, target);
        const bytes = readFileSync(target);
        entry.size = bytes.length;
        for (const algorithm of Object.keys(entry.checksums))
          entry.checksums[algorithm] = createHash(algorithm).update(bytes).digest('hex');
      }
    }
  }
  mkdirSync(join(root, 'metadata'), { recursive: true });
  copyFileSync(join(FIXTURES, fixture, 'composeinfo.json'), join(root, 'metadata', 'composeinfo.json'));
  writeFileSync(join(root, 'metadata', 'images.json'), JSON.stringify(images, null, 4));
  return { top, root, composeId };
}
