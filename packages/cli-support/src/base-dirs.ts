import { homedir } from 'node:os';
import { join } from 'node:path';

// The XDG Base Directory variables the apps use, and each one's default below the home folder.
const BASE_DIRS = {
  config: { variable: 'XDG_CONFIG_HOME', fallback: ['.config'] },
  state: { variable: 'XDG_STATE_HOME', fallback: ['.local', 'state'] },
} as const;

/**
 * An XDG base directory: `$XDG_CONFIG_HOME` or `$XDG_STATE_HOME` when it is an absolute path
 * (the specification says a relative one is invalid and must be ignored), else its default
 * below the home folder (`~/.config`, `~/.local/state`).
 *
 * @example
 * baseDir('state', { XDG_STATE_HOME: '/var/lib/me' }); // '/var/lib/me'
 * baseDir('config', {}, '/home/ann'); // '/home/ann/.config'
 */
export function baseDir(
  kind: keyof typeof BASE_DIRS,
  env: Record<string, string | undefined> = process.env,
  home: string = homedir(),
): string {
  const { variable, fallback } = BASE_DIRS[kind];
  const value = env[variable];
  return value?.startsWith('/') ? value : join(home, ...fallback);
}
