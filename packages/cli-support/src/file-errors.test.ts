import { describe, expect, it } from 'vitest';
import { fileErrorReason } from './file-errors.ts';

const fsError = (code: string) =>
  Object.assign(new Error(`${code}: something, open '/x'`), { code });

describe('fileErrorReason', () => {
  it('says in words why a file could not be read, written or a folder made', () => {
    expect(fileErrorReason(fsError('ENOENT'), 'reading')).toBe('no such file');
    expect(fileErrorReason(fsError('ENOENT'), 'writing')).toBe('its folder does not exist');
    expect(fileErrorReason(fsError('EACCES'), 'reading')).toBe('this user may not read it');
    expect(fileErrorReason(fsError('EPERM'), 'writing')).toBe('this user may not write there');
    expect(fileErrorReason(fsError('EISDIR'), 'reading')).toBe('it is a folder');
    expect(fileErrorReason(fsError('EROFS'), 'writing')).toBe('the file system is read-only');
    expect(fileErrorReason(fsError('ENOTDIR'), 'creating')).toBe('a file is in the way');
    expect(fileErrorReason(fsError('EEXIST'), 'creating')).toBe('a file is in the way');
    expect(fileErrorReason(fsError('ENOENT'), 'creating')).toBe('no folder can be made there');
    expect(fileErrorReason(fsError('ENOTDIR'), 'writing')).toBe(
      'a file is in the way of its folder',
    );
    expect(fileErrorReason(fsError('ENOSPC'), 'writing')).toBe('the disk is full');
    expect(fileErrorReason(fsError('ENXIO'), 'writing')).toBe(
      'it is a named pipe no program is reading, or a socket',
    );
  });

  it("keeps Node's message for any other code, and copes with what is not an error", () => {
    expect(fileErrorReason(fsError('EMFILE'), 'reading')).toBe("EMFILE: something, open '/x'");
    expect(fileErrorReason(fsError('toString'), 'reading')).toBe("toString: something, open '/x'");
    expect(fileErrorReason('odd', 'writing')).toBe('odd');
    expect(fileErrorReason(undefined, 'writing')).toBe('undefined');
  });
});
