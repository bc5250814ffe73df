/** Why a file could not be read, in a user's words, from the error Node gave (ENOENT → "no such file"…). */
export function unreadableFileReason(error: unknown, permissionDenied = 'permission denied'): string {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return permissionDenied;
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? String(error);
}
