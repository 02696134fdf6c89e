/** What the program was doing with the path: reading a file, writing one, making a folder. */
export type FileUse = 'reading' | 'writing' | 'creating';

const DENIED = { reading: 'this user may not read it', writing: 'this user may not write there' };

// One vocabulary for every app's file errors; a code not listed keeps Node's message.
const REASONS: Record<FileUse, Record<string, string>> = {
  reading: {
    ENOENT: 'no such file',
    EACCES: DENIED.reading,
    EPERM: DENIED.reading,
    EISDIR: 'it is a folder',
  },
  writing: {
    ENOENT: 'its folder does not exist',
    EACCES: DENIED.writing,
    EPERM: DENIED.writing,
    EISDIR: 'it is a folder',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a file is in the way of its folder',
    ENOSPC: 'the disk is full',
    // A named pipe opened without blocking while nobody reads it (see openAppending), or a
    // socket, which open(2) cannot open.
    ENXIO: 'it is a named pipe no program is reading, or a socket',
  },
  creating: {
    // mkdir where nothing can be made (under /proc, a path through a dangling link).
    ENOENT: 'no folder can be made there',
    ENOTDIR: 'a file is in the way',
    EEXIST: 'a file is in the way',
    EACCES: DENIED.writing,
    EPERM: DENIED.writing,
    EROFS: 'the file system is read-only',
  },
};

/**
 * Why a file or folder could not be used, in words, for a one-line error: from the `fs`
 * error's code, else its own message.
 *
 * @example
 * try { openSync(file, 'a'); } catch (err) {
 *   console.error(`cannot open ${file}: ${fileErrorReason(err, 'writing')}`); // '... it is a folder'
 * }
 */
export function fileErrorReason(err: unknown, use: FileUse): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const reasons = REASONS[use];
  if (Object.hasOwn(reasons, code)) return reasons[code] as string;
  return err instanceof Error ? err.message : String(err);
}
