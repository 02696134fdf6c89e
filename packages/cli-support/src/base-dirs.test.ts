import { describe, expect, it } from 'vitest';
import { baseDir } from './base-dirs.ts';

describe('baseDir', () => {
  it('takes an absolute XDG variable, else the default below the home folder', () => {
    expect(baseDir('state', { XDG_STATE_HOME: '/var/lib/me' }, '/home/ann')).toBe('/var/lib/me');
    expect(baseDir('state', {}, '/home/ann')).toBe('/home/ann/.local/state');
    expect(baseDir('config', { XDG_CONFIG_HOME: '/cfg' }, '/home/ann')).toBe('/cfg');
    expect(baseDir('config', {}, '/home/ann')).toBe('/home/ann/.config');
  });

  it('ignores a relative value, as the specification says', () => {
    expect(baseDir('config', { XDG_CONFIG_HOME: 'cfg' }, '/home/ann')).toBe('/home/ann/.config');
    expect(baseDir('state', { XDG_STATE_HOME: '' }, '/home/ann')).toBe('/home/ann/.local/state');
  });
});
