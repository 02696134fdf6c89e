import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NoSensorError } from './errors.ts';
import { findSensor, openTemperatureSource, simulatedSensor } from './temperature.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fake sysfs tree: `files` maps relative paths to contents. */
function sysfs(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rtt-sysfs-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('temperature sources', () => {
  it('reads the first thermal zone, in millidegrees', () => {
    const root = sysfs({ 'thermal/thermal_zone0/temp': '47500\n' });
    const source = openTemperatureSource('auto', [join(root, 'thermal')]);
    expect(source.simulated).toBe(false);
    expect(source.read()).toEqual({ celsius: 47.5, simulated: false });
  });

  it('finds hwmon inputs and skips broken readings', () => {
    const root = sysfs({
      'hwmon/hwmon0/temp1_input': 'garbage',
      'hwmon/hwmon1/temp2_input': '38000',
    });
    expect(findSensor([join(root, 'hwmon')])).toBe(join(root, 'hwmon/hwmon1/temp2_input'));
  });

  it('falls back to a simulated sensor with auto, and says so', () => {
    const source = openTemperatureSource('auto', ['/nonexistent']);
    expect(source.description).toBe('simulated');
    expect(source.read().simulated).toBe(true);
  });

  it('refuses `sensor` where there is none', () => {
    expect(() => openTemperatureSource('sensor', ['/nonexistent'])).toThrow(NoSensorError);
    expect(() => openTemperatureSource('sensor', ['/nonexistent'])).toThrow(
      expect.objectContaining({ code: 'RTT_ERR_NO_SENSOR' }),
    );
  });

  it('simulates a slow walk that stays in a room-like range', () => {
    let i = 0;
    const source = simulatedSensor(21, () => (i++ % 2 === 0 ? 1 : 0.9));
    const readings = Array.from({ length: 500 }, () => source.read().celsius);
    expect(Math.min(...readings)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...readings)).toBeLessThanOrEqual(35);
    for (let k = 1; k < readings.length; k += 1) {
      expect(Math.abs((readings[k] ?? 0) - (readings[k - 1] ?? 0))).toBeLessThanOrEqual(0.3);
    }
  });
});
