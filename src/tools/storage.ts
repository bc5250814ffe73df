/** Where buildah keeps its images. vfs works everywhere, including as root in containers and CI. */
export interface ContainerStorage {
  root: string;
  runroot: string;
}

export function storageArgs(storage: ContainerStorage): string[] {
  return ['--root', storage.root, '--runroot', storage.runroot, '--storage-driver', 'vfs'];
}
