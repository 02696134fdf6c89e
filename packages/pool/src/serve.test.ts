import { describe, expect, it } from 'vitest';
import { BadModuleError, NoSessionModuleError, NoTaskModuleError } from './errors.ts';
import { loadDefaultExport } from './serve.ts';

describe('loadDefaultExport', () => {
  it('returns the default export of a module', async () => {
    const echo = new URL('../test/fixtures/echo-session.ts', import.meta.url).href;
    expect(typeof (await loadDefaultExport(echo, 'session'))).toBe('function');
  });

  it('rejects a pool without the module with the code naming it', async () => {
    await expect(loadDefaultExport(undefined, 'session')).rejects.toThrow(NoSessionModuleError);
    await expect(loadDefaultExport(undefined, 'session')).rejects.toMatchObject({
      code: 'RTT_ERR_NO_SESSION_MODULE',
    });
    await expect(loadDefaultExport(undefined, 'task')).rejects.toThrow(NoTaskModuleError);
    await expect(loadDefaultExport(undefined, 'task')).rejects.toMatchObject({
      code: 'RTT_ERR_NO_TASK_MODULE',
    });
  });

  it('rejects a module that exports no function as default with RTT_ERR_BAD_MODULE', async () => {
    // node:path's default export is an object.
    await expect(loadDefaultExport('node:path', 'task')).rejects.toThrow(BadModuleError);
    await expect(loadDefaultExport('node:path', 'task')).rejects.toMatchObject({
      code: 'RTT_ERR_BAD_MODULE',
    });
  });

  it('rejects a module that cannot be imported with RTT_ERR_BAD_MODULE and the cause', async () => {
    const missing = new URL('../test/fixtures/no-such-module.ts', import.meta.url).href;
    const err = await loadDefaultExport(missing, 'session').catch((caught: unknown) => caught);
    expect(err).toBeInstanceOf(BadModuleError);
    expect(err).toMatchObject({ code: 'RTT_ERR_BAD_MODULE', cause: expect.any(Error) });
  });
});
