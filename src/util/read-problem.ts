/** A file that cannot be read, said in words a user acts on rather than an errno code. */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'not permitted to read it';
    case 'EISDIR':
      return 'a directory, not a file';
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
      return 'not valid gzip data';
    default:
      return code !== undefined ? `cannot read it (${code})` : `cannot read it (${String(err)})`;
  }
}
